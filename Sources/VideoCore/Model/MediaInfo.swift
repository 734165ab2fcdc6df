/// What a probe learned about a media file.
public struct MediaInfo: Hashable, Sendable, Codable {
    /// Container format name(s) as the demuxer reports them, e.g. `"mov,mp4,m4a,3gp,3g2,mj2"`.
    public var format: String
    /// Declared duration (zero when the container does not say, as in Matroska written to a pipe).
    public var duration: Duration
    /// Overall bit rate in bits per second (0 when unknown).
    public var bitRate: Int
    /// Size of the file in bytes, when known.
    public var size: Int64?
    public var streams: [StreamInfo]

    public init(format: String, duration: Duration, bitRate: Int, size: Int64? = nil, streams: [StreamInfo]) {
        self.format = format
        self.duration = duration
        self.bitRate = bitRate
        self.size = size
        self.streams = streams
    }

    /// The first (default) video stream, if any.
    public var video: StreamInfo? { streams.first { $0.kind == .video && !$0.isAttachedPicture } }
    /// The first (default) audio stream, if any.
    public var audio: StreamInfo? { streams.first { $0.kind == .audio } }
}

/// One stream of a media file.
public struct StreamInfo: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        case video, audio, subtitle, data, attachment, unknown
    }

    /// Index of the stream in the container.
    public var index: Int
    public var kind: Kind
    /// Codec short name, e.g. `"h264"`, `"aac"`.
    public var codec: String
    /// Codec profile name, e.g. `"High"`, `"LC"`.
    public var profile: String?
    /// Codec level (H.264: 31 means 3.1).
    public var level: Int?
    /// Bit rate of the stream in bits per second, when declared.
    public var bitRate: Int?
    /// Declared duration of the stream, when known.
    public var duration: Duration?
    /// ISO 639 language tag, when tagged.
    public var language: String?

    // Video
    public var width: Int?
    public var height: Int?
    /// Sample (pixel) aspect ratio as numerator/denominator; nil when square or unknown.
    public var sampleAspectRatio: Rational?
    /// Display aspect ratio after the sample aspect ratio is applied (before rotation).
    public var displayAspectRatio: Rational?
    /// Average frame rate over the stream.
    public var averageFrameRate: Rational?
    /// The lowest frame rate that represents all timestamps accurately ("r_frame_rate").
    public var realFrameRate: Rational?
    /// Whether frames arrive at irregular intervals.
    public var isVariableFrameRate: Bool?
    /// Pixel format name, e.g. `"yuv420p"`, `"yuv420p10le"`.
    public var pixelFormat: String?
    /// Bits per luma sample (8, 10, 12).
    public var bitDepth: Int?
    /// Colour transfer characteristic name, e.g. `"bt709"`, `"smpte2084"`.
    public var colorTransfer: String?
    /// Whether the transfer is an HDR one (PQ or HLG).
    public var isHDR: Bool?
    /// Clockwise rotation in degrees a player must apply (0, 90, 180, 270), from the display matrix.
    public var rotation: Int?
    /// Whether the frames are interlaced.
    public var isInterlaced: Bool?
    /// Whether this is a cover image rather than moving video.
    public var isAttachedPicture: Bool

    // Audio
    public var sampleRate: Int?
    public var channels: Int?
    /// Channel layout name, e.g. `"stereo"`, `"5.1(side)"`.
    public var channelLayout: String?

    public init(index: Int, kind: Kind, codec: String) {
        self.index = index
        self.kind = kind
        self.codec = codec
        self.isAttachedPicture = false
    }

    /// Width and height as a player should display them: rotation and sample aspect ratio applied.
    public var displaySize: (width: Int, height: Int)? {
        guard let width, let height, width > 0, height > 0 else { return nil }
        var displayWidth = Double(width)
        if let sar = sampleAspectRatio, sar.numerator > 0, sar.denominator > 0 {
            displayWidth = displayWidth * Double(sar.numerator) / Double(sar.denominator)
        }
        let w = Int(displayWidth.rounded())
        if let rotation, rotation % 180 != 0 { return (height, w) }
        return (w, height)
    }
}

/// A rational number, as media timestamps and ratios are stored.
public struct Rational: Hashable, Sendable, Codable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int

    public init(_ numerator: Int, _ denominator: Int) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// The value as a `Double`; 0 when the denominator is 0.
    public var doubleValue: Double { denominator == 0 ? 0 : Double(numerator) / Double(denominator) }
    public var description: String { "\(numerator)/\(denominator)" }
}
