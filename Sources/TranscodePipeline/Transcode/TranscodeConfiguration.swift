/// Settings of a ``Transcoder``.
public struct TranscodeConfiguration: Sendable {
    /// Keyframes are forced at every multiple of this many seconds, at the same timestamps on
    /// every rendition, so a packager can cut aligned segments there. Between 1 and 20.
    public var segmentDuration: Double
    /// x264 preset (`ultrafast` … `veryslow`).
    public var preset: String
    /// H.264 profile; 8-bit 4:2:0 output fits `high`.
    public var profile: String
    /// Output frame rates above this are halved until they fit.
    public var maxFrameRate: Double
    /// x264 threads per rendition; nil shares the machine's cores among the renditions by their pixel counts.
    public var encoderThreads: Int?
    /// Decoder threads; 0 lets FFmpeg choose.
    public var decoderThreads: Int
    /// Frames waiting for each encoder; bounds memory (one 1080p frame is 3 MB).
    public var queueDepth: Int
    /// Largest accepted picture: wider, taller or larger inputs are refused with `.limitExceeded`.
    public var maxWidth: Int
    public var maxHeight: Int
    public var maxPixels: Int
    /// A single read from the input that takes longer than this many seconds fails with `.io`.
    public var readTimeout: Double
    /// Output audio sample rate in Hz (stereo AAC-LC).
    public var audioSampleRate: Int

    public init(segmentDuration: Double = 4, preset: String = "veryfast", profile: String = "high", maxFrameRate: Double = 60,
                encoderThreads: Int? = nil, decoderThreads: Int = 0, queueDepth: Int = 3, maxWidth: Int = 8192,
                maxHeight: Int = 8192, maxPixels: Int = 8192 * 4320, readTimeout: Double = 30, audioSampleRate: Int = 48_000) {
        self.segmentDuration = segmentDuration
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
    }
}
