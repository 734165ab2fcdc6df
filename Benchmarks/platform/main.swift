// bench-platform: the whole platform against its own parts, measured in the same run (issue 10).
//
// Prints:
// - `RATIO publish_overhead <reference / platform>`: a 60 s 1080p30 clip (made with the ffmpeg CLI:
//   test pattern with temporal noise, a tone, H.264/AAC) uploaded through tus; the platform is timed
//   from the return of the last PATCH to the video being `ready`, the reference is `Transcoder` +
//   `HLSSink` into a FileBlobStore on the same file with the platform's own ladder, segment length, opening segments and
//   TranscodeConfiguration. Above 0.9 means the saga adds at most a tenth.
// - `RATIO first_playable <(segment + 2 s) / measured>`: from the same upload, the seconds until the
//   EVENT playlist is playable (the video records `media.playlist`, and master.m3u8 plus the first
//   segment of every rendition it lists are in the blob store). Above 1 meets the floor.
// - `RATIO hot_views <one video / 16 videos>`: views per second through `ViewCounter.record` from 16
//   tasks on one video against 16 tasks on 16 videos, distinct viewers, alternating rounds, medians.
// - `RATIO job_throughput <jobs/s ÷ transactions/s>`: 2,000 empty jobs drained by `JobWorkers`
//   (concurrency 8) from a `StoreJobQueue` on a fresh store, beside 2-put `transactWrite`s from 8 tasks
//   on a fresh store of the same kind.
//
// A 60 s 1080p ladder takes minutes on two cores, so the publish comparison runs one round per side
// by default (BENCH_PUBLISH_ROUNDS alternates more). BENCH_ONLY=publish|views|jobs runs one part;
// BENCH_PLATFORM_SECONDS shortens the clip for trying things out (the figures reported use 60).
import Foundation
import HLSPackager
import Logging
import ServiceLifecycle
import SingleTableStore
import Synchronization
import TranscodePipeline
import VideoCore
import VideoPlatform
#if canImport(Glibc)
import Glibc
#endif

let environment = ProcessInfo.processInfo.environment
let clipSeconds = Int(environment["BENCH_PLATFORM_SECONDS"] ?? "") ?? 60
let publishRounds = max(1, Int(environment["BENCH_PUBLISH_ROUNDS"] ?? "") ?? 1)
let only = environment["BENCH_ONLY"]
func enabled(_ part: String) -> Bool { only == nil || only == part }

/// Writes a line at once (`print` buffers until exit when stdout is a pipe).
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func seconds(_ duration: Duration) -> Double { duration / .seconds(1) }

/// Warnings and errors to stderr, for this benchmark's loggers and any a library makes for itself
/// (FFmpeg's messages from contexts no object claimed).
func makeLogger() -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .warning
        return handler
    }
    var logger = Logger(label: "bench-platform")
    logger.logLevel = .warning
    return logger
}

/// CPU seconds (user + system) this process has used so far; both publish sides run in this process, one after the other.
func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func fail(_ message: String) -> Never {
    emit("bench-platform: " + message)
    exit(1)
}

// MARK: The clip

