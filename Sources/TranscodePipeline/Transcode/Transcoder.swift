public import Foundation
public import Logging
public import VideoCore

/// Decodes a source once and encodes every rendition of a ladder in parallel, handing the packets
/// to a `VideoCore/PacketSink`, and picks the poster and storyboard from the same frames.
///
/// H.264 (libx264, the configured profile, closed GOPs, VBV max rate and buffer from each
/// `VideoCore/Rendition`) with keyframes forced at every multiple of the sink's
/// `VideoCore/PacketSink/keyframeInterval` (and at the sink's `VideoCore/PacketSink/openingKeyframes`
/// before the first of them) on every rung; AAC-LC stereo at 48 kHz, encoded once
/// per distinct audio bit rate. Any decodable input comes out as 8-bit 4:2:0 at a constant frame
/// rate (capped at 60 fps). The input is read front to back and never seeked, so Matroska
/// without cues, streams cut short and named pipes all work. FFmpeg runs on threads of its own;
/// `Transcoder` is `Sendable` and can run several transcodes at once.
public final class Transcoder: Sendable {
    /// The settings every transcode of this transcoder uses.
    public let configuration: TranscodeConfiguration
    private let logger: Logger

    /// Creates a transcoder; FFmpeg's messages go to `logger` (its errors about damaged input at
    /// `.warning`), and a line at `.info` when a transcode starts and when it ends.
    public init(configuration: TranscodeConfiguration = TranscodeConfiguration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Transcodes `input` into `renditions` (typically from ``LadderPlanner/plan(for:ladder:maxFrameRate:)``).
    ///
    /// - Parameters:
    ///   - input: the source: a local file in a container VideoStack accepts, or a named pipe.
    ///   - renditions: the rungs to encode, in the order the sink numbers them.
    ///   - sink: receives the tracks and packets (see `VideoCore/PacketSink` for the call order)
    ///     and says how far apart keyframes go (1 to 20 seconds).
    ///   - progress: when given, receives a ``TranscodeProgress`` when the first packets are out
    ///     and then a few times a second, a last one when everything is encoded, and is finished
    ///     when the transcode ends. Make it with `AsyncStream.makeStream(of:bufferingPolicy:)`.
    /// - Returns: what was produced, with codec strings filled in, and the poster and storyboard.
    /// - Throws: `VideoStackError`: `.notFound`, `.invalidInput`, `.corrupt`, `.unsupported`,
    ///   `.limitExceeded` (absurd picture size), `.decodeFailed`, `.encodeFailed`, `.io`, or
    ///   `.cancelled` when the task is cancelled (the threads stop within about one frame's work and
    ///   everything is freed before this returns); or whatever the sink throws.
    public func transcode(input: URL, renditions: [Rendition], sink: some PacketSink,
                          progress: AsyncStream<TranscodeProgress>.Continuation? = nil) async throws -> TranscodeResult {
        defer { progress?.finish() }
        let started = ContinuousClock.now
        let cancel = CancelFlag()
        let configuration = configuration
        let logger = logger
        let interval = sink.keyframeInterval
        let opening = sink.openingKeyframes
        let job: TranscodeJob
        do {
            job = try await runOnOwnThread(name: "videostack-open", cancel: cancel) {
                try TranscodeJob(url: input, renditions: renditions, keyframeInterval: interval, openingKeyframes: opening,
                                 configuration: configuration, logger: logger, cancel: cancel)
            }
        } catch {
            logger.notice("Transcode refused", metadata: ["input": "\(input.lastPathComponent)", "error": "\(error)"])
            throw error
        }
        try Task.checkCancellation(or: job)
        logger.info("Transcode started", metadata: [
            "input": "\(input.lastPathComponent)", "renditions": "\(renditions.map(\.name).joined(separator: ","))",
            "keyframeInterval": "\(interval)", "openingKeyframes": "\(opening)", "declaredDuration": "\(String(format: "%.3f", job.duration)) s",
        ])
        var keyframes: [Duration] = []
        do {
            for index in renditions.indices {
                try await sink.begin(rendition: job.encodedRenditions[index], index: index, tracks: job.tracks(of: index))
            }
            job.start()
            try await withTaskCancellationHandler {
                try await deliver(job, to: sink, progress: progress, started: started, keyframes: &keyframes)
            } onCancel: {
                job.stop()
            }
        } catch {
            job.stop()
            await job.finished()
            let failure = (Task.isCancelled || error is CancellationError) && !(error is VideoStackError)
                ? VideoStackError(.cancelled, "The transcode of \(input.lastPathComponent) was cancelled.", cause: ErrorDescription(error))
                : error
            logger.notice("Transcode stopped", metadata: ["input": "\(input.lastPathComponent)", "error": "\(failure)"])
            throw failure
        }
        await job.finished()
        if let failure = job.failure {
            logger.notice("Transcode failed", metadata: ["input": "\(input.lastPathComponent)", "error": "\(failure)"])
            throw failure
        }
        try Task.checkCancellation(or: job)
        if job.rungs.contains(where: { $0.framesQueued == 0 }) {
            throw VideoStackError(.decodeFailed, "No video frame of \(input.lastPathComponent) could be decoded; the file is damaged. Upload it again.")
        }
        for index in renditions.indices {
            try await sink.finish(rendition: index)
        }
        let duration = job.outputDuration
        let elapsed = started.duration(to: .now)
        progress?.yield(report(job, mediaSeconds: duration, elapsed: elapsed))
        let result = TranscodeResult(renditions: job.encodedRenditions, duration: .seconds(duration), videoFrames: job.rungs.map(\.framesQueued),
                                     keyframeTimes: keyframes, decodeErrors: job.decodeErrors, elapsed: elapsed, thumbnails: job.thumbnails)
        logger.info("Transcode finished", metadata: [
            "input": "\(input.lastPathComponent)", "duration": "\(String(format: "%.3f", duration)) s",
            "frames": "\(result.videoFrames)", "decodeErrors": "\(result.decodeErrors)", "elapsed": "\(elapsed)",
            "poster": "\(result.thumbnails.map { "\($0.poster.time)" } ?? "none")",
        ])
        return result
    }

    private func deliver(_ job: TranscodeJob, to sink: some PacketSink, progress: AsyncStream<TranscodeProgress>.Continuation?,
                         started: ContinuousClock.Instant, keyframes: inout [Duration]) async throws {
        var lastReport: ContinuousClock.Instant?
        let firstRung = job.rungs.first
        while true {
            let batch = await job.output.next()
            if batch.isEmpty { return }
            let now = ContinuousClock.now
            // The first report goes out as soon as packets flow, later ones a few times a second.
            if let progress, lastReport.map({ now - $0 > .milliseconds(250) }) ?? true {
                lastReport = now
                progress.yield(report(job, mediaSeconds: job.progress.seconds, elapsed: started.duration(to: now)))
            }
            for item in batch {
                switch item {
                case let .video(rung, packet):
                    if rung == 0, packet.isKeyframe, let firstRung {
                        keyframes.append(.seconds(Double(packet.pts) / Double(firstRung.timescale)))
                    }
                    let rendition = job.renditionRung.firstIndex(of: rung)!
                    try await sink.write(packet, rendition: rendition, track: 0)
                case let .audio(encoder, packet):
                    for target in job.audioTargets[encoder] {
                        try await sink.write(packet, rendition: target.rendition, track: target.track)
                    }
                }
            }
        }
    }

    /// A progress report for `mediaSeconds` of output after `elapsed`.
    private func report(_ job: TranscodeJob, mediaSeconds: Double, elapsed: Duration) -> TranscodeProgress {
        let fraction = job.duration > 0 ? min(1, mediaSeconds / job.duration) : nil
        let seconds = elapsed.inSeconds
        let left = fraction.flatMap { $0 > 0.01 ? Duration.seconds(seconds * (1 - $0) / $0) : nil }
        return TranscodeProgress(fraction: fraction, mediaTime: .seconds(mediaSeconds),
                                 framesPerSecond: Double(job.progress.frames) / max(0.001, seconds), estimatedTimeLeft: left)
    }
}

extension Task where Success == Never, Failure == Never {
    /// Throws `.cancelled` (after stopping the job) when the current task is cancelled.
    fileprivate static func checkCancellation(or job: TranscodeJob) throws {
        if Task.isCancelled || job.cancel.isCancelled && job.failure == nil {
            job.stop()
            throw VideoStackError(.cancelled, "The transcode was cancelled.")
        }
    }
}
