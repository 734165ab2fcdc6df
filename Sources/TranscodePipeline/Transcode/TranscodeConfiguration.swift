/// Settings of a ``Transcoder``.
///
/// The keyframe spacing is not here: the ``VideoCore/PacketSink`` says what it needs
/// (``VideoCore/PacketSink/keyframeInterval``), so an HLS sink's segment duration is the one
/// source of truth for both the keyframes and the cuts.
public struct TranscodeConfiguration: Sendable {
    /// x264's speed/quality trade-off.
    public var preset: X264Preset
    /// The H.264 profile; 8-bit 4:2:0 output fits ``H264Profile/high``.
    public var profile: H264Profile
    /// Output frame rates above this are halved until they fit.
    public var maxFrameRate: Double
    /// x264 threads per rendition; nil shares the machine's cores among the renditions by their pixel counts.
    public var encoderThreads: Int?
    /// Decoder threads; 0 lets FFmpeg choose.
    public var decoderThreads: Int
    /// Frames waiting for each encoder; bounds memory (one 1080p frame is 3 MB).
    public var queueDepth: Int
    /// Widest accepted picture in pixels; wider inputs are refused with `.limitExceeded`.
    public var maxWidth: Int
    /// Tallest accepted picture in pixels; taller inputs are refused with `.limitExceeded`.
    public var maxHeight: Int
    /// Largest accepted picture area (width × height); larger inputs are refused with `.limitExceeded`.
    public var maxPixels: Int
    /// A single read from the input that takes longer than this fails with `.io` (a stalled pipe).
    public var readTimeout: Duration
    /// Output audio sample rate in Hz (stereo AAC-LC).
    public var audioSampleRate: Int
    /// The poster and storyboard picked from the frames the transcode decodes anyway (no second
    /// decode of the upload); nil makes none.
    public var thumbnails: ThumbnailConfiguration?

    /// Creates a configuration; the defaults are x264 `veryfast`, High profile, 8K at most, a poster and a storyboard.
    public init(preset: X264Preset = .veryfast, profile: H264Profile = .high, maxFrameRate: Double = 60,
                encoderThreads: Int? = nil, decoderThreads: Int = 0, queueDepth: Int = 3, maxWidth: Int = 8192,
                maxHeight: Int = 8192, maxPixels: Int = 8192 * 4320, readTimeout: Duration = .seconds(30),
                audioSampleRate: Int = 48_000, thumbnails: ThumbnailConfiguration? = ThumbnailConfiguration()) {
        self.preset = preset
        self.profile = profile
        self.maxFrameRate = maxFrameRate
        self.encoderThreads = encoderThreads
        self.decoderThreads = decoderThreads
        self.queueDepth = queueDepth
        self.maxWidth = maxWidth
        self.maxHeight = maxHeight
        self.maxPixels = maxPixels
        self.readTimeout = readTimeout
        self.audioSampleRate = audioSampleRate
        self.thumbnails = thumbnails
    }
}

/// An x264 preset: how much encoding effort buys compression. Slower presets give smaller files
/// at the same quality.
public struct X264Preset: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, CaseIterable {
        case ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow
    }

    private let value: Value

    private init(_ value: Value) { self.value = value }

    /// x264's own name for it, e.g. `"veryfast"`.
    public var name: String { value.rawValue }
    public var description: String { name }

    /// The preset x264 calls `name`, or nil for a name it does not have.
    public init?(name: String) {
        guard let value = Value(rawValue: name) else { return nil }
        self.value = value
    }

    /// Every preset, fastest first.
    public static var all: [X264Preset] { Value.allCases.map(X264Preset.init) }

    public static let ultrafast = X264Preset(.ultrafast)
    public static let superfast = X264Preset(.superfast)
    public static let veryfast = X264Preset(.veryfast)
    public static let faster = X264Preset(.faster)
    public static let fast = X264Preset(.fast)
    public static let medium = X264Preset(.medium)
    public static let slow = X264Preset(.slow)
    public static let slower = X264Preset(.slower)
    public static let veryslow = X264Preset(.veryslow)
}

/// An H.264 profile: which coding tools decoders must support.
public struct H264Profile: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, CaseIterable {
        case baseline, main, high
    }

    private let value: Value

    private init(_ value: Value) { self.value = value }

    /// x264's name for it, e.g. `"high"`.
    public var name: String { value.rawValue }
    public var description: String { name }

    /// The profile x264 calls `name`, or nil for a name it does not have (or VideoStack does not encode).
    public init?(name: String) {
        guard let value = Value(rawValue: name) else { return nil }
        self.value = value
    }

    /// Constrained to what the oldest phones decode (no B-frames, no CABAC).
    public static let baseline = H264Profile(.baseline)
    /// B-frames and CABAC.
    public static let main = H264Profile(.main)
    /// Main plus 8x8 transforms: what every current player decodes; the default.
    public static let high = H264Profile(.high)
}
