/// The format of one encoded track, as a muxer or packager needs it.
///
/// Produced by the transcoder (or a demuxer on the remux path) and consumed by packagers.
public struct TrackFormat: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case video, audio }

    public var kind: Kind
    /// Codec short name as FFmpeg names it: `"h264"`, `"hevc"`, `"aac"`.
    public var codec: String
    /// Codec configuration exactly as FFmpeg's `codecpar->extradata` holds it: for H.264 either an
    /// `avcC` record or Annex B SPS/PPS with start codes; for AAC the AudioSpecificConfig.
    public var extradata: [UInt8]
    /// Timestamps of this track's packets count in units of `1/timescale` seconds.
    public var timescale: Int32
    public var width: Int
    public var height: Int
    /// Sample aspect ratio to signal (1:1 when square).
    public var sampleAspectRatio: Rational
    /// Nominal frame rate, when constant.
    public var frameRate: Rational?
    public var sampleRate: Int
    public var channels: Int
    /// Target (or measured) bit rate in bits per second, 0 when unknown.
    public var bitRate: Int
    /// RFC 6381 codec string, e.g. `"avc1.640028"` or `"mp4a.40.2"`, once known.
    public var codecString: String?

    public init(kind: Kind, codec: String, extradata: [UInt8], timescale: Int32, width: Int = 0, height: Int = 0,
                sampleAspectRatio: Rational = Rational(1, 1), frameRate: Rational? = nil, sampleRate: Int = 0,
                channels: Int = 0, bitRate: Int = 0, codecString: String? = nil) {
        self.kind = kind
        self.codec = codec
        self.extradata = extradata
        self.timescale = timescale
        self.width = width
        self.height = height
        self.sampleAspectRatio = sampleAspectRatio
        self.frameRate = frameRate
        self.sampleRate = sampleRate
        self.channels = channels
        self.bitRate = bitRate
        self.codecString = codecString
    }
}

/// One encoded access unit (a video frame or an audio frame) of one track.
public struct EncodedPacket: Sendable {
    /// The compressed bytes, exactly as FFmpeg's encoder or demuxer produced them (H.264 may be
    /// Annex B with start codes or length-prefixed; packagers normalize).
    public var data: [UInt8]
    /// Presentation and decoding timestamps in the track's timescale.
    public var pts: Int64
    public var dts: Int64
    /// Duration in the track's timescale (never 0 for a well-formed packet).
    public var duration: Int64
    /// Whether decoding can start here (an IDR frame for H.264).
    public var isKeyframe: Bool

    public init(data: [UInt8], pts: Int64, dts: Int64, duration: Int64, isKeyframe: Bool) {
        self.data = data
        self.pts = pts
        self.dts = dts
        self.duration = duration
        self.isKeyframe = isKeyframe
    }
}
