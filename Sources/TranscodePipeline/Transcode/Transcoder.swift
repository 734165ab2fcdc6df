public import Foundation
public import Logging
public import VideoCore

/// Decodes a source once and encodes every rendition of a ladder in parallel, handing the packets to a ``PacketSink``.
///
/// H.264 (libx264, the configured profile, closed GOPs, VBV max rate and buffer from each
/// `VideoCore/Rendition`) with keyframes forced at every multiple of
/// ``TranscodeConfiguration/segmentDuration`` on every rung; AAC-LC stereo at 48 kHz, encoded
/// once per distinct audio bit rate. Any decodable input comes out as 8-bit 4:2:0 at a constant
/// frame rate (capped at 60 fps). FFmpeg runs on threads of its own; `Transcoder` is `Sendable`
/// and can run several transcodes at once.
public final class Transcoder: Sendable {
    /// The settings every transcode of this transcoder uses.
    public let configuration: TranscodeConfiguration
    private let logger: Logger

    /// Creates a transcoder; FFmpeg's messages go to `logger` (its errors about damaged input at `.warning`).
    public init(configuration: TranscodeConfiguration = TranscodeConfiguration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Transcodes `input` into `renditions` (typically from ``LadderPlanner/plan(for:ladder:maxFrameRate:)``).
    ///
    /// - Parameters:
    ///   - input: the source file (a local file in a container VideoStack accepts).
    ///   - renditions: the rungs to encode, in the order the sink numbers them.
    ///   - sink: receives the tracks and packets; see ``PacketSink`` for the call order.
    ///   - progress: when given, receives a ``TranscodeProgress`` a few times a second and is
    ///     finished when the transcode ends. Make it with `AsyncStream.makeStream(of:bufferingPolicy:)`,
    ///     ideally `.bufferingNewest(1)`.
    /// - Returns: what was produced, with codec strings filled in.
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
        let job = try await runOnOwnThread(name: "videostack-open", cancel: cancel) {
            try TranscodeJob(url: input, renditions: renditions, configuration: configuration, logger: logger, cancel: cancel)
        }
        try Task.checkCancellation(or: job)
        for index in renditions.indices {
            try await sink.begin(rendition: job.encodedRenditions[index], index: index, tracks: job.tracks(of: index))
        }
        job.start()
        do {
            try await withTaskCancellationHandler {
                try await deliver(job, to: sink, progress: progress, started: started)
            } onCancel: {
                job.stop()
            }
        } catch {
            job.stop()
            await job.finished()
            throw error
        }
        await job.finished()
        if let failure = job.failure { throw failure }
        try Task.checkCancellation(or: job)
        if job.rungs.contains(where: { $0.framesQueued == 0 }) {
            throw VideoStackError(.decodeFailed, "No video frame of \(input.lastPathComponent) could be decoded; the file is damaged. Upload it again.")
        }
        for index in renditions.indices {
            try await sink.finish(rendition: index)
        }
        let frames = job.rungs.map(\.framesQueued)
        var duration = job.audio?.endSeconds ?? 0
        if let first = job.rungs.first {
            duration = Double(first.lastSlot + 1) * first.frameDuration
        }
        var keyframes: [Double] = []
        if let first = job.rungs.first {
            var time = 0.0
            while time < duration {
                // The forced keyframe is the first frame at or after each boundary.
                let slot = (time / first.frameDuration - 1e-6).rounded(.up)
                keyframes.append(slot * first.frameDuration)
                time += configuration.segmentDuration
            }
        }
        let elapsed = started.duration(to: .now)
        progress?.yield(TranscodeProgress(fraction: 1, mediaSeconds: duration,
                                          framesPerSecond: Double(job.progress.frames) / max(0.001, seconds(elapsed)),
                                          estimatedSecondsLeft: 0))
        return TranscodeResult(renditions: job.encodedRenditions, duration: duration, videoFrames: frames, keyframeTimes: keyframes,
                               decodeErrors: job.decodeErrors, elapsed: seconds(elapsed))
    }

    private func deliver(_ job: TranscodeJob, to sink: some PacketSink, progress: AsyncStream<TranscodeProgress>.Continuation?,
                         started: ContinuousClock.Instant) async throws {
        var lastReport = started
        while true {
            let batch = await job.output.next()
            if batch.isEmpty { return }
            for item in batch {
                switch item {
                case let .video(rung, packet):
                    let rendition = job.renditionRung.firstIndex(of: rung)!
                    try await sink.write(packet, rendition: rendition, track: 0)
                case let .audio(encoder, packet):
                    for target in job.audioTargets[encoder] {
                        try await sink.write(packet, rendition: target.rendition, track: target.track)
                    }
                }
            }
            let now = ContinuousClock.now
            if let progress, now - lastReport > .milliseconds(250) {
                lastReport = now
                let (media, frames) = job.progress
                let elapsed = seconds(started.duration(to: now))
                let fraction = job.duration > 0 ? min(1, media / job.duration) : 0
                let left = fraction > 0.01 ? elapsed * (1 - fraction) / fraction : nil
                progress.yield(TranscodeProgress(fraction: fraction, mediaSeconds: media,
                                                 framesPerSecond: Double(frames) / max(0.001, elapsed), estimatedSecondsLeft: left))
            }
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
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
