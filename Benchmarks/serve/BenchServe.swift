// bench-serve: 4-second fMP4 segments (720p at about 2.5 Mb/s, ~1.2 MB each) served by
// VideoStackHTTP's MediaDelivery over a FileBlobStore, against nginx (sendfile on) serving the same
// directory, both on loopback in the same run, loaded by wrk.
//
// Prints `RATIO serve_segments <ours req/s / nginx req/s>` (medians of alternating rounds of
// `wrk -t2 -c256 -d10s --latency`, p99 for both), then holds 5,000 concurrent keep-alive
// connections against each (`wrk -c5000`, the file-descriptor limit raised first) and prints how
// many requests were served without error and the p99 for both.
//
// Then `RATIO api_get_video <ours / ceiling>`: `GET /api/v1/videos/{id}` of VideoStackAPI over a
// real Platform (SQLite in bench-data/serve/platform), against a route on the same server that
// returns a fixed JSON body of the same size (the framework's own ceiling), medians of
// alternating `wrk -t2 -c64` rounds.
//
// Environment: BENCH_SERVE_ROUNDS (default 3), BENCH_SERVE_SECONDS (per wrk run, default 10),
// BENCH_SERVE_CONNECTIONS (default 5000), BENCH_SERVE_HOLD_KEY (the key the hold asks for;
// default the VOD playlist), BENCH_SERVE_ONLY=ours|nginx|api (profiling aids; ROUNDS=0 skips to
// the hold; api runs only the API round).

import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import VideoCore
import VideoPlatform
import VideoStackHTTP
#if canImport(Glibc)
import Glibc
#endif

@main
struct BenchServe {
    static let environment = ProcessInfo.processInfo.environment
    static let rounds = Int(environment["BENCH_SERVE_ROUNDS"] ?? "") ?? 3
    static let seconds = Int(environment["BENCH_SERVE_SECONDS"] ?? "") ?? 10
    static let holdConnections = Int(environment["BENCH_SERVE_CONNECTIONS"] ?? "") ?? 5000
    static let segmentCount = 6