/// The 1080p30 source, made once and kept under bench-data/platform (as bench-transcode keeps its own).
func sourceClip() throws -> URL {
    let data = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("bench-data/platform")
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    let source = data.appendingPathComponent("source-1080p30-\(clipSeconds)s.mp4")
    if FileManager.default.fileExists(atPath: source.path) { return source }
    emit("making the \(clipSeconds) s 1080p30 source (testsrc2 with temporal noise, 440 Hz tone, H.264 8 Mbit/s + AAC) …")
    let partial = data.appendingPathComponent("source.part.mp4")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
    // Noise that changes every frame gives x264 the work camera footage does; a clean synthetic
    // pattern would make every encode look faster than it is. 8 Mbit/s is a phone's 1080p30.
    process.arguments = ["-nostdin", "-v", "error", "-y",
                         "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=\(clipSeconds)",
                         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(clipSeconds)",
                         "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "veryfast", "-b:v", "8M",
                         "-maxrate", "10M", "-bufsize", "16M", "-g", "60", "-pix_fmt", "yuv420p",
                         "-c:a", "aac", "-b:a", "128k", "-shortest", partial.path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { fail("ffmpeg could not make the source clip (status \(process.terminationStatus))") }
    try FileManager.default.moveItem(at: partial, to: source)
    return source
}

// MARK: Publish: the platform

struct PlatformPublish {
    /// From the return of the last PATCH to `ready`.
    var ready: Double
    /// From the return of the last PATCH to a playable EVENT playlist.
    var playable: Double
    /// The renditions master.m3u8 listed when it first became playable (video rungs and audio).
    var playableRenditions: Int
    /// From the last PATCH to the first progress the saga wrote (the transcoder's first packets are out).
    var firstProgress: Double?
    /// From the last PATCH to the video recording its growing playlist.
    var mediaRecorded: Double?
    var upload: Double
    /// CPU seconds of the process from the last PATCH to `ready`.
    var cpu: Double
    var renditions: [String]
}

/// Runs `body` while `platform` runs as a service (workers, search follower, sweeps), then shuts it down.
func whileRunning<T: Sendable>(_ platform: Platform, logger: Logger, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform], logger: logger))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        let result = try await body()
        await group.triggerGracefulShutdown()
        for try await _ in tasks {}
        return result
    }
}

/// Whether `media`'s master playlist and the first segment (with its init section) of every
/// rendition it lists are in the blob store; the number of renditions it lists.
func playable(_ media: VideoMedia, in blobs: any BlobStore) async throws -> (Bool, Int) {
    guard try await blobs.metadata(media.playlist) != nil else { return (false, 0) }
    let master = try MasterPlaylist(parsing: String(decoding: try await blobs.get(media.playlist), as: UTF8.self))
    let uris = master.variants.map(\.uri) + master.media.compactMap(\.uri)
    guard !uris.isEmpty else { return (false, 0) }
    for uri in uris {
        let key = directory(of: media.playlist) + uri
        guard try await blobs.metadata(key) != nil else { return (false, uris.count) }
        let playlist = try MediaPlaylist(parsing: String(decoding: try await blobs.get(key), as: UTF8.self))
        guard let first = playlist.segments.first else { return (false, uris.count) }
        let base = directory(of: key)
        guard try await blobs.metadata(base + first.uri) != nil else { return (false, uris.count) }
        if let map = first.map, try await blobs.metadata(base + map.uri) == nil { return (false, uris.count) }
    }
    return (true, uris.count)
}

/// The key prefix a relative URI in the playlist at `key` resolves against.
func directory(of key: String) -> String {
    guard let slash = key.lastIndex(of: "/") else { return "" }
    return String(key[...slash])
}

