// bench-live: live ingest and packaging against the floor and against FFmpeg (issue 12).
//
// Prints:
// - listed-segment latency p50 and p99 over a 60 s real-time publish (FFmpeg encoding 720p30 H.264
//   with `-re`, 2-second segments, pass-through): the time from a segment's last frame arriving over
//   RTMP to the segment being listed in the live playlist. `RATIO live_latency_floor <floor / p99>`,
//   floor = segment + 1 s; above 1 meets it.
// - `RATIO live_streams <ours / FFmpeg>`: how many 720p30 streams one machine ingests and packages in
//   pass-through in real time. N publishers (`ffmpeg -re -i clip.flv -c copy -f flv`, a 720p30 clip
//   encoded once beforehand, so publishing costs almost nothing) send at once to our server, then to N
//   `ffmpeg -listen 1 -i rtmp://… -c copy -f hls` (an nginx-rtmp-like reference: one process per
//   stream). Each side's CPU time over the same wall time gives its CPU share per stream; capacity is
//   cores ÷ share. Our run counts as real time only if every stream's playlist holds the whole clip.
//
// BENCH_LIVE_SECONDS (default 60) sets the latency publish, BENCH_LIVE_STREAMS (default 8) the
// number of concurrent streams, BENCH_LIVE_CLIP (default 20) the concurrent clip length.
import Foundation
import Logging
import ServiceLifecycle
import VideoCore
import VideoPlatform
import VideoStackLive
#if canImport(Glibc)
import Glibc
#endif

let environment = ProcessInfo.processInfo.environment

func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    let index = min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded(.up)))
    return sorted[index]
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

/// Runs a command to its end; returns its exit status.
@discardableResult
func run(_ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

func start(_ arguments: [String], stderr: URL? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    if let stderr {
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: stderr)
    } else {
        process.standardError = FileHandle.nullDevice
    }
    try process.run()
    return process
}

func waitAll(_ processes: [Process]) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread {
            for process in processes { process.waitUntilExit() }
            continuation.resume()
        }.start()
    }
}

struct Bench {
    let work: URL
    let logger: Logger

