public import VideoCore

/// How far a transcode has come.
public struct TranscodeProgress: Hashable, Sendable {
    /// Share of the input's duration encoded so far, 0 to 1.
    public var fraction: Double
    /// Seconds of media encoded so far.
    public var mediaSeconds: Double
    /// Source frames decoded per second of wall-clock time, averaged since the start.
    public var framesPerSecond: Double
    /// Wall-clock seconds left at the rate so far; nil until it can be estimated.
    public var estimatedSecondsLeft: Double?

    /// Creates a progress report; the ``Transcoder`` makes them.
    public init(fraction: Double, mediaSeconds: Double, framesPerSecond: Double, estimatedSecondsLeft: Double?) {
        self.fraction = fraction
        self.mediaSeconds = mediaSeconds
        self.framesPerSecond = framesPerSecond
        self.estimatedSecondsLeft = estimatedSecondsLeft
    }
}

/// What a finished transcode produced.
public struct TranscodeResult: Sendable {
    /// The renditions as encoded, with `VideoCore/Rendition/codecs` filled in (e.g. `"avc1.64001f,mp4a.40.2"`).
    public var renditions: [Rendition]
    /// Duration of the output in seconds (the last video frame's end, or the audio's when there is no video).
    public var duration: Double
    /// Video frames encoded per rendition (the same for every rendition of one frame rate).
    public var videoFrames: [Int]
    /// Times (seconds) where keyframes were forced on every video rendition.
    public var keyframeTimes: [Double]
    /// Damaged packets or frames in the input that the decoders concealed.
    public var decodeErrors: Int
    /// Wall-clock seconds the transcode took.
    public var elapsed: Double
}