/// Uploads the clip through tus (`startUpload`, then PATCHes of 16 MiB) into a fresh platform with the
/// default configuration and watches the video until it is ready.
func publishThroughPlatform(_ source: URL, root: URL, logger: Logger) async throws -> PlatformPublish {
    let platform = try await Platform(configuration: PlatformConfiguration(dataDirectory: root), logger: logger)
    defer { platform.close() }
    try await platform.catalog.register(User(username: "bench", email: "bench@example.com", displayName: "Bench"))
    let bytes = try [UInt8](Data(contentsOf: source))
    let clock = ContinuousClock()
    return try await whileRunning(platform, logger: logger) {
        let uploadStarted = clock.now
        let started = try await platform.startUpload(owner: "bench", length: Int64(bytes.count),
                                                     metadata: ["filename": source.lastPathComponent, "title": "Benchmark clip"])
        var offset = 0
        let patch = 16 << 20, piece = 1 << 20
        while offset < bytes.count {
            let end = min(bytes.count, offset + patch)
            let body = AsyncStream<ArraySlice<UInt8>> { continuation in
                for start in stride(from: offset, to: end, by: piece) { continuation.yield(bytes[start..<min(end, start + piece)]) }
                continuation.finish()
            }
            offset = Int(try await platform.uploads.append(started.upload.id, at: Int64(offset), body: body).offset)
        }
        // The last PATCH has returned: the upload is complete and handed over.
        let completed = clock.now
        let cpuAtCompletion = cpuSeconds()
        var firstPlayable: (seconds: Double, renditions: Int)?
        var firstProgress: Double?, mediaRecorded: Double?
        while true {
            guard let video = try await platform.catalog.video(started.video) else { fail("the video disappeared while publishing") }
            if firstProgress == nil, (video.progress ?? 0) > 0 { firstProgress = seconds(clock.now - completed) }
            if mediaRecorded == nil, video.media != nil { mediaRecorded = seconds(clock.now - completed) }
            if firstPlayable == nil, let media = video.media {
                let (ok, count) = try await playable(media, in: platform.blobs)
                if ok { firstPlayable = (seconds(clock.now - completed), count) }
            }
            switch video.status {
            case .ready:
                let ready = seconds(clock.now - completed)
                return PlatformPublish(ready: ready, playable: firstPlayable?.seconds ?? ready, playableRenditions: firstPlayable?.renditions ?? 0,
                                       firstProgress: firstProgress, mediaRecorded: mediaRecorded,
                                       upload: seconds(completed - uploadStarted), cpu: cpuSeconds() - cpuAtCompletion,
                                       renditions: video.renditions.map(\.name))
            case .failed:
                fail("the platform failed to publish the clip: \(video.failureReason ?? "no reason")")
            default:
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}

// MARK: Publish: the reference

/// `Transcoder` + `HLSSink` (EVENT playlists, as the saga writes) into a FileBlobStore, with the
/// platform's default ladder (planned for this source as the saga plans it), segment length,
/// opening segments and TranscodeConfiguration. Only the transcode is timed: the probe is part of what the saga adds.
/// Also returns when the sink's master.m3u8 first existed (every rung had its first segment) and the CPU seconds.
func publishReference(_ source: URL, root: URL, logger: Logger) async throws -> ReferencePublish {
    let configuration = PlatformConfiguration(dataDirectory: root)
    let blobs = try FileBlobStore(root: root.appendingPathComponent("media"), logger: logger)
    let info = try await MediaProbe.probe(source, logger: logger)
    let renditions = try LadderPlanner.plan(for: info, ladder: configuration.ladder)
    let sink = HLSSink(store: blobs, directory: "videos/reference/hls",
                       configuration: HLSConfiguration(segmentDuration: configuration.segmentDuration, mode: .event,
                                                       openingBoundaries: configuration.openingSegmentBoundaries), logger: logger)
    let transcoder = Transcoder(configuration: configuration.transcode, logger: logger)
    let clock = ContinuousClock()
    let firstMaster = Mutex<Double?>(nil)
    let cpuAtStart = cpuSeconds()
    let started = clock.now
    await sink.onFirstPlayable { firstMaster.withLock { $0 = seconds(clock.now - started) } }
    let result = try await transcoder.transcode(input: source, renditions: renditions, sink: sink)
    let elapsed = seconds(clock.now - started)
    let cpu = cpuSeconds() - cpuAtStart
    guard try await blobs.metadata("videos/reference/hls/master.m3u8") != nil else { fail("the reference wrote no master.m3u8") }
    return ReferencePublish(seconds: elapsed, firstMaster: firstMaster.withLock { $0 } ?? elapsed, cpu: cpu, renditions: result.renditions.map(\.name))
}

struct ReferencePublish {
    var seconds: Double
    /// When master.m3u8 first existed, from the start of the transcode.
    var firstMaster: Double
    var cpu: Double
    var renditions: [String]
}

func benchmarkPublish(logger: Logger) async throws {
    let source = try sourceClip()
    let size = (try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int) ?? 0
    let defaults = PlatformConfiguration(dataDirectory: URL(fileURLWithPath: "/"))
    let segment = seconds(defaults.segmentDuration)
    let opening = defaults.openingSegmentBoundaries.filter { $0 < defaults.segmentDuration }.map(seconds)
    // The segments a video opens with: from 0 to each opening boundary, then the regular length.
    let openingText = opening.isEmpty ? "none" : zip([0] + opening, opening + [segment]).map { String(format: "%g", $1 - $0) }.joined(separator: ", ") + " s"
    let firstSegment = opening.first ?? segment
    var platformRuns: [PlatformPublish] = []
    var referenceRuns: [ReferencePublish] = []
    for round in 0..<publishRounds {
        // Alternate who goes first when there is more than one round, so drift in the machine's load hits both.
        for side in (round % 2 == 0 ? [0, 1] : [1, 0]) {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-platform-publish-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: root) }
            if side == 0 {
                let run = try await publishThroughPlatform(source, root: root, logger: logger)
                emit(String(format: "  platform round %d: ready %.2f s (%.1f CPU s), playable %.2f s after the last PATCH (first progress %.2f s, media.playlist recorded %.2f s; upload %.2f s, not counted)",
                            round + 1, run.ready, run.cpu, run.playable, run.firstProgress ?? -1, run.mediaRecorded ?? -1, run.upload))
                platformRuns.append(run)
            } else {
                let run = try await publishReference(source, root: root, logger: logger)
                emit(String(format: "  reference round %d: Transcoder + HLSSink %.2f s (%.1f CPU s), its master.m3u8 after %.2f s",
                            round + 1, run.seconds, run.cpu, run.firstMaster))
                referenceRuns.append(run)
            }
        }
    }
    let renditions = platformRuns[0].renditions
    guard renditions == referenceRuns[0].renditions else {
        fail("the platform made \(renditions) but the reference \(referenceRuns[0].renditions): not the same work")
    }
    let ready = median(platformRuns.map(\.ready)), reference = median(referenceRuns.map(\.seconds))
    let platformCPU = median(platformRuns.map(\.cpu)), referenceCPU = median(referenceRuns.map(\.cpu))
    let playableSeconds = median(platformRuns.map(\.playable)), referenceMaster = median(referenceRuns.map(\.firstMaster))
    let roundsText = publishRounds == 1 ? "1 round each: a 60 s 1080p ladder takes minutes per side on 2 cores" : "median of \(publishRounds) alternating rounds each"
    emit(String(format: "RATIO publish_overhead %.3f (reference Transcoder + HLSSink %.2f s / platform %.2f s from the last PATCH returning to ready; CPU %.1f s reference, %.1f s platform; %d s 1080p30 %.0f MB upload, default ladder %@, %.0f s segments, default TranscodeConfiguration; %@)",
                reference / ready, reference, ready, referenceCPU, platformCPU, clipSeconds, Double(size) / 1e6, renditions.joined(separator: " "), segment, roundsText))
    // The first segment of every rung needs a segment's worth of media encoded for the whole ladder:
    // at the reference's average speed that takes about segment / speed (the start can run faster or slower).
    let speed = Double(clipSeconds) / reference
    emit(String(format: "RATIO first_playable %.3f ((segment %.0f s + 2 s) / %.2f s from the last PATCH returning to a playable EVENT playlist: media.playlist recorded, master.m3u8 and the first segment of each of its %d renditions in the blob store; above 1 means the floor of one segment + 2 s is met; opening segments %@ (PlatformConfiguration.openingSegmentBoundaries), so the first segment is %g s; first progress %.2f s, media.playlist recorded %.2f s; the reference's own master.m3u8 came %.2f s into its transcode; the ladder encodes at %.2fx real time on average here, so %g s of every rung takes about %.2f s; ready at %.2f s; %@)",
                (segment + 2) / playableSeconds, segment, playableSeconds, platformRuns[0].playableRenditions, openingText, firstSegment,
                median(platformRuns.map { $0.firstProgress ?? -1 }), median(platformRuns.map { $0.mediaRecorded ?? -1 }),
                referenceMaster, speed, firstSegment, firstSegment / speed, ready, roundsText))
}

// MARK: Views

/// Views per second from 16 tasks, each recording `perTask` views by viewers no one used before.
func recordViews(_ views: ViewCounter, videos: [VideoID], round: String, perTask: Int) async throws -> Double {
    let clock = ContinuousClock()
    let started = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<16 {
            group.addTask {
                let video = videos[task % videos.count]
                for i in 0..<perTask {
                    guard try await views.record(video, viewer: "viewer-\(round)-\(task)-\(i)") else { fail("a new viewer's view did not count") }
                }
            }
        }
        try await group.waitForAll()
    }
    return Double(16 * perTask) / seconds(clock.now - started)
}

