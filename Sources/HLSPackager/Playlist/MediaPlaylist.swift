public import Foundation

/// A byte range of a resource: `length` bytes starting at `offset` (RFC 8216 `EXT-X-BYTERANGE`).
public struct ByteRange: Hashable, Sendable {
    /// Number of bytes.
    public var length: Int
    /// First byte; nil means "right after the previous range of the same resource", as the
    /// RFC allows for segments (not for `EXT-X-MAP`).
    public var offset: Int?

    /// Creates a range of `length` bytes at `offset`.
    public init(length: Int, offset: Int?) {
        self.length = length
        self.offset = offset
    }
}

/// The media initialization section of fMP4 segments (`EXT-X-MAP`).
public struct MediaInitializationSection: Hashable, Sendable {
    /// URI of the init segment, relative to the playlist.
    public var uri: String
    /// Part of the resource holding it, when the init segment shares a file with media.
    public var byteRange: ByteRange?

    /// Creates an `EXT-X-MAP` pointing at `uri` (and `byteRange` of it).
    public init(uri: String, byteRange: ByteRange? = nil) {
        self.uri = uri
        self.byteRange = byteRange
    }
}

/// One media segment of a media playlist.
public struct MediaSegment: Hashable, Sendable {
    /// URI of the segment, relative to the playlist.
    public var uri: String
    /// Duration (`EXTINF`), written and parsed exactly as decimal seconds.
    public var duration: Duration
    /// The optional title after the comma of `EXTINF`.
    public var title: String
    /// The part of `uri` holding the segment (byte-range and I-frame playlists).
    public var byteRange: ByteRange?
    /// Whether an `EXT-X-DISCONTINUITY` precedes this segment (encoding or timestamps change).
    public var discontinuity: Bool
    /// The `EXT-X-MAP` in effect from this segment on, when it is written right before it.
    public var map: MediaInitializationSection?
    /// Wall-clock time of the segment's first sample (`EXT-X-PROGRAM-DATE-TIME`), millisecond precision.
    public var programDateTime: Date?

    /// Creates a segment; only `uri` and `duration` are required.
    public init(uri: String, duration: Duration, title: String = "", byteRange: ByteRange? = nil, discontinuity: Bool = false,
                map: MediaInitializationSection? = nil, programDateTime: Date? = nil) {
        self.uri = uri
        self.duration = duration
        self.title = title
        self.byteRange = byteRange
        self.discontinuity = discontinuity
        self.map = map
        self.programDateTime = programDateTime
    }
}

/// A media playlist (RFC 8216 section 4.3.3): the list of segments of one rendition.
///
/// Write it with ``render()``, read it with ``init(parsing:)``. Rendering then parsing gives
/// an equal value (durations are `Duration`s, written as exact decimals).
public struct MediaPlaylist: Hashable, Sendable {
    /// `EXT-X-PLAYLIST-TYPE`.
    public enum PlaylistType: String, Hashable, Sendable {
        /// The playlist never changes.
        case vod = "VOD"
        /// Segments are only appended, until `EXT-X-ENDLIST`.
        case event = "EVENT"
    }

    /// `EXT-X-VERSION`; use ``requiredVersion`` for the lowest one the features in use need.
    public var version: Int
    /// `EXT-X-TARGETDURATION` in whole seconds: at least every segment's duration rounded to the nearest integer.
    public var targetDuration: Int
    /// Sequence number of the first segment (`EXT-X-MEDIA-SEQUENCE`); grows as a live window slides.
    public var mediaSequence: Int
    /// Number of discontinuities that slid out of a live window (`EXT-X-DISCONTINUITY-SEQUENCE`).
    public var discontinuitySequence: Int
    /// VOD, EVENT, or nil for a live sliding window.
    public var playlistType: PlaylistType?
    /// `EXT-X-INDEPENDENT-SEGMENTS`: every segment decodes without the previous one.
    public var independentSegments: Bool
    /// `EXT-X-I-FRAMES-ONLY`: each segment is one I-frame (trick play).
    public var iFramesOnly: Bool
    /// `EXT-X-ENDLIST`: no more segments will be added.
    public var endList: Bool
    /// The segments, in order.
    public var segments: [MediaSegment]

    /// Creates a playlist. `version` defaults to the lowest that the given features need.
    public init(version: Int? = nil, targetDuration: Int, mediaSequence: Int = 0, discontinuitySequence: Int = 0,
                playlistType: PlaylistType? = nil, independentSegments: Bool = false, iFramesOnly: Bool = false,
                endList: Bool = false, segments: [MediaSegment] = []) {
        self.version = 1
        self.targetDuration = targetDuration
        self.mediaSequence = mediaSequence
        self.discontinuitySequence = discontinuitySequence
        self.playlistType = playlistType
        self.independentSegments = independentSegments
        self.iFramesOnly = iFramesOnly
        self.endList = endList
        self.segments = segments
        self.version = version ?? requiredVersion
    }

    /// The lowest `EXT-X-VERSION` compatible with the features this playlist uses (RFC 8216 section 7).
    public var requiredVersion: Int {
        var version = 1
        if segments.contains(where: { $0.duration.components.attoseconds != 0 }) { version = 3 }
        if iFramesOnly || segments.contains(where: { $0.byteRange != nil }) { version = max(version, 4) }
        if segments.contains(where: { $0.map != nil }) {
            // EXT-X-MAP needs 5 with I-frames-only playlists and 6 otherwise.
            version = max(version, iFramesOnly ? 5 : 6)
        }
        return version
    }

    /// The sum of segment durations.
    public var totalDuration: Duration { segments.reduce(.zero) { $0 + $1.duration } }
}
