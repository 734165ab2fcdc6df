public import Foundation
internal import VideoCore

/// How a live stream's output is made.
public struct LiveTranscodeMode: Hashable, Sendable, CustomStringConvertible {
    private enum Value: Hashable, Sendable { case passThrough, ladder, automatic }
    private let value: Value

    /// Package the publisher's own H.264/AAC as the single rendition: no decoding, the least CPU and latency.
    public static let passThrough = LiveTranscodeMode(value: .passThrough)
    /// Transcode to the rungs of the platform's ladder below the source's height in real time,
    /// beside the pass-through rendition, whatever it costs.
    public static let ladder = LiveTranscodeMode(value: .ladder)
    /// Transcode to the ladder while the encoder keeps up with real time; when it falls more than
    /// ``LiveConfiguration/maxTranscodeLag`` behind, stop it and go on with pass-through alone
    /// (reported in ``LiveStreamStatus/fallbackReason`` and the log).
    public static let automatic = LiveTranscodeMode(value: .automatic)

    public var description: String {
        switch value {
        case .passThrough: "passThrough"
        case .ladder: "ladder"
        case .automatic: "automatic"
        }
    }

    /// Parses `passThrough`, `ladder` or `automatic` (as a command-line option gives them).
    public init?(_ text: String) {
        switch text.lowercased() {
        case "passthrough", "pass-through", "copy": self = .passThrough
        case "ladder", "transcode": self = .ladder
        case "automatic", "auto": self = .automatic
        default: return nil
        }
    }

    private init(value: Value) { self.value = value }

    var transcodes: Bool { value != .passThrough }
    var fallsBack: Bool { value == .automatic }
}

/// The settings of ``LiveStreaming``: where RTMP listens and how live HLS is cut and kept.
public struct LiveConfiguration: Sendable {
    /// The RTMP listener (port 1935 by default; 0 picks a free one) and its limits.
    public var rtmp: RTMPServerConfiguration
    /// Segment length, 1 to 6 seconds. Latency is about one segment plus the player's buffer
    /// (players hold about three segments): shorter segments, lower latency. The publisher's
    /// keyframe interval should divide it (OBS: "Keyframe Interval"; FFmpeg: `-g`).
    public var segmentDuration: Duration
    /// Segments listed in the live playlist (`index.m3u8`), at least 3.
    public var window: Int
    /// How far back viewers can seek: `dvr.m3u8` lists (and the store keeps) this much, at least
    /// the live window.
    public var dvrWindow: Duration
    /// A publisher that drops and reconnects with the same key within this time continues the same
    /// stream (with `EXT-X-DISCONTINUITY`); after it the stream ends and its recording is published.
    public var reconnectWindow: Duration
    /// Pass-through, ladder or automatic.
    public var transcode: LiveTranscodeMode
    /// How far behind real time a live transcode may fall before ``LiveTranscodeMode/automatic`` stops it.
    public var maxTranscodeLag: Duration
    /// Key prefix of videos' media in the blob store: a live stream is packaged under
    /// `<prefix><video id>/live/` (`videos/<id>/live/master.m3u8` by default), beside where the
    /// publish saga puts the video on demand, so the platform's playback signing covers both.
    public var mediaPrefix: String
    /// The ingest address publishers are told (`rtmp://HOST:PORT/live`); nil makes it from the RTMP host and port.
    public var ingestBaseURL: String?
    /// Publish the recording as a video on demand when the stream ends.
    public var publishRecording: Bool
    /// Where recordings are written while live (local disk).
    public var scratchDirectory: URL
    /// How often the viewer count is written to the video while it is live.
    public var viewerUpdateInterval: Duration
    /// A viewer counts while it fetched the playlist within this time.
    public var viewerTimeout: Duration

    /// Creates a configuration: 2-second fMP4 segments, a 6-segment live window, 10 minutes of
    /// DVR, a 60-second reconnect window, pass-through.
    public init(rtmp: RTMPServerConfiguration = RTMPServerConfiguration(), segmentDuration: Duration = .seconds(2), window: Int = 6,
                dvrWindow: Duration = .seconds(600), reconnectWindow: Duration = .seconds(60), transcode: LiveTranscodeMode = .passThrough,
                maxTranscodeLag: Duration = .seconds(6), mediaPrefix: String = "videos/", ingestBaseURL: String? = nil, publishRecording: Bool = true,
                scratchDirectory: URL = FileManager.default.temporaryDirectory.appendingPathComponent("videostack-live"),
                viewerUpdateInterval: Duration = .seconds(5), viewerTimeout: Duration = .seconds(30)) {
        self.rtmp = rtmp
        self.segmentDuration = segmentDuration
        self.window = window
        self.dvrWindow = dvrWindow
        self.reconnectWindow = reconnectWindow
        self.transcode = transcode
        self.maxTranscodeLag = maxTranscodeLag
        self.mediaPrefix = mediaPrefix
        self.ingestBaseURL = ingestBaseURL
        self.publishRecording = publishRecording
        self.scratchDirectory = scratchDirectory
        self.viewerUpdateInterval = viewerUpdateInterval
        self.viewerTimeout = viewerTimeout
    }

    /// Checks the ranges; throws ``VideoStackError/Code/invalidInput`` saying which setting is off.
    public func validate() throws {
        guard (Duration.seconds(1)...Duration.seconds(6)).contains(segmentDuration) else {
            throw VideoStackError(.invalidInput, "The live segment duration must be 1 to 6 seconds; got \(segmentDuration).")
        }
        guard window >= 3 else {
            throw VideoStackError(.invalidInput, "The live window must list at least 3 segments (RFC 8216 section 6.2.2); got \(window).")
        }
        guard dvrWindow >= .zero, reconnectWindow >= .zero else {
            throw VideoStackError(.invalidInput, "The DVR and reconnect windows cannot be negative.")
        }
        guard (0...65535).contains(rtmp.port) else {
            throw VideoStackError(.invalidInput, "The RTMP port must be 0 to 65535; got \(rtmp.port).")
        }
    }

    /// Segments `dvr.m3u8` lists: the DVR window in segments, never fewer than the live window.
    var dvrSegments: Int {
        max(window, Int((dvrWindow / segmentDuration).rounded(.up)))
    }
}
