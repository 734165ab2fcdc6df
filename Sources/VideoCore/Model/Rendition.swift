/// One rung of an adaptive-bitrate ladder: what to encode, and after encoding, what was produced.
///
/// Bit rates are spelled `bitRate` throughout VideoStack and count bits per second (`Int`).
public struct Rendition: Hashable, Sendable, Codable {
    /// Short name used in paths and playlists, e.g. `"720p"` or `"audio"`.
    public var name: String
    /// Output width in pixels (0 for audio-only).
    public var width: Int
    /// Output height in pixels (0 for audio-only).
    public var height: Int
    /// Target video bit rate in bits per second (0 for audio-only).
    public var videoBitRate: Int
    /// VBV max rate in bits per second; the encoder never exceeds it over `bufferSize`.
    public var maxBitRate: Int
    /// VBV buffer size in bits.
    public var bufferSize: Int
    /// Audio bit rate in bits per second (0 for video-only).
    public var audioBitRate: Int
    /// Output frame rate (frames per second), nil to keep the source's (capped at 60).
    public var frameRate: Double?
    /// RFC 6381 codec string once known, e.g. `"avc1.64001f,mp4a.40.2"`.
    public var codecs: String?

    public init(name: String, width: Int, height: Int, videoBitRate: Int, maxBitRate: Int? = nil, bufferSize: Int? = nil,
                audioBitRate: Int = 128_000, frameRate: Double? = nil, codecs: String? = nil) {
        self.name = name
        self.width = width
        self.height = height
        self.videoBitRate = videoBitRate
        self.maxBitRate = maxBitRate ?? videoBitRate * 107 / 100
        self.bufferSize = bufferSize ?? videoBitRate * 3 / 2
        self.audioBitRate = audioBitRate
        self.frameRate = frameRate
        self.codecs = codecs
    }

    /// Whether this rendition carries video.
    public var hasVideo: Bool { width > 0 && height > 0 }
    /// Whether this rendition carries audio.
    public var hasAudio: Bool { audioBitRate > 0 }
}

/// An adaptive-bitrate ladder: the renditions to encode, highest first.
public struct Ladder: Hashable, Sendable, Codable {
    public var renditions: [Rendition]

    public init(_ renditions: [Rendition]) {
        self.renditions = renditions.sorted { ($0.height, $0.videoBitRate) > ($1.height, $1.videoBitRate) }
    }

    /// A 16:9 H.264 ladder of 1080p, 720p, 480p, 360p and 240p, with bit rates in line with common
    /// platform recommendations for 30 fps content. Widths here are for 16:9; a planner fits
    /// them to the source's aspect ratio.
    public static let standard = Ladder([
        Rendition(name: "1080p", width: 1920, height: 1080, videoBitRate: 5_000_000, audioBitRate: 128_000),
        Rendition(name: "720p", width: 1280, height: 720, videoBitRate: 2_800_000, audioBitRate: 128_000),
        Rendition(name: "480p", width: 854, height: 480, videoBitRate: 1_400_000, audioBitRate: 128_000),
        Rendition(name: "360p", width: 640, height: 360, videoBitRate: 800_000, audioBitRate: 96_000),
        Rendition(name: "240p", width: 426, height: 240, videoBitRate: 400_000, audioBitRate: 64_000),
    ])
}