func benchmarkViews(logger: Logger) async throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-platform-views-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    // The services work without run(); the roll-up it would schedule is not what is measured here.
    let platform = try await Platform(configuration: PlatformConfiguration(dataDirectory: root), logger: logger)
    defer { platform.close() }
    try await platform.catalog.register(User(username: "bench", email: "bench@example.com"))
    var videos: [VideoID] = []
    for i in 0..<17 {
        let video = Video(owner: "bench", title: "Clip \(i)")
        try await platform.catalog.create(video)
        videos.append(video.id)
    }
    let hot = [videos[0]], spread = Array(videos[1...])
    let perTask = 64, rounds = 5
    _ = try await recordViews(platform.views, videos: hot, round: "warm-hot", perTask: 8)
    _ = try await recordViews(platform.views, videos: spread, round: "warm-spread", perTask: 8)
    var hotRates: [Double] = [], spreadRates: [Double] = []
    for round in 0..<rounds {
        for side in (round % 2 == 0 ? [0, 1] : [1, 0]) {
            if side == 0 {
                hotRates.append(try await recordViews(platform.views, videos: hot, round: "hot-\(round)", perTask: perTask))
            } else {
                spreadRates.append(try await recordViews(platform.views, videos: spread, round: "spread-\(round)", perTask: perTask))
            }
        }
    }
    let total = try await platform.views.count(videos[0])
    guard total == Int64(8 * 16 + rounds * 16 * perTask) else { fail("the hot video counted \(total) views") }
    let hotMedian = median(hotRates), spreadMedian = median(spreadRates)
    emit(String(format: "RATIO hot_views %.3f (16 tasks on one video %.0f views/s / 16 tasks on 16 videos %.0f views/s; platform.views.record, distinct viewers, %d views per round, median of %d alternating rounds, %d counter shards; hot rounds %@; spread rounds %@)",
                hotMedian / spreadMedian, hotMedian, spreadMedian, 16 * perTask, rounds, platform.views.configuration.shards,
                hotRates.map { String(format: "%.0f", $0) }.joined(separator: " "), spreadRates.map { String(format: "%.0f", $0) }.joined(separator: " ")))
}

