/// What a full read of a media file found: whether it is complete and how much of it is damaged.
public struct IntegrityReport: Hashable, Sendable, Codable {
    /// Duration the container declares (zero when it declares none).
    public var declaredDuration: Duration
    /// End of the last packet actually present, from the start of the presentation.
    public var lastTimestamp: Duration
    /// Video frames decoded.
    public var videoFrames: Int
    /// Audio frames decoded.
    public var audioFrames: Int
    /// Packets the decoders rejected plus frames they had to conceal damage in.
    public var decodeErrors: Int
    /// Error lines the decoders logged (FFmpeg reports some concealed damage only there).
    public var loggedErrors: Int
    /// Whether the data ends well before the declared duration (an upload cut short).
    public var isTruncated: Bool
    /// Human-readable findings; empty when the file is intact.
    public var problems: [String]

    /// Whether the file read to its end with no damage found.
    public var isIntact: Bool { problems.isEmpty }

    /// Creates a report; ``MediaProbe/deepCheck(_:logger:)`` makes them.
    public init(declaredDuration: Duration, lastTimestamp: Duration, videoFrames: Int, audioFrames: Int, decodeErrors: Int,
                loggedErrors: Int, isTruncated: Bool, problems: [String]) {
        self.declaredDuration = declaredDuration
        self.lastTimestamp = lastTimestamp
        self.videoFrames = videoFrames
        self.audioFrames = audioFrames
        self.decodeErrors = decodeErrors
        self.loggedErrors = loggedErrors
        self.isTruncated = isTruncated
        self.problems = problems
    }
}
