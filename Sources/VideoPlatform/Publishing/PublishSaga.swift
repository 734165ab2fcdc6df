public import Foundation
internal import HLSPackager
public import Logging
public import TranscodePipeline
public import VideoCore

/// What a publish job carries: the video and where its upload is in the blob store.
public struct PublishRequest: Codable, Sendable, Hashable {
    public var video: VideoID
    /// Blob key of the raw upload.
    public var source: String
    /// The name the uploader's file had, for messages ("holiday.mov is a text file…").
    public var filename: String?

    public init(video: VideoID, source: String, filename: String? = nil) {
        self.video = video
        self.source = source
        self.filename = filename
    }

    /// The job kind publish jobs are enqueued under.
    public static let jobKind = "publish"
}

/// The publish saga for one upload, as a job handler: probe → plan the ladder → transcode and
/// package into HLS with poster and storyboard from the same decode → `ready` in one conditional
/// write. The search replica picks the change up from the store's change feed.
///
/// Watch while it transcodes: the packager writes EVENT playlists, and as soon as every rung has
/// its first segment the video records its playlist (status still `processing`), so a viewer can
/// start within one segment of the upload finishing; short opening segments
/// (``openingSegmentBoundaries``) make that first segment a second long.
///
/// Idempotent: an attempt starts by removing what an earlier one left under the video's media
/// prefix, and the final write is conditioned on the video still being `processing`, so a job
/// that runs twice (a worker crashed after the write, before completing the job) publishes once.
/// A failure compensates: the partial media is removed and, when no retry can mend it (not a
/// video, truncated, an unsupported codec) or the attempts are used up, the video turns `failed`
/// with a reason a person can read.
public struct PublishSaga: JobHandler {
    public let catalog: Catalog
    public let blobs: any BlobStore
    public let ladder: Ladder
    public let segmentDuration: Duration
    /// Short opening segments (see ``PlatformConfiguration/openingSegmentBoundaries``).
    public let openingSegmentBoundaries: [Duration]
    /// Encoder settings, poster and storyboard choices.
    public let transcode: TranscodeConfiguration
    public let scratchDirectory: URL
    let logger: Logger

    /// Creates the saga; `segmentDuration` and `openingSegmentBoundaries` are checked by
    /// ``checkSegments(segmentDuration:openingSegmentBoundaries:)`` (a bad pair fails every publish).
    public init(catalog: Catalog, blobs: any BlobStore, ladder: Ladder, segmentDuration: Duration,
                openingSegmentBoundaries: [Duration] = [.seconds(1), .seconds(2)],
                transcode: TranscodeConfiguration = TranscodeConfiguration(), scratchDirectory: URL, logger: Logger) {
        self.openingSegmentBoundaries = openingSegmentBoundaries
        self.transcode = transcode
        self.catalog = catalog
        self.blobs = blobs
        self.ladder = ladder
        self.segmentDuration = segmentDuration
        self.scratchDirectory = scratchDirectory
        self.logger = logger
    }

    /// Throws `VideoStackError/Code/invalidInput` when the packager would refuse these segment
    /// settings (a segment length outside 2-10 s, opening boundaries less than half a second apart).
    public static func checkSegments(segmentDuration: Duration, openingSegmentBoundaries: [Duration]) throws {
        try hlsConfiguration(segmentDuration: segmentDuration, openingSegmentBoundaries: openingSegmentBoundaries).validate()
    }

    static func hlsConfiguration(segmentDuration: Duration, openingSegmentBoundaries: [Duration]) -> HLSConfiguration {
        HLSConfiguration(segmentDuration: segmentDuration, mode: .event, openingBoundaries: openingSegmentBoundaries)
    }

    /// Where a video's media lives in the blob store.
    public static func mediaPrefix(of video: VideoID) -> String { "videos/\(video)/" }

    public func run(_ job: Job, context: JobContext) async throws {
        let request = try job.decodePayload(as: PublishRequest.self)
        guard let video = try await catalog.video(request.video) else {
            context.logger.info("video deleted before it was published; nothing to do")
            return
        }
        guard video.status != .uploading else {
            // The upload's hand-over queues the job before it moves the video to processing (a
            // job queue such as SQS cannot share the store's transaction): a worker quicker than
            // the hand-over tries again after the backoff instead of dropping the job.
            throw VideoStackError(.locked, "Video \(video.id) is still being handed over from its upload; the job will be tried again.")
        }
        guard video.status == .processing else {
            // Published (or failed) by an earlier attempt whose job was not marked done.
            context.logger.info("video is already \(video.status); nothing to do")
            return
        }
        let prefix = Self.mediaPrefix(of: video.id)
        try await removeMedia(prefix: prefix)
        do {
            try await publish(video, request: request, prefix: prefix, logger: context.logger)
        } catch {
            // Another attempt of this job (a lease that ran out while this one still worked) may
            // have published the video meanwhile: its media is then the video's, not debris.
            if (try? await catalog.video(video.id))?.status == .ready {
                context.logger.info("video was published by another attempt; keeping its media")
                return
            }
            try? await removeMedia(prefix: prefix)
            if let reason = Self.permanentReason(for: error) ?? (context.lease.isLastAttempt ? "Processing failed: \(Self.describe(error))" : nil) {
                try await catalog.transition(video.id, to: .failed, from: .processing, failureReason: Self.storable(reason))
                throw PermanentJobFailure(reason, cause: error)
            }
            throw error
        }
    }

