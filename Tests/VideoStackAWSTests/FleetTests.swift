import Foundation
import Logging
import SearchIndex
import ServiceLifecycle
import SingleTableStore
import Synchronization
import Testing
import TestSupport
import VideoCore
import VideoPlatform
import VideoStackAWS
#if canImport(Glibc)
import Glibc
#endif

/// A fleet on one machine sharing one moto (DynamoDB + Streams, S3, SQS): two API nodes and
/// three worker processes (`fleet-node --role worker`, the example server's backend flags).
/// Thirty uploads go through both API nodes; one worker is killed with SIGKILL while it
/// transcodes. Every video ends `ready`, reaching it once (counted on the DynamoDB stream), every
/// job is completed, both nodes' search replicas find every video, and every media object in the
/// bucket is an upload's source or referenced by its video's playlists, poster or storyboard.
///
/// The API nodes run in this process on `Platform` (the services the HTTP server puts routes
/// on); the example server's `--role api` processes, over HTTP and tus, take their place once it
/// exists (see `Documentation/ScaleOut.md`).
@Suite("Fleet")
struct FleetTests {
    let logger: Logger = {
        var logger = Logger(label: "test.fleet")
        logger.logLevel = .warning
        return logger
    }()

    static let uploads = 30
    static let selection = BackendSelection(store: .dynamodb(table: "fleet"), blobs: .s3(bucket: "fleet-media"), queue: .sqs(queueName: "fleet-jobs"))
    static let flags = ["--store", "dynamodb", "--table", "fleet", "--blobs", "s3", "--bucket", "fleet-media", "--queue", "sqs", "--queue-name", "fleet-jobs"]
    static let words = ["harbour", "glacier", "orchard", "lantern", "meadow", "canyon", "violin", "comet", "falcon", "quarry",
                        "saffron", "tundra", "beacon", "cobalt", "dune", "ember", "fjord", "grove", "heron", "island",
                        "juniper", "kelp", "lagoon", "marble", "nebula", "oasis", "prism", "quill", "reef", "summit"]

    @Test func twoAPINodesAndThreeWorkersPublishEveryUploadOnceDespiteAKilledWorker() async throws {
        try await Emulator.moto.run { endpoint in
            try await withTemporaryDirectory(prefix: "fleet") { directory in
                var environment = ProcessInfo.processInfo.environment
                environment["AWS_ENDPOINT_URL"] = endpoint.absoluteString
                environment["AWS_REGION"] = Emulator.region
                environment["AWS_ACCESS_KEY_ID"] = Emulator.credentials.accessKeyID
                environment["AWS_SECRET_ACCESS_KEY"] = Emulator.credentials.secretAccessKey
                environment["AWS_SESSION_TOKEN"] = nil
                environment["AWS_PROFILE"] = nil
                environment["HOME"] = directory.path
                try await run(environment: environment, directory: directory)
            }
        }
    }

    func run(environment: [String: String], directory: URL) async throws {
        // The API nodes: each its own data directory (uploads in progress, search snapshot), all
        // on the same table, bucket and queue.
        var nodes: [Platform] = []
        for index in 0..<2 {
            let configuration = Self.apiConfiguration(directory.appendingPathComponent("api\(index)"))
            let backends = try await PlatformBackends.open(Self.selection, configuration: configuration, environment: environment, logger: logger)
            nodes.append(try await Platform(configuration: configuration, backends: backends, logger: logger))
        }
        defer { for node in nodes { node.close() } }
        let workers = try (0..<3).map { index in
            try FleetWorker(arguments: ["--data", directory.appendingPathComponent("worker\(index)").path, "--role", "worker"] + Self.flags,
                            environment: environment)
        }
        defer { for worker in workers { worker.stop() } }
        let clip = try await Self.clip(in: directory)
        let groups = nodes.map { ServiceGroup(configuration: ServiceGroupConfiguration(services: [$0], logger: logger)) }
        let ids = try await withThrowingTaskGroup(of: [VideoID]?.self) { tasks in
            for group in groups { tasks.addTask { try await group.run(); return nil } }
            let ids = try await exercise(nodes: nodes, workers: workers, clip: clip)
            for group in groups { await group.triggerGracefulShutdown() }
            for try await _ in tasks {}
            return ids
        }
        try await verify(ids, nodes: nodes, workers: workers, environment: environment)
    }