    func withLive<T: Sendable>(segment: Duration, _ body: @Sendable (Platform, LiveStreaming, Int) async throws -> T) async throws -> T {
        let directory = work.appendingPathComponent("run-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = PlatformConfiguration(dataDirectory: directory.appendingPathComponent("data"))
        configuration.accounts.passwordHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 1)
        configuration.roles = [.api]
        let platform = try await Platform(configuration: configuration, logger: logger)
        defer { platform.close() }
        let live = try LiveStreaming(platform: platform, configuration: LiveConfiguration(
            rtmp: RTMPServerConfiguration(port: 0), segmentDuration: segment, window: 6, dvrWindow: .seconds(120),
            publishRecording: false, scratchDirectory: directory.appendingPathComponent("scratch")), logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform, live], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            let port = try await live.listeningPort()
            _ = try? await platform.accounts.signUp(username: "bench", email: "bench@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Bench")
            let result = try await body(platform, live, port)
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return result
        }
    }

    func latency(seconds: Int) async throws {
        let segment = Duration.seconds(2)
        let latencies = try await withLive(segment: segment) { _, live, port -> [Double] in
            let credentials = try await live.createStream(owner: "bench", title: "latency")
            let publisher = try start(["ffmpeg", "-nostdin", "-re", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=\(seconds)",
                                       "-re", "-f", "lavfi", "-i", "sine=duration=\(seconds)", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
                                       "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "flv", "rtmp://127.0.0.1:\(port)/live/\(credentials.streamKey)"])
            var last: [Duration] = []
            while publisher.isRunning {
                if let status = await live.status(of: credentials.videoID) { last = status.listingLatencies }
                try await Task.sleep(for: .milliseconds(200))
            }
            return last.map { $0 / .seconds(1) }
        }
        let p50 = percentile(latencies, 0.5), p99 = percentile(latencies, 0.99)
        let floor = segment / .seconds(1) + 1
        emit(String(format: "listed-segment latency over a %d s 720p30 publish, %d segments of 2 s: p50 %.3f s, p99 %.3f s, max %.3f s (floor %.1f s) [load %@]",
                    seconds, latencies.count, p50, p99, latencies.max() ?? .nan, floor, loadAverage()))
        emit(String(format: "RATIO live_latency_floor %.2f", floor / p99))
    }

    func makeClip(seconds: Int) throws -> URL {
        let clip = work.appendingPathComponent("clip-720p30-\(seconds)s.flv")
        if FileManager.default.fileExists(atPath: clip.path) { return clip }
        let status = try run(["ffmpeg", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=\(seconds)",
                              "-f", "lavfi", "-i", "sine=duration=\(seconds)", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "3000k",
                              "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-f", "flv", clip.path])
        guard status == 0 else { throw VideoStackError(.internal, "ffmpeg could not make the 720p clip") }
        return clip
    }

    func publishers(_ clip: URL, urls: [String]) throws -> [Process] {
        try urls.map { try start(["ffmpeg", "-nostdin", "-re", "-i", clip.path, "-c", "copy", "-f", "flv", $0]) }
    }

    func streams(count: Int, clipSeconds: Int) async throws {
        let clip = try makeClip(seconds: clipSeconds)
        let cores = Double(ProcessInfo.processInfo.activeProcessorCount)

        // Ours: one process, N streams.
        let ours = try await withLive(segment: .seconds(2)) { platform, live, port -> (cpu: Double, wall: Double, complete: Int, p99: Double) in
            var credentials: [LiveStreamCredentials] = []
            for index in 0..<count { credentials.append(try await live.createStream(owner: "bench", title: "stream \(index)")) }
            let cpuBefore = cpuSeconds(), started = ContinuousClock.now
            let processes = try publishers(clip, urls: credentials.map { "rtmp://127.0.0.1:\(port)/live/\($0.streamKey)" })
            var latencies: [Double] = []
            var statuses: [VideoID: LiveStreamStatus] = [:]
            while processes.contains(where: \.isRunning) {
                for item in credentials {
                    if let status = await live.status(of: item.videoID) { statuses[item.videoID] = status }
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            await waitAll(processes)
            let wall = (ContinuousClock.now - started) / .seconds(1)
            let cpu = cpuSeconds() - cpuBefore
            var complete = 0
            for item in credentials {
                latencies += (statuses[item.videoID]?.listingLatencies ?? []).map { $0 / .seconds(1) }
                // Wait for the end to be written, then check the whole clip is listed.
                var text = ""
                for _ in 0..<50 {
                    text = String(decoding: (try? await platform.blobs.get("videos/\(item.videoID)/live/source/dvr.m3u8")) ?? [], as: UTF8.self)
                    if text.contains("#EXT-X-ENDLIST") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                let listed = text.split(separator: "\n").filter { $0.hasPrefix("#EXTINF:") }
                    .compactMap { Double($0.dropFirst(8).split(separator: ",").first ?? "") }.reduce(0, +)
                if text.contains("#EXT-X-ENDLIST"), listed >= Double(clipSeconds) - 1 { complete += 1 }
            }
            return (cpu, wall, complete, percentile(latencies, 0.99))
        }

        // FFmpeg: one listening process per stream, copying into HLS.
        let reference = work.appendingPathComponent("reference-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: reference, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: reference) }
        var listeners: [Process] = []
        var ports: [Int] = []
        var timeFiles: [URL] = []
        for index in 0..<count {
            let port = 20000 + Int.random(in: 0..<20000)
            let out = reference.appendingPathComponent("s\(index)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let times = reference.appendingPathComponent("time-\(index).txt")
            timeFiles.append(times)
            listeners.append(try start(["/usr/bin/time", "-f", "%U %S", "-o", times.path, "ffmpeg", "-nostdin", "-listen", "1", "-i", "rtmp://127.0.0.1:\(port)/live/s",
                                        "-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_list_size", "6", out.appendingPathComponent("index.m3u8").path]))
            ports.append(port)
        }
        try await Task.sleep(for: .milliseconds(800))  // let the listeners bind
        let started = ContinuousClock.now
        let processes = try publishers(clip, urls: ports.map { "rtmp://127.0.0.1:\($0)/live/s" })
        await waitAll(processes + listeners)
        let wall = (ContinuousClock.now - started) / .seconds(1)
        var referenceCPU = 0.0
        for file in timeFiles {
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Double($0) }
            if parts.count >= 2 { referenceCPU += parts[parts.count - 2] + parts[parts.count - 1] }
        }

        let ourShare = ours.cpu / ours.wall / Double(count)
        let theirShare = referenceCPU / wall / Double(count)
        emit(String(format: "%d concurrent 720p30 streams (%d s clip, pass-through): ours %.1f%% of a core each (%d/%d streams complete, listing p99 %.3f s), FFmpeg -c copy -f hls %.1f%% each [load %@]",
                    count, clipSeconds, ourShare * 100, ours.complete, count, ours.p99, theirShare * 100, loadAverage()))
        let ourCapacity = ours.complete == count ? cores / ourShare : 0
        let theirCapacity = cores / theirShare
        emit(String(format: "capacity on %.0f cores: ours %.0f streams, FFmpeg %.0f streams", cores, ourCapacity, theirCapacity))
        emit(String(format: "RATIO live_streams %.2f", ourCapacity / theirCapacity))
    }
}

@main
enum BenchLive {
    static func main() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let logger = Logger(label: "bench-live")
        let work = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("bench-data/live")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let bench = Bench(work: work, logger: logger)
        let only = environment["BENCH_ONLY"]
        if only == nil || only == "latency" {
            try await bench.latency(seconds: Int(environment["BENCH_LIVE_SECONDS"] ?? "") ?? 60)
        }
        if only == nil || only == "streams" {
            try await bench.streams(count: Int(environment["BENCH_LIVE_STREAMS"] ?? "") ?? 8, clipSeconds: Int(environment["BENCH_LIVE_CLIP"] ?? "") ?? 20)
        }
    }
}