// MARK: Jobs

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// A handler that does nothing but count.
struct CountingHandler: JobHandler {
    let done: Counter
    func run(_ job: Job, context: JobContext) async throws {
        done.value.add(1, ordering: .relaxed)
    }
}

/// Jobs per second: 2,000 empty jobs enqueued (8 tasks, untimed) on a fresh store, then drained by
/// `JobWorkers` with concurrency 8; timed from starting the workers until the queue is empty.
func drainJobs(count: Int, root: URL, logger: Logger) async throws -> Double {
    let store = try await SQLiteItemStore(url: root.appendingPathComponent("jobs.sqlite"), schema: .singleTable, logger: logger)
    defer { store.close() }
    let queue = try StoreJobQueue(store: store, logger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<8 {
            group.addTask {
                for i in stride(from: lane, to: count, by: 8) { try await queue.enqueue(Job(id: "job-\(i)", kind: "noop", payload: "")) }
            }
        }
        try await group.waitForAll()
    }
    guard try await queue.depth() == count else { fail("the queue does not hold \(count) jobs") }
    let counter = Counter()
    let workers = JobWorkers(queue: queue, handlers: ["noop": CountingHandler(done: counter)],
                             configuration: JobWorkerConfiguration(concurrency: 8), logger: logger)
    let clock = ContinuousClock()
    let started = clock.now
    let running = Task { try await workers.run() }
    // The handler's count says when every job ran; the queue's depth then says when every completion was recorded.
    while counter.value.load(ordering: .relaxed) < count { try await Task.sleep(for: .milliseconds(2)) }
    while try await queue.depth() > 0 { try await Task.sleep(for: .milliseconds(2)) }
    let elapsed = seconds(clock.now - started)
    running.cancel()
    _ = try await running.value
    guard counter.value.load(ordering: .relaxed) == count else { fail("\(counter.value.load(ordering: .relaxed)) handler runs for \(count) jobs") }
    return Double(count) / elapsed
}