    /// Signs up, uploads through both nodes, kills a busy worker, waits for every video.
    func exercise(nodes: [Platform], workers: [FleetWorker], clip: [UInt8]) async throws -> [VideoID] {
        for worker in workers { try await worker.waitFor("READY") }
        _ = try await nodes[0].accounts.signUp(username: "fleet", email: "fleet@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Fleet")
        // Upload, and meanwhile kill a worker in the middle of a job: one that holds a lease it
        // has not finished, on a video whose transcode has started (progress or a first playlist).
        var ids: [VideoID] = []
        var killed: (worker: FleetWorker, video: VideoID)?
        var index = 0
        while killed == nil || index < Self.uploads {
            if index < Self.uploads {
                ids.append(try await Self.upload(clip, to: nodes[index % 2], title: "Fleet clip \(index) \(Self.words[index])"))
                index += 1
            }
            guard killed == nil else { continue }
            for worker in workers {
                guard let job = worker.openLeases.first, let video = try await Self.video(ofJob: job, in: nodes[0], among: ids),
                      let current = try await nodes[0].catalog.video(video), current.status == .processing,
                      (current.progress ?? 0) > 0 || current.media != nil
                else { continue }
                worker.kill()
                killed = (worker, video)
                break
            }
            if killed == nil, index == Self.uploads {
                let pending = try await Self.statuses(ids, in: nodes[0]).filter { $0 != .ready && $0 != .failed }.count
                #expect(pending > 0, "every video was published before a worker could be caught mid-job")
                if pending == 0 { return ids }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        // Every video reaches a final state.
        while true {
            let statuses = try await Self.statuses(ids, in: nodes[0])
            if statuses.allSatisfy({ $0 == .ready || $0 == .failed }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        // Both replicas catch up with the stream.
        for node in nodes {
            for (index, id) in ids.enumerated() {
                while try !node.searchVideos(SearchQuery(Self.words[index]), viewer: nil).hits.contains(where: { $0.id == id.description }) {
                    let video = try await node.catalog.video(id)
                    guard video?.status == .ready else { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
        }
        if let killed { #expect(killed.worker.wasKilled, "worker killed mid-job on \(killed.video)") }
        return ids
    }

    func verify(_ ids: [VideoID], nodes: [Platform], workers: [FleetWorker], environment: [String: String]) async throws {
        // Every video is ready.
        let videos = try await ids.asyncMap { try #require(try await nodes[1].catalog.video($0)) }
        for video in videos { #expect(video.status == .ready, "\(video.id): \(video.status) \(video.failureReason ?? "")") }
        #expect(workers.filter(\.wasKilled).count == 1)
        // ...and reached `ready` once: one change to ready per video item in the stream.
        let backends = try await PlatformBackends.open(Self.selection, configuration: Self.apiConfiguration(URL(fileURLWithPath: "/nonexistent")),
                                                        environment: environment, logger: logger)
        let store = try #require(backends.store as? DynamoDBItemStore)
        var readyTransitions: [String: Int] = [:]
        var cursor: ChangeCursor?
        while true {
            let changes = try await store.changes(after: cursor, limit: 500)
            guard let last = changes.last else { break }
            for change in changes {
                guard case .s(let pk)? = change.key["PK"], pk.hasPrefix("VIDEO#"),
                      change.newImage?["status"] == "ready", change.oldImage?["status"] != "ready" else { continue }
                readyTransitions[String(pk.dropFirst("VIDEO#".count)), default: 0] += 1
            }
            cursor = last.cursor
        }
        for id in ids { #expect(readyTransitions[id.description] == 1, "\(id) became ready \(readyTransitions[id.description] ?? 0) times") }
        // Every job was completed. SQS may deliver a job again (a lease that ran out under load, a
        // killed worker); a second run finds the video ready and does nothing, so a job can be
        // completed twice while its video became ready once (checked above).
        let completions = Set(workers.flatMap(\.completed))
        #expect(completions == Set(ids.map { "publish-\($0)" }))
        // Both nodes' search finds every video.
        for (index, node) in nodes.enumerated() {
            for (position, id) in ids.enumerated() {
                let hits = try node.searchVideos(SearchQuery(Self.words[position]), viewer: nil).hits.map(\.id)
                #expect(hits.contains(id.description), "node \(index) does not find \(id) by '\(Self.words[position])'")
            }
        }
        // No orphaned media: every object is an upload's source or referenced by its video's playlists.
        let objects = try await backends.blobs.listAll(prefix: "").map(\.key)
        var referenced = Set<String>()
        for video in videos {
            let media = try #require(video.media, "\(video.id) has no media")
            referenced.insert(media.playlist)
            if let poster = media.poster { referenced.insert(poster) }
            if let storyboard = media.storyboard {
                referenced.insert(storyboard)
                let vtt = String(decoding: try await backends.blobs.get(storyboard), as: UTF8.self)
                referenced.formUnion(Self.references(in: vtt, relativeTo: storyboard))
            }
            let master = String(decoding: try await backends.blobs.get(media.playlist), as: UTF8.self)
            for playlist in Self.references(in: master, relativeTo: media.playlist) {
                referenced.insert(playlist)
                let text = String(decoding: try await backends.blobs.get(playlist), as: UTF8.self)
                referenced.formUnion(Self.references(in: text, relativeTo: playlist))
            }
        }
        let sources = Set(ids.map { "uploads/\($0)/" })
        let orphans = objects.filter { key in !referenced.contains(key) && !sources.contains(where: { key.hasPrefix($0) }) }
        #expect(orphans.isEmpty, "objects no video references: \(orphans.prefix(20))")
        let missing = referenced.subtracting(objects)
        #expect(missing.isEmpty, "referenced but not stored: \(missing.prefix(20))")
        #expect(Set(objects.filter { $0.hasPrefix("uploads/") }.map { $0.split(separator: "/")[1] }).count == ids.count, "one source per video")
        backends.close()
    }

    // MARK: Helpers

    static func apiConfiguration(_ directory: URL) -> PlatformConfiguration {
        var configuration = PlatformConfiguration(dataDirectory: directory, roles: .api)
        configuration.ladder = Ladder(Array(Ladder.standard.renditions.suffix(2)))
        configuration.segmentDuration = .seconds(2)
        return configuration
    }

    /// An 8-second 480x270 H.264/AAC clip made by ffmpeg (through `ToolProcess`, which waits on a
    /// thread of its own, not on the cooperative pool the in-process API nodes need meanwhile).
    static func clip(in directory: URL) async throws -> [UInt8] {
        let url = directory.appendingPathComponent("clip.mp4")
        let made = try await ToolProcess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=480x270:rate=25:duration=8",
                                              "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=8",
                                              "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25", "-c:a", "aac", "-shortest", url.path])
        guard made.status == 0 else { throw VideoStackError(.io, "ffmpeg could not make the fleet clip") }
        return try [UInt8](Data(contentsOf: url))
    }

    /// Uploads through the node's tus service in three chunks; returns the video.
    static func upload(_ bytes: [UInt8], to node: Platform, title: String) async throws -> VideoID {
        let started = try await node.startUpload(owner: "fleet", length: Int64(bytes.count), metadata: ["filename": "clip.mp4", "title": title])
        var offset: Int64 = 0
        let chunk = bytes.count / 3 + 1
        while offset < bytes.count {
            let piece = Array(bytes[Int(offset)..<min(bytes.count, Int(offset) + chunk)])
            offset = try await node.uploads.append(started.upload.id, at: offset, bytes: piece).offset
        }
        return started.video
    }

    static func statuses(_ ids: [VideoID], in node: Platform) async throws -> [VideoStatus] {
        try await ids.asyncMap { try await node.catalog.video($0)?.status ?? .failed }
    }

    /// The video a publish job is for (its payload names it).
    static func video(ofJob job: String, in node: Platform, among ids: [VideoID]) async throws -> VideoID? {
        ids.first { job.contains($0.description) }
    }

    /// The URIs a playlist or WebVTT file names (not comments, not the WebVTT header and cue
    /// timings), resolved against the key of the file that names them.
    static func references(in text: String, relativeTo key: String) -> [String] {
        let base = key.split(separator: "/").dropLast().joined(separator: "/")
        var uris: [String] = []
        for line in text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("#") {
                // Tags name files in URI attributes: EXT-X-MAP, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF.
                var rest = line[...]
                while let start = rest.range(of: "URI=\""), let end = rest[start.upperBound...].firstIndex(of: "\"") {
                    uris.append(String(rest[start.upperBound..<end]))
                    rest = rest[rest.index(after: end)...]
                }
            } else if !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("WEBVTT"), !line.contains("-->"), line.contains(".") {
                uris.append(String(line.split(separator: "#").first ?? Substring(line)))
            }
        }
        return uris.filter { !$0.contains("://") && Int($0) == nil }.map { base.isEmpty ? $0 : base + "/" + $0 }
    }
}

/// A `fleet-node` child process and the lines it printed.
final class FleetWorker: @unchecked Sendable {
    // @unchecked Sendable: `process` is started in init and only signalled afterwards; the lines
    // are behind a mutex.
    let process: Process
    private final class Lines: Sendable {
        let mutex = Mutex<[String]>([])
    }
    private let lines = Lines()
    private let killedFlag = Atomic<Bool>(false)

    init(arguments: [String], environment: [String: String]) throws {
        process = Process()
        process.executableURL = try ChildProcess.executable("FleetNode")
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let handle = output.fileHandleForReading
        let lines = self.lines
        Thread {
            var pending = ""
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending += String(decoding: data, as: UTF8.self)
                while let newline = pending.firstIndex(of: "\n") {
                    let line = String(pending[..<newline])
                    pending = String(pending[pending.index(after: newline)...])
                    lines.mutex.withLock { $0.append(line) }
                }
            }
        }.start()
    }

    var printed: [String] { lines.mutex.withLock { $0 } }
    var wasKilled: Bool { killedFlag.load(ordering: .relaxed) }
    var completed: [String] { printed.filter { $0.hasPrefix("COMPLETED ") }.map { String($0.dropFirst(10)) } }

    /// Jobs leased and not finished, in lease order.
    var openLeases: [String] {
        var open: [String] = []
        for line in printed {
            if line.hasPrefix("LEASED ") { open.append(String(line.dropFirst(7))) }
            for prefix in ["COMPLETED ", "FAILED "] where line.hasPrefix(prefix) {
                let job = line.dropFirst(prefix.count).split(separator: " ").first.map(String.init) ?? ""
                open.removeAll { $0 == job }
            }
        }
        return open
    }

    func waitFor(_ line: String) async throws {
        while !printed.contains(line) {
            guard process.isRunning else { throw VideoStackError(.io, "fleet-node exited (\(process.terminationStatus)) before printing \(line)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func kill() {
        killedFlag.store(true, ordering: .relaxed)
        Glibc.kill(process.processIdentifier, SIGKILL)
    }

    /// Asks the node to stop (SIGTERM), and kills it if it has not within ten seconds.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<200 where process.isRunning { usleep(50_000) }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