    private func publish(_ video: Video, request: PublishRequest, prefix: String, logger: Logger) async throws {
        let input = try await LocalSource.open(request.source, in: blobs, scratch: scratchDirectory, filename: request.filename)
        defer { input.discard() }
        let info = try await MediaProbe.probe(input.url, logger: logger)
        guard info.video != nil else {
            throw SagaFailure("\(input.displayName) has no video stream; upload a video file.")
        }
        let renditions = try LadderPlanner.plan(for: info, ladder: ladder)
        let sink = HLSSink(store: blobs, directory: prefix + "hls",
                           configuration: Self.hlsConfiguration(segmentDuration: segmentDuration, openingSegmentBoundaries: openingSegmentBoundaries),
                           logger: logger)
        let catalog = self.catalog
        await sink.onFirstPlayable {
            do {
                try await catalog.setMedia(video.id, VideoMedia(playlist: prefix + "hls/master.m3u8"))
            } catch {
                logger.warning("could not record the growing playlist", metadata: ["error": "\(error)"])
            }
        }
        let (progress, continuation) = AsyncStream.makeStream(of: TranscodeProgress.self, bufferingPolicy: .bufferingNewest(1))
        let reporter = Task {
            var last = ContinuousClock.now - .seconds(10)
            for await update in progress where ContinuousClock.now - last >= .seconds(1) {
                last = ContinuousClock.now
                if let fraction = update.fraction { try? await catalog.updateProgress(video.id, min(max(fraction, 0), 1)) }
            }
        }
        defer { reporter.cancel() }
        // The sink tells the transcoder where segments start, so keyframes and cuts agree.
        let transcoder = Transcoder(configuration: transcode, logger: logger)
        let result = try await transcoder.transcode(input: input.url, renditions: renditions, sink: sink, progress: continuation)
        let declared = info.duration
        if declared > .zero, declared - result.duration > max(.seconds(1), declared * 0.02) {
            throw SagaFailure("The upload is truncated at \(Self.clock(result.duration)) (the file says it is \(Self.clock(declared)) long); upload the whole file again.")
        }
        var media = VideoMedia(playlist: prefix + "hls/master.m3u8")
        if let thumbnails = result.thumbnails {
            // Beside master.m3u8, so the storyboard's relative sprite names resolve.
            for file in thumbnails.files {
                _ = try await blobs.put(prefix + "hls/" + file.name, bytes: file.bytes, contentType: file.contentType)
            }
            media.poster = prefix + "hls/poster.jpg"
            media.storyboard = prefix + "hls/storyboard.vtt"
        }
        try await catalog.transition(video.id, to: .ready, from: .processing, duration: result.duration, renditions: result.renditions, media: media)
    }

    private func removeMedia(prefix: String) async throws {
        for object in try await blobs.listAll(prefix: prefix) { try await blobs.delete(object.key) }
    }

    /// The reason to show when no retry can mend `error`, or nil when a retry may.
    static func permanentReason(for error: any Error) -> String? {
        if let failure = error as? SagaFailure { return failure.reason }
        guard let error = error as? VideoStackError else { return nil }
        switch error.code {
        case .invalidInput, .corrupt, .unsupported, .limitExceeded, .decodeFailed: return error.message
        default: return nil
        }
    }

    /// A reason the catalog accepts: no control characters, within its byte limit.
    static func storable(_ reason: String) -> String {
        var text = String(String.UnicodeScalarView(reason.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? " " : $0 }))
        while text.utf8.count > Video.maximumFailureReasonBytes { text = String(text.dropLast(max(1, (text.utf8.count - Video.maximumFailureReasonBytes) / 4))) }
        return text
    }

    static func describe(_ error: any Error) -> String {
        (error as? VideoStackError)?.message ?? "\(error)"
    }

    /// `m:ss` or `h:mm:ss`.
    static func clock(_ duration: Duration) -> String {
        let total = Int(duration.components.seconds)
        let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}

/// A failure the saga decided is permanent, with the reason to show.
struct SagaFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The upload as a local file the transcoder can open: the blob store's own file when it keeps
/// blobs on this disk, otherwise a copy in the scratch directory (removed by `discard`).
struct LocalSource {
    let url: URL
    let displayName: String
    private let isCopy: Bool

    static func open(_ key: String, in blobs: any BlobStore, scratch: URL, filename: String?) async throws -> LocalSource {
        let name = filename.flatMap { $0.isEmpty ? nil : String($0.prefix(120)) } ?? "The upload"
        if let files = blobs as? FileBlobStore {
            let url = files.root.appendingPathComponent(try FileBlobStore.validate(key: key))
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw VideoStackError(.notFound, "The upload \(key) is missing from the blob store.")
            }
            return LocalSource(url: url, displayName: name, isCopy: false)
        }
        let url = scratch.appendingPathComponent("\(UUID().uuidString)-\(URL(fileURLWithPath: key).lastPathComponent)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw VideoStackError(.io, "Could not create a scratch file in \(scratch.path) to copy the upload into; check that the directory exists and is writable.")
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        for try await chunk in try await blobs.read(key, range: nil, chunkSize: 1 << 20) {
            try handle.write(contentsOf: chunk)
        }
        return LocalSource(url: url, displayName: name, isCopy: true)
    }

    func discard() {
        if isCopy { try? FileManager.default.removeItem(at: url) }
    }
}