    static func main() async throws {
        try raiseFileLimit(to: 65_536)
        let work = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("bench-data/serve")
        let root = work.appendingPathComponent("blobs")
        let keys = try await makeMedia(root: root)
        let store = try FileBlobStore(root: root)

        var logger = Logger(label: "bench-serve")
        logger.logLevel = .error
        let router = Router(context: VideoStackRequestContext.self)
        MediaDelivery(blobs: store).addRoutes(to: router.group("media"))
        let apiTarget = try await APIRound.prepare(directory: work.appendingPathComponent("platform"), router: router, logger: logger)
        let ports = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil, backlog: 4096),
            onServerRunning: { channel in ports.continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        var portIterator = ports.stream.makeAsyncIterator()
        guard let ourPort = await portIterator.next(), ourPort > 0 else { throw VideoStackError(.internal, "our server did not start") }

        let nginx = try await NginxReference.start(root: root, directory: work.appendingPathComponent("nginx"))

        let segmentPaths = keys.segments.map { "/media/" + $0 }
        let script = work.appendingPathComponent("segments.lua")
        try WrkRun.writeScript(paths: segmentPaths, to: script)
        // Warm both: the page cache for nginx, the object cache for ours.
        for port in [ourPort, nginx.port] {
            _ = try WrkRun.run(port: port, threads: 1, connections: 4, seconds: 1, path: segmentPaths[0], script: script)
            _ = try WrkRun.run(port: port, threads: 1, connections: 4, seconds: 1, path: "/media/" + keys.playlist, script: nil)
        }

        let only = environment["BENCH_SERVE_ONLY"]
        if only == "api" {
            try await APIRound.run(port: ourPort, target: apiTarget, rounds: max(1, rounds), seconds: seconds)
            // nginx was started for the warm-up; left running, each profiling run leaked three processes.
            await nginx.stop()
            exit(0)
        }
        say("segments: \(keys.segments.count) x ~\(keys.segmentBytes / keys.segments.count / 1000) kB; wrk -t2 -c256 -d\(seconds)s --latency, \(rounds) alternating rounds")
        var ours: [WrkRun] = []
        var theirs: [WrkRun] = []
        for round in 0..<rounds {
            if only != "nginx" {
                let run = try WrkRun.run(port: ourPort, threads: 2, connections: 256, seconds: seconds, path: segmentPaths[0], script: script)
                ours.append(run)
                say("  round \(round + 1) ours:  \(run.summary)")
            }
            if only != "ours" {
                let run = try WrkRun.run(port: nginx.port, threads: 2, connections: 256, seconds: seconds, path: segmentPaths[0], script: script)
                theirs.append(run)
                say("  round \(round + 1) nginx: \(run.summary)")
            }
        }
        if !ours.isEmpty, !theirs.isEmpty {
            let ourRate = median(ours.map(\.requestsPerSecond))
            let nginxRate = median(theirs.map(\.requestsPerSecond))
            let ratio = ourRate / nginxRate
            say(String(
                format: "RATIO serve_segments %.2f (ours %.0f req/s p99 %.1f ms; nginx %.0f req/s p99 %.1f ms; medians of %d rounds, 256 connections, %d x %.2f MB fMP4 segments)",
                ratio, ourRate, median(ours.map(\.p99Milliseconds)), nginxRate, median(theirs.map(\.p99Milliseconds)),
                rounds, keys.segments.count, Double(keys.segmentBytes) / Double(keys.segments.count) / 1e6
            ))
        }

        try await APIRound.run(port: ourPort, target: apiTarget, rounds: max(1, rounds), seconds: seconds)

        // The hold: many idle-ish keep-alive connections, each asking for the (small) VOD
        // playlist, so the figure is about connections rather than bandwidth.
        let holdPath = "/media/" + (environment["BENCH_SERVE_HOLD_KEY"] ?? keys.playlist)
        say("hold: wrk -t2 -c\(holdConnections) -d\(seconds)s --timeout 10s on \(holdPath)")
        var holdLines: [String] = []
        if only != "nginx" {
            let run = try WrkRun.run(port: ourPort, threads: 2, connections: holdConnections, seconds: seconds, path: holdPath, script: nil, timeout: 10)
            holdLines.append("ours: \(run.holdSummary)")
        }
        if only != "ours" {
            let run = try WrkRun.run(port: nginx.port, threads: 2, connections: holdConnections, seconds: seconds, path: holdPath, script: nil, timeout: 10)
            holdLines.append("nginx: \(run.holdSummary)")
        }
        say("CONNECTIONS serve_hold_\(holdConnections) " + holdLines.joined(separator: " | "))
        await nginx.stop()
        // No graceful shutdown of our server: with thousands of connections just closed by wrk,
        // NIO 2.101 can trap in NIOAsyncWriter's deinit while the server is cancelled (seen
        // here). The measurements are done; the process exit closes every socket.
        _ = server
        exit(0)
    }

