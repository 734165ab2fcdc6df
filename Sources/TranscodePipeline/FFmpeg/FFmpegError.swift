internal import CFFmpeg
public import VideoCore

extension VideoStackError.Code {
    /// FFmpeg could not decode the input's media data (damaged or not media at all).
    public static let decodeFailed = Self("decodeFailed")
    /// An encoder refused its settings or failed in the middle of a stream.
    public static let encodeFailed = Self("encodeFailed")
}

/// A negative FFmpeg return code with FFmpeg's own text for it, kept as an error's `VideoStackError/cause`.
public struct FFmpegReturnCode: Error, Sendable, CustomStringConvertible {
    /// The raw `AVERROR` value (always negative).
    public let rawValue: Int32
    /// `av_strerror`'s text for the value.
    public let description: String

    init(_ rawValue: Int32) {
        self.rawValue = rawValue
        self.description = ffmpegErrorText(rawValue)
    }
}

/// FFmpeg's text for a return code.
func ffmpegErrorText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    if av_strerror(code, &buffer, buffer.count) < 0 {
        return "FFmpeg error \(code)"
    }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The one place where a negative FFmpeg return code becomes a `VideoStackError`.
///
/// - Parameters:
///   - code: the return value of an FFmpeg call; non-negative values pass through.
///   - context: what was being done, phrased for a user ("could not open the input file x.mp4").
///   - fallback: the error code to use when FFmpeg's code maps to no more specific one.
@discardableResult
func check(_ code: Int32, _ context: @autoclosure () -> String, fallback: VideoStackError.Code = .internal) throws -> Int32 {
    if code >= 0 { return code }
    throw ffmpegError(code, context(), fallback: fallback)
}

/// Builds the error for a negative FFmpeg return code (see ``check(_:_:fallback:)``).
func ffmpegError(_ code: Int32, _ context: String, fallback: VideoStackError.Code) -> VideoStackError {
    let kind: VideoStackError.Code
    switch code {
    case vs_averror_exit(): kind = .cancelled
    case vs_averror_invaliddata(), vs_averror_eof(): kind = .corrupt
    case vs_averror_decoder_not_found(): kind = .unsupported
    case vs_averror(ENOENT): kind = .notFound
    case vs_averror(EACCES), vs_averror(EIO), vs_averror(ENOSPC): kind = .io
    case vs_averror(ENOMEM): kind = .limitExceeded
    default: kind = fallback
    }
    return VideoStackError(kind, "\(context): \(ffmpegErrorText(code)).", cause: FFmpegReturnCode(code))
}

/// AVERROR(EAGAIN), AVERROR_EOF as Swift constants.
let averrorEAGAIN = vs_averror_eagain()
let averrorEOF = vs_averror_eof()
let noPTS = vs_nopts_value()