/// The reference: `count` transactions of 2 puts (items shaped like job items) from 8 tasks on a fresh store.
func transactions(count: Int, root: URL, logger: Logger) async throws -> Double {
    let store = try await SQLiteItemStore(url: root.appendingPathComponent("transactions.sqlite"), schema: .singleTable, logger: logger)
    defer { store.close() }
    func item(_ i: Int, _ half: Int) -> Item {
        ["PK": .s("BENCH#\(i)#\(half)"), "SK": "JOB", "type": "job", "GSI1PK": "BENCHQ", "GSI1SK": .s(String(format: "%015d#%d", i, half)),
         "id": .s("job-\(i)"), "kind": "noop", "payload": "", "state": "queued", "attempts": 0, "maxAttempts": 5]
    }
    let clock = ContinuousClock()
    let started = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<8 {
            group.addTask {
                for i in stride(from: lane, to: count, by: 8) { try await store.transactWrite([.put(item(i, 0)), .put(item(i, 1))]) }
            }
        }
        try await group.waitForAll()
    }
    return Double(count) / seconds(clock.now - started)
}

func benchmarkJobs(logger: Logger) async throws {
    let count = 2000, rounds = 3
    var jobRates: [Double] = [], transactionRates: [Double] = []
    for round in 0..<rounds {
        for side in (round % 2 == 0 ? [0, 1] : [1, 0]) {
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("bench-platform-jobs-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: root) }
            if side == 0 {
                jobRates.append(try await drainJobs(count: count, root: root, logger: logger))
            } else {
                transactionRates.append(try await transactions(count: count, root: root, logger: logger))
            }
        }
    }
    let jobs = median(jobRates), reference = median(transactionRates)
    emit(String(format: "RATIO job_throughput %.3f (%.0f jobs/s: %d empty jobs drained from a StoreJobQueue by JobWorkers with concurrency 8 / %.0f transactions/s: 2-put transactWrite from 8 tasks; fresh SQLiteItemStore with default configuration each round, median of %d alternating rounds; jobs %@; transactions %@)",
                jobs / reference, jobs, count, reference, rounds,
                jobRates.map { String(format: "%.0f", $0) }.joined(separator: " "), transactionRates.map { String(format: "%.0f", $0) }.joined(separator: " ")))
}

// MARK: Main

/// The benchmark, as functions rather than top-level code: Swift 6.3's optimizer crashes on large
/// top-level async code in release builds (SILMem2Reg, `@async_Main`).
func runBenchmark() async throws {
    let logger = makeLogger()
    emit("bench-platform: publish (\(clipSeconds) s 1080p30, \(publishRounds) round(s) per side), hot views, job throughput")
    if enabled("views") { try await benchmarkViews(logger: logger) }
    if enabled("jobs") { try await benchmarkJobs(logger: logger) }
    if enabled("publish") { try await benchmarkPublish(logger: logger) }
}

try await runBenchmark()