    /// Prints and flushes at once, so progress shows under `make` and nothing is lost if a
    /// server dies.
    static func say(_ text: String) {
        print(text)
        fflush(nil)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Raises this process's (and so its children's) open-file limit; 5,000 connections need
    /// 5,000 descriptors on each side.
    static func raiseFileLimit(to wanted: rlim_t) throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_max < wanted {
            var raised = limit
            raised.rlim_max = wanted
            raised.rlim_cur = wanted
            // Only root may raise the hard limit; otherwise go as far as it allows.
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return }
        }
        limit.rlim_cur = min(wanted, limit.rlim_max)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            throw VideoStackError(.io, "Cannot raise the open-file limit: \(String(cString: strerror(errno))).")
        }
        if limit.rlim_cur < rlim_t(holdConnections * 2 + 256) {
            say("warning: the open-file limit is \(limit.rlim_cur); the \(holdConnections)-connection hold may fail for lack of descriptors")
        }
    }

    struct Media {
        var segments: [String]
        var playlist: String
        var segmentBytes: Int
    }

    /// Makes (once; later runs reuse `bench-data/serve`) a 720p fMP4 HLS rendition with the
    /// ffmpeg CLI: 4-second segments at about 2.5 Mb/s. Grain keeps the encoder at its bit rate,
    /// as camera footage would.
    static func makeMedia(root: URL) async throws -> Media {
        let directory = root.appendingPathComponent("videos/bench/720p")
        let playlist = directory.appendingPathComponent("index.m3u8")
        func listing() throws -> Media {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".m4s") }.sorted()
            let bytes = try names.reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent($1).path)[.size] as? Int) ?? 0) }
            return Media(segments: names.map { "videos/bench/720p/" + $0 }, playlist: "videos/bench/720p/index.m3u8", segmentBytes: bytes)
        }
        if FileManager.default.fileExists(atPath: playlist.path), let media = try? listing(), media.segments.count == segmentCount {
            return media
        }
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        say("making \(segmentCount) x 4 s of 720p30 H.264 at 2.5 Mb/s as fMP4 HLS with the ffmpeg CLI…")
        let status = try runTool([
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
            "-t", String(segmentCount * 4), "-vf", "noise=alls=12:allf=t",
            "-c:v", "libx264", "-preset", "veryfast", "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k",
            "-g", "120", "-keyint_min", "120", "-sc_threshold", "0",
            "-f", "hls", "-hls_time", "4", "-hls_segment_type", "fmp4", "-hls_playlist_type", "vod",
            "-hls_segment_filename", directory.appendingPathComponent("seg_%05d.m4s").path, playlist.path,
        ])
        guard status == 0 else { throw VideoStackError(.internal, "ffmpeg failed making the benchmark media") }
        return try listing()
    }

    @discardableResult
    static func runTool(_ arguments: [String], output: URL? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let output {
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: output)
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// nginx serving `root` as static files under `/media/` on a free loopback port.
enum NginxReference {
    static func start(root: URL, directory: URL) async throws -> NginxProcess {
        try? FileManager.default.removeItem(at: directory)
        // As close to a production static-file setup as the comparison allows: sendfile, a
        // descriptor cache (ours keeps metadata too), no access log (ours logs nothing per
        // request), keep-alive without a request cap (ours has none), the same listen backlog.
        return try await NginxProcess(
            directory: directory,
            http: """
                access_log off;
                sendfile on;
                tcp_nopush on;
                keepalive_requests 100000000;
                keepalive_timeout 120s;
                open_file_cache max=1000 inactive=60s;
                types { application/vnd.apple.mpegurl m3u8; video/iso.segment m4s; video/mp4 mp4; }
                server {
                    listen 127.0.0.1:PORT backlog=4096;
                    location /media/ { alias \(root.path)/; add_header Cache-Control "public, max-age=31536000, immutable"; }
                }
            """,
            main: "worker_rlimit_nofile 65536;",
            workerProcesses: "auto",
            workerConnections: 16_384
        )
    }
}

/// One wrk run and what it reported.
struct WrkRun {
    var requests = 0
    var requestsPerSecond = 0.0
    var megabytesPerSecond = 0.0
    var p99Milliseconds = 0.0
    var connectErrors = 0
    var readErrors = 0
    var writeErrors = 0
    var timeouts = 0
    var non2xx = 0

    var errors: Int { readErrors + writeErrors + timeouts + non2xx }

    var summary: String {
        String(format: "%.0f req/s (%.0f MB/s), p99 %.1f ms, errors %d", requestsPerSecond, megabytesPerSecond, p99Milliseconds, errors + connectErrors)
    }

    var holdSummary: String {
        String(format: "%d requests served without error (%.0f req/s), p99 %.1f ms; connect errors %d, read %d, write %d, timeouts %d, non-2xx %d",
               max(0, requests - non2xx - readErrors - timeouts), requestsPerSecond, p99Milliseconds, connectErrors, readErrors, writeErrors, timeouts, non2xx)
    }

    /// A Lua script that cycles through `paths`, so every segment is asked for in turn.
    static func writeScript(paths: [String], to url: URL) throws {
        let list = paths.map { "\"\($0)\"" }.joined(separator: ", ")
        let script = """
        local paths = { \(list) }
        local counter = 0
        request = function()
            counter = counter + 1
            return wrk.format("GET", paths[(counter % #paths) + 1])
        end
        """
        try script.write(to: url, atomically: true, encoding: .utf8)
    }

    static func run(port: Int, threads: Int, connections: Int, seconds: Int, path: String, script: URL?, timeout: Int = 5) throws -> WrkRun {
        var arguments = ["wrk", "-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--timeout", "\(timeout)s", "--latency"]
        if let script { arguments += ["-s", script.path] }
        arguments.append("http://127.0.0.1:\(port)\(path)")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("wrk-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: output) }
        let status = try BenchServe.runTool(arguments, output: output)
        let text = try String(contentsOf: output, encoding: .utf8)
        guard status == 0 else { throw VideoStackError(.internal, "wrk failed (\(status)): \(text)") }
        return parse(text)
    }

    static func parse(_ text: String) -> WrkRun {
        var run = WrkRun()
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
            if line.hasPrefix("Requests/sec:"), let value = Double(fields.last ?? "") {
                run.requestsPerSecond = value
            } else if line.hasPrefix("Transfer/sec:"), let value = fields.last {
                run.megabytesPerSecond = megabytes(value)
            } else if line.hasPrefix("99%"), fields.count >= 2 {
                run.p99Milliseconds = milliseconds(fields[1])
            } else if line.contains("requests in"), let count = Int(fields.first ?? "") {
                run.requests = count
            } else if line.hasPrefix("Socket errors:") {
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                func value(_ name: String) -> Int {
                    guard let index = fields.firstIndex(of: name), index + 1 < fields.count else { return 0 }
                    return Int(fields[index + 1]) ?? 0
                }
                run.connectErrors = value("connect")
                run.readErrors = value("read")
                run.writeErrors = value("write")
                run.timeouts = value("timeout")
            } else if line.hasPrefix("Non-2xx or 3xx responses:"), let count = Int(fields.last ?? "") {
                run.non2xx = count
            }
        }
        return run
    }

    /// wrk's "1.23GB" / "456.7MB" / "12KB" per second, in MB (10^6 bytes: wrk's units are 2^10-based).
    static func megabytes(_ text: String) -> Double {
        for (suffix, scale) in [("GB", 1_073_741_824.0), ("MB", 1_048_576.0), ("KB", 1024.0), ("B", 1.0)] where text.hasSuffix(suffix) {
            return (Double(text.dropLast(suffix.count)) ?? 0) * scale / 1e6
        }
        return 0
    }

    static func milliseconds(_ text: String) -> Double {
        for (suffix, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] where text.hasSuffix(suffix) {
            return (Double(text.dropLast(suffix.count)) ?? 0) * scale
        }
        return Double(text) ?? 0
    }
}

/// The API round: one ready video served by VideoStackAPI, and the fixed-body ceiling.
enum APIRound {
    struct Target {
        var apiPath: String
        var referencePath: String
        /// What the reference route answers (set from the API's first answer).
        var body: ReferenceBody
    }

    final class ReferenceBody: Sendable {
        let bytes = Mutex<ByteBuffer>(ByteBuffer())
    }

    /// A fresh platform with one user and one ready public video, the API mounted on `router`,
    /// and a reference route answering the same JSON bytes from memory.
    static func prepare(directory: URL, router: Router<VideoStackRequestContext>, logger: Logger) async throws -> Target {
        try? FileManager.default.removeItem(at: directory)
        var configuration = PlatformConfiguration(dataDirectory: directory)
        configuration.roles = .api
        configuration.accounts.passwordHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 1)
        configuration.rateLimits = RateLimitConfiguration(perAddress: .perSecond(10_000_000, burst: 10_000_000),
                                                          perUser: .perSecond(10_000_000, burst: 10_000_000))
        let platform = try await Platform(configuration: configuration, logger: logger)
        _ = try await platform.accounts.signUp(username: "bench", email: "bench@example.com", password: "correct horse battery staple 42")
        let video = Video(owner: "bench", title: "A benchmark video with a title of typical length",
                          description: "Some description text, as uploaders write it: a sentence or two about the video.",
                          tags: ["bench", "api", "json"])
        try await platform.catalog.create(video)
        try await platform.catalog.transition(video.id, to: .processing, from: .uploading)
        let prefix = "videos/\(video.id)/"
        try await platform.catalog.transition(video.id, to: .ready, from: .processing, duration: .seconds(63),
                                              media: VideoMedia(playlist: prefix + "hls/master.m3u8", poster: prefix + "poster.jpg", storyboard: prefix + "storyboard.vtt"))
        let api = VideoStackAPI(platform: platform, configuration: APIConfiguration(), logger: logger)
        api.addRoutes(to: router)
        // The reference answers what the API answers for this video, byte for byte, with the
        // same content type; it is filled in after the first API answer.
        let body = ReferenceBody()
        router.get("reference/video") { _, _ in
            var fields = HTTPFields()
            fields[.contentType] = "application/json; charset=utf-8"
            fields[.cacheControl] = "no-store"
            return Response(status: .ok, headers: fields, body: .init(byteBuffer: body.bytes.withLock { $0 }))
        }
        return Target(apiPath: "/api/v1/videos/\(video.id)", referencePath: "/reference/video", body: body)
    }

    static func run(port: Int, target: Target, rounds: Int, seconds: Int) async throws {
        // Fetch the API's answer once and make it the reference body.
        let (data, _) = try await fetch("http://127.0.0.1:\(port)\(target.apiPath)")
        target.body.bytes.withLock { $0 = ByteBuffer(bytes: data) }
        let (check, _) = try await fetch("http://127.0.0.1:\(port)\(target.referencePath)")
        guard check == data, !data.isEmpty else { throw VideoStackError(.internal, "the reference route does not answer the API's bytes") }
        BenchServe.say("api: GET \(target.apiPath) (\(data.count) bytes of JSON) vs a fixed body of the same bytes; wrk -t2 -c64 -d\(seconds)s, \(rounds) alternating rounds")
        _ = try WrkRun.run(port: port, threads: 1, connections: 4, seconds: 1, path: target.apiPath, script: nil)
        var ours: [WrkRun] = []
        var ceiling: [WrkRun] = []
        for round in 0..<rounds {
            let api = try WrkRun.run(port: port, threads: 2, connections: 64, seconds: seconds, path: target.apiPath, script: nil)
            ours.append(api)
            BenchServe.say("  round \(round + 1) api:       \(api.summary)")
            let fixed = try WrkRun.run(port: port, threads: 2, connections: 64, seconds: seconds, path: target.referencePath, script: nil)
            ceiling.append(fixed)
            BenchServe.say("  round \(round + 1) reference: \(fixed.summary)")
        }
        let ourRate = BenchServe.median(ours.map(\.requestsPerSecond))
        let referenceRate = BenchServe.median(ceiling.map(\.requestsPerSecond))
        BenchServe.say(String(format: "RATIO api_get_video %.2f (api %.0f req/s p99 %.1f ms; fixed body %.0f req/s p99 %.1f ms; %d bytes, medians of %d rounds, 64 connections; errors %d/%d)",
                              ourRate / referenceRate, ourRate, BenchServe.median(ours.map(\.p99Milliseconds)), referenceRate,
                              BenchServe.median(ceiling.map(\.p99Milliseconds)), data.count, rounds,
                              ours.map(\.errors).reduce(0, +), ceiling.map(\.errors).reduce(0, +)))
    }

    static func fetch(_ url: String) async throws -> ([UInt8], Int) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("curl-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        let status = try BenchServe.runTool(["curl", "-sS", "-o", output.path, url])
        guard status == 0 else { throw VideoStackError(.internal, "curl \(url) failed (\(status))") }
        return (Array(try Data(contentsOf: output)), 200)
    }
}
