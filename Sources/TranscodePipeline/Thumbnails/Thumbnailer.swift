internal import CFFmpeg
public import Foundation
public import Logging
import VideoCore

/// Makes a poster and a storyboard from a video file on its own, outside a transcode.
///
/// A transcode picks both from the frames it decodes anyway (``TranscodeConfiguration/thumbnails``);
/// this is for files that are not transcoded. It reads the file once from start to end and never
/// seeks, so it works on everything a transcode works on: Matroska without cues, streams cut
/// short, named pipes. FFmpeg runs on a thread of its own; cancelling the task stops it.
public struct Thumbnailer: Sendable {
    /// How the poster and storyboard are picked and laid out.
    public let configuration: ThumbnailConfiguration
    /// A single read that takes longer than this fails with `.io`.
    public let readTimeout: Duration
    private let logger: Logger

    /// Creates a thumbnailer; FFmpeg's messages and a line per finished file go to `logger`.
    public init(configuration: ThumbnailConfiguration = ThumbnailConfiguration(), readTimeout: Duration = .seconds(30),
                logger: Logger) {
        self.configuration = configuration
        self.readTimeout = readTimeout
        self.logger = logger
    }

    /// The poster and the storyboard of `input`, from one decode of its video.
    ///
    /// - Throws: `.invalidInput` without a video stream or with a bad configuration, the errors
    ///   of ``MediaProbe/probe(_:logger:)``, `.decodeFailed` when no frame decodes, `.cancelled`.
    public func thumbnails(from input: URL) async throws -> Thumbnails {
        let cancel = CancelFlag()
        let configuration = configuration, logger = logger, readTimeout = readTimeout
        let started = ContinuousClock.now
        let thumbnails = try await runOnOwnThread(name: "videostack-thumbs", cancel: cancel) {
            try Self.collect(input, configuration: configuration, readTimeout: readTimeout, cancel: cancel, logger: logger)
        }
        logger.info("Made a poster and a storyboard", metadata: [
            "input": "\(input.lastPathComponent)", "poster.time": "\(thumbnails.poster.time)",
            "storyboard.tiles": "\(thumbnails.storyboard.tileCount)", "elapsed": "\(ContinuousClock.now - started)",
        ])
        return thumbnails
    }

    /// The poster of `input`; see ``thumbnails(from:)``.
    public func poster(from input: URL) async throws -> Poster {
        try await thumbnails(from: input).poster
    }

    /// The storyboard of `input`; see ``thumbnails(from:)``.
    public func storyboard(from input: URL) async throws -> Storyboard {
        try await thumbnails(from: input).storyboard
    }

    private static func collect(_ url: URL, configuration: ThumbnailConfiguration, readTimeout: Duration, cancel: CancelFlag,
                                logger: Logger) throws -> Thumbnails {
        let input = try InputFile(url: url, logger: logger, cancel: cancel, readTimeout: readTimeout)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw VideoStackError(.invalidInput, "\(url.lastPathComponent) has no video stream to take pictures from.")
        }
        let stream = input.stream(index)
        let parameters = stream.pointee.codecpar.pointee
        if Int(parameters.width) * Int(parameters.height) > 8192 * 4320 || parameters.width <= 0 || parameters.height <= 0 {
            throw VideoStackError(.limitExceeded, "\(url.lastPathComponent) declares a \(parameters.width)x\(parameters.height) picture, which this service does not accept.")
        }
        let decoder = try StreamDecoder(input: input, streamIndex: index, logger: logger)
        let preparer = PicturePreparer(plan: PictureFilter.Plan(stream: stream), timeBase: decoder.timeBase)
        let collector = try ThumbnailCollector(configuration: configuration, displaySize: MediaProbe.displaySize(of: stream),
                                               declaredDuration: input.durationSeconds, logger: logger)
        let origin = input.startSeconds
        var last = -1.0
        let frameStep = 1 / max(1, av_q2d(stream.pointee.avg_frame_rate).isFinite ? av_q2d(stream.pointee.avg_frame_rate) : 25)
        func show(_ frame: Frame) throws {
            let stamp = frame.pointer.pointee.pts
            var seconds = stamp == noPTS ? last + frameStep : decoder.seconds(stamp) - origin
            if !seconds.isFinite || seconds < last { seconds = last + frameStep }
            last = max(0, seconds)
            try collector.accept(frame, seconds: last)
        }
        let packet = Packet()
        while true {
            if cancel.isCancelled { throw VideoStackError(.cancelled, "Making the thumbnails of \(url.lastPathComponent) was cancelled.") }
            let more: Bool
            do {
                more = try input.read(into: packet, timeout: readTimeout)
            } catch let error as VideoStackError where error.code == .corrupt {
                // Like a player: a read error ends the input; what came before is kept.
                logger.warning("Input ended early: \(error.message)", metadata: ["input": "\(url.lastPathComponent)"])
                break
            }
            guard more else { break }
            defer { packet.unref() }
            guard packet.streamIndex == index else { continue }
            try decoder.decode(packet) { try preparer.prepare($0, show) }
        }
        try decoder.decode(nil) { try preparer.prepare($0, show) }
        try preparer.flush(show)
        guard let thumbnails = try collector.finish(end: last + frameStep) else {
            throw VideoStackError(.decodeFailed, "No frame of \(url.lastPathComponent) could be decoded; the video is damaged.")
        }
        return thumbnails
    }
}
