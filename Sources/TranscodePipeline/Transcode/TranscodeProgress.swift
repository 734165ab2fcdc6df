public import VideoCore

/// How far a transcode has come.
public struct TranscodeProgress: Hashable, Sendable {
    /// Share of the input's declared duration encoded so far, 0 to 1; nil when the input declares
    /// no duration (Matroska written to a pipe, a named pipe), where only ``mediaTime`` grows.
    public var fraction: Double?
    /// Media encoded so far (the end of the latest frame handed to the encoders).
    public var mediaTime: Duration
    /// Source frames decoded per second of wall-clock time, averaged since the start.
    public var framesPerSecond: Double
    /// Wall-clock time left at the rate so far; nil until it can be estimated.
    public var estimatedTimeLeft: Duration?

    /// Creates a progress report; the ``Transcoder`` makes them.
    public init(fraction: Double?, mediaTime: Duration, framesPerSecond: Double, estimatedTimeLeft: Duration?) {
        self.fraction = fraction
        self.mediaTime = mediaTime
        self.framesPerSecond = framesPerSecond
        self.estimatedTimeLeft = estimatedTimeLeft
    }
}

/// What a finished transcode produced.
public struct TranscodeResult: Sendable {
    /// The renditions as encoded, with `VideoCore/Rendition/codecs` filled in (e.g. `"avc1.64001f,mp4a.40.2"`).
    public var renditions: [Rendition]
    /// Duration of the output (the last video frame's end, or the audio's when there is no video).
    public var duration: Duration
    /// Video frames encoded per rendition (the same for every rendition of one frame rate).
    public var videoFrames: [Int]
    /// Presentation times of the keyframes of the first video rendition, as its packets carried
    /// them (every video rendition has them at the same times).
    public var keyframeTimes: [Duration]
    /// Damaged packets or frames in the input that the decoders concealed.
    public var decodeErrors: Int
    /// Wall-clock time the transcode took.
    public var elapsed: Duration
    /// The poster and storyboard picked from the decoded frames; nil without video or when
    /// ``TranscodeConfiguration/thumbnails`` is nil.
    public var thumbnails: Thumbnails?

    /// Creates a result; the ``Transcoder`` makes them (tests and other producers may too).
    public init(renditions: [Rendition], duration: Duration, videoFrames: [Int], keyframeTimes: [Duration], decodeErrors: Int,
                elapsed: Duration, thumbnails: Thumbnails?) {
        self.renditions = renditions
        self.duration = duration
        self.videoFrames = videoFrames
        self.keyframeTimes = keyframeTimes
        self.decodeErrors = decodeErrors
        self.elapsed = elapsed
        self.thumbnails = thumbnails
    }
}
