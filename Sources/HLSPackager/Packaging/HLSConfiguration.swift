public import Foundation

/// How the packager cuts, names and lists segments.
public struct HLSConfiguration: Sendable {
    /// The container of media segments.
    public enum SegmentFormat: String, Sendable, Hashable {
        /// CMAF fragmented MP4 (`init.mp4` + `seg_NNNNN.m4s`): what current players want.
        case fmp4
        /// MPEG-2 transport stream (`seg_NNNNN.ts`, AAC as ADTS): for old clients.
        case mpegts
    }

    /// Which kind of media playlist to keep.
    public enum Mode: Sendable, Hashable {
        /// Written once, at the end, with `PLAYLIST-TYPE:VOD` and `ENDLIST`.
        case vod
        /// Rewritten after every segment with `PLAYLIST-TYPE:EVENT`, so playback can start while
        /// packaging runs; at the end it gets `ENDLIST` (and `PLAYLIST-TYPE:VOD` when
        /// ``HLSConfiguration/finishEventAsVOD`` is set).
        case event
        /// A live sliding window of the last `windowSize` segments (`MEDIA-SEQUENCE` and
        /// `DISCONTINUITY-SEQUENCE` advance as segments slide out); no playlist type.
        case live(windowSize: Int)
    }

    /// What to do when a track's first packets are not keyframes.
    public enum LeadingNonKeyframes: Sendable, Hashable {
        /// Throw `VideoStackError/Code/invalidPackets`.
        case reject
        /// Drop packets until the first keyframe (and audio before it), logging how many.
        case drop
    }

    /// Target segment duration, 1 to 10 seconds (1-second segments suit low-latency live streams). Segments are cut at the first keyframe at or
    /// after each multiple of it, so they are this long when keyframes fall on the boundaries.
    /// ``HLSSink`` hands it to the transcoder as its keyframe interval, so this is the one place
    /// the segment length is set.
    public var segmentDuration: Duration
    /// fMP4 (default) or MPEG-TS.
    public var segmentFormat: SegmentFormat
    /// VOD (default), EVENT or live.
    public var mode: Mode
    /// Put the init segment and all media segments in one file (`media.mp4` or `media.ts`) and
    /// address them with `EXT-X-BYTERANGE`. Only with ``Mode/vod``.
    public var singleFile: Bool
    /// Write an I-frame playlist (`iframes.m3u8`) for renditions with video. In fMP4 each
    /// segment's first keyframe then gets its own `moof`/`mdat`, so its byte range is a
    /// complete fragment.
    public var iFramePlaylist: Bool
    /// Wall-clock time of the first sample; when set, every segment gets `EXT-X-PROGRAM-DATE-TIME`.
    public var programDateTime: Date?
    /// Leading non-keyframes: reject (default) or drop.
    public var leadingNonKeyframes: LeadingNonKeyframes
    /// In ``Mode/event``, switch the final playlist to `PLAYLIST-TYPE:VOD`. RFC 8216 asks servers
    /// not to change the type; players that already loaded the EVENT playlist see `ENDLIST` either way.
    public var finishEventAsVOD: Bool
    /// Name of each rendition's media playlist.
    public var playlistName: String
    /// How many segment uploads may run while the next segment is being cut.
    public var concurrentWrites: Int
    /// Time added to every timestamp in the segments, the same for every track and rendition
    /// so they stay in sync, 0 to 60 seconds. It must cover how far decoding runs ahead of
    /// presentation at the start (two frames for x264 with B-frames); players start at the first
    /// segment regardless.
    public var presentationOffset: Duration
    /// Give audio renditions of their own (an `EXT-X-MEDIA` group that the video variants point
    /// at) instead of muxing audio into every video segment. ``HLSSink`` makes one audio rendition
    /// per distinct audio track, the remuxer one for the file's audio.
    public var separateAudio: Bool

    /// Creates a configuration; the defaults are 4-second fMP4 VOD with I-frame playlists and separate audio.
    public init(segmentDuration: Duration = .seconds(4), segmentFormat: SegmentFormat = .fmp4, mode: Mode = .vod, singleFile: Bool = false,
                iFramePlaylist: Bool = true, programDateTime: Date? = nil, leadingNonKeyframes: LeadingNonKeyframes = .reject,
                finishEventAsVOD: Bool = true, playlistName: String = "index.m3u8", concurrentWrites: Int = 4,
                presentationOffset: Duration = .seconds(1), separateAudio: Bool = true) {
        self.segmentDuration = segmentDuration
        self.segmentFormat = segmentFormat
        self.mode = mode
        self.singleFile = singleFile
        self.iFramePlaylist = iFramePlaylist
        self.programDateTime = programDateTime
        self.leadingNonKeyframes = leadingNonKeyframes
        self.finishEventAsVOD = finishEventAsVOD
        self.playlistName = playlistName
        self.concurrentWrites = concurrentWrites
        self.presentationOffset = presentationOffset
        self.separateAudio = separateAudio
    }
}
