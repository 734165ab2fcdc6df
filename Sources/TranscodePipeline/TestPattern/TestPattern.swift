public import Foundation
public import Logging
import VideoCore

/// A few seconds of synthetic media, a moving test pattern with a sine tone, made in process by
/// FFmpeg's libraries (libavfilter's `testsrc2` and `sine` sources, libx264, the native AAC
/// encoder, libavformat's muxers): test input that needs no file and no `ffmpeg` command.
///
/// ```swift
/// let clip = TestPattern(width: 640, height: 360, frameRate: 30, duration: .seconds(4))
/// try await clip.write(to: URL(fileURLWithPath: "pattern.mp4"), logger: logger)
/// ```
///
/// The pattern changes every frame (a moving gradient, a counter, a clock), so every encoded
/// frame differs and seeking can be checked by eye. Keyframes come every ``keyframeInterval``.
/// Writing runs on a thread of its own, never on Swift's cooperative pool.
public struct TestPattern: Sendable, Hashable {
    /// The container written by ``write(to:logger:)``.
    public struct Container: Sendable, Hashable, CustomStringConvertible {
        /// libavformat's muxer name.
        public let muxer: String
        /// MP4 with the index (`moov`) at the front, as cameras and editors export for the web.
        public static let mp4 = Container(muxer: "mp4")
        /// Matroska.
        public static let matroska = Container(muxer: "matroska")
        /// MPEG transport stream.
        public static let mpegTS = Container(muxer: "mpegts")
        /// A QuickTime movie, as phones record.
        public static let quickTime = Container(muxer: "mov")

        public var description: String { muxer }
    }

    /// Picture width in pixels: even, 16 to 3840.
    public var width: Int
    /// Picture height in pixels: even, 16 to 2160.
    public var height: Int
    /// Frames per second: 1 to 120.
    public var frameRate: Int
    /// Length: more than zero, at most ten minutes.
    public var duration: Duration
    /// The tone's frequency in hertz (20 to 20,000); nil writes a file with no audio track.
    public var toneFrequency: Double?
    /// Time between keyframes (one every two seconds by default).
    public var keyframeInterval: Duration
    /// The container; ``Container/mp4`` by default.
    public var container: Container

    /// A test pattern with the given picture, rate and length (320x240 at 30 fps, 4 s and a 440 Hz tone by default).
    public init(width: Int = 320, height: Int = 240, frameRate: Int = 30, duration: Duration = .seconds(4),
                toneFrequency: Double? = 440, keyframeInterval: Duration = .seconds(2), container: Container = .mp4) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.duration = duration
        self.toneFrequency = toneFrequency
        self.keyframeInterval = keyframeInterval
        self.container = container
    }

    /// Checks the settings and says which one is wrong.
    ///
    /// - Throws: `VideoStackError` `.invalidInput` naming the field and the accepted range.
    public func validate() throws {
        guard (16...3840).contains(width), width % 2 == 0 else {
            throw VideoStackError(.invalidInput, "The test pattern's width \(width) is not an even number from 16 to 3840.")
        }
        guard (16...2160).contains(height), height % 2 == 0 else {
            throw VideoStackError(.invalidInput, "The test pattern's height \(height) is not an even number from 16 to 2160.")
        }
        guard (1...120).contains(frameRate) else {
            throw VideoStackError(.invalidInput, "The test pattern's frame rate \(frameRate) is not from 1 to 120 frames per second.")
        }
        guard duration > .zero, duration <= .seconds(600) else {
            throw VideoStackError(.invalidInput, "The test pattern's duration \(duration) is not more than zero and at most ten minutes.")
        }
        if let toneFrequency, !(20...20_000).contains(toneFrequency) {
            throw VideoStackError(.invalidInput, "The tone's frequency \(toneFrequency) Hz is not from 20 to 20,000 Hz.")
        }
        guard keyframeInterval > .zero else {
            throw VideoStackError(.invalidInput, "The keyframe interval \(keyframeInterval) must be more than zero.")
        }
    }

    /// Encodes the pattern into a new file at `url` (replaced when it exists).
    ///
    /// - Parameter logger: receives FFmpeg's messages about this file.
    /// - Throws: `VideoStackError`: `.invalidInput` for settings out of range (see ``validate()``),
    ///   `.io` when the file cannot be written, `.unsupported` when this FFmpeg build lacks a
    ///   filter, encoder or muxer, `.cancelled` when the task is cancelled (the partial file is removed).
    public func write(to url: URL, logger: Logger) async throws {
        try validate()
        let pattern = self
        let cancel = CancelFlag()
        do {
            try await runOnOwnThread(name: "videostack-testpattern", cancel: cancel) {
                try TestPatternWriter(pattern: pattern, url: url, logger: logger, cancel: cancel).run()
            }
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
    }

    /// Encodes the pattern and returns the file's bytes (written through a temporary file).
    public func data(logger: Logger) async throws -> Data {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("testpattern-\(UUID().uuidString).\(fileExtension)")
        defer { try? FileManager.default.removeItem(at: url) }
        try await write(to: url, logger: logger)
        do {
            return try Data(contentsOf: url)
        } catch {
            throw VideoStackError(.io, "Could not read back the test pattern at \(url.path): \(error.localizedDescription).", cause: ErrorDescription(error))
        }
    }

    /// The usual file name extension of ``container``.
    public var fileExtension: String {
        switch container.muxer {
        case "matroska": "mkv"
        case "mpegts": "ts"
        case "mov": "mov"
        default: "mp4"
        }
    }
}
