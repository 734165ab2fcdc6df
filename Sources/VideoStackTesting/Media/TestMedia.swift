public import Foundation
public import Logging
public import TranscodePipeline

/// Small media files for tests, made in process by VideoStack's own FFmpeg wrapper
/// (TranscodePipeline's ``TranscodePipeline/TestPattern``): a moving test pattern with a tone,
/// at the size, rate and length a test asks for. No `ffmpeg` command is needed.
///
/// ```swift
/// let clip = try await TestMedia.clip(seconds: 4, width: 320, height: 240, frameRate: 30, logger: logger)
/// ```
public enum TestMedia {
    /// An H.264/AAC MP4 of `seconds` seconds (a 440 Hz tone unless `tone` is nil), as bytes.
    ///
    /// - Throws: `VideoStackError` `.invalidInput` for sizes, rates or lengths out of range
    ///   (see ``TranscodePipeline/TestPattern/validate()``).
    public static func clip(seconds: Double = 4, width: Int = 320, height: Int = 240, frameRate: Int = 30,
                            tone: Double? = 440, logger: Logger) async throws -> Data {
        try await pattern(seconds: seconds, width: width, height: height, frameRate: frameRate, tone: tone).data(logger: logger)
    }

    /// Writes the same clip as ``clip(seconds:width:height:frameRate:tone:logger:)`` to `url`, in
    /// `container` (MP4 unless said otherwise).
    public static func write(to url: URL, seconds: Double = 4, width: Int = 320, height: Int = 240, frameRate: Int = 30,
                             tone: Double? = 440, container: TestPattern.Container = .mp4, logger: Logger) async throws {
        var pattern = pattern(seconds: seconds, width: width, height: height, frameRate: frameRate, tone: tone)
        pattern.container = container
        try await pattern.write(to: url, logger: logger)
    }

    private static func pattern(seconds: Double, width: Int, height: Int, frameRate: Int, tone: Double?) -> TestPattern {
        // Milliseconds keep Duration exact for the values tests use; NaN, infinities and absurd
        // lengths become values that validation refuses, never an overflow.
        let milliseconds = seconds.isFinite ? Int64((min(max(seconds, 0), 1_000_000) * 1000).rounded()) : 0
        return TestPattern(width: width, height: height, frameRate: frameRate, duration: .milliseconds(milliseconds), toneFrequency: tone)
    }
}
