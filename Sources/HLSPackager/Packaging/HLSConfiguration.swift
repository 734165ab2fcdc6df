public import Foundation
import VideoCore

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
    /// Extra segment boundaries before the first multiple of ``segmentDuration``, in time from
    /// the start: short opening segments, so a player can start once the first of them is
    /// encoded instead of a whole segment (`[1 s, 2 s]` with 4-second segments gives segments of
    /// 1, 1, 2, 4, 4, … seconds; the regular boundaries stay at the multiples). Each must be at
    /// least half a second after the one before it (and the first at least half a second in);
    /// boundaries at or past ``segmentDuration`` are ignored, so one list fits every segment
    /// length. ``HLSSink`` hands them to the transcoder as its opening keyframes. Playlists keep
    /// `EXT-X-TARGETDURATION` at the regular segment length from the first one on. Empty by default.
    public var openingBoundaries: [Duration]
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
                presentationOffset: Duration = .seconds(1), separateAudio: Bool = true, openingBoundaries: [Duration] = []) {
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
        self.openingBoundaries = openingBoundaries
    }

    /// The ``openingBoundaries`` that take effect: those before the first multiple of ``segmentDuration``.
    public var effectiveOpeningBoundaries: [Duration] {
        openingBoundaries.filter { $0 < segmentDuration }
    }

    /// Checks the settings every packager needs: a segment duration of 2 to 10 seconds, a
    /// presentation offset of 0 to 60 seconds, opening boundaries at least half a second apart,
    /// single-file mode only with VOD, a live window of at least 3 segments.
    ///
    /// - Throws: `VideoStackError/Code/invalidInput` saying which setting is wrong.
    public func validate() throws {
        guard (Duration.seconds(1)...Duration.seconds(10)).contains(segmentDuration) else {
            throw VideoStackError(.invalidInput, "The segment duration must be between 1 and 10 seconds; got \(segmentDuration).")
        }
        guard (Duration.zero...Duration.seconds(60)).contains(presentationOffset) else {
            throw VideoStackError(.invalidInput, "The presentation offset must be between 0 and 60 seconds; got \(presentationOffset).")
        }
        var previous = Duration.zero
        for boundary in openingBoundaries {
            guard boundary - previous >= .milliseconds(500) else {
                throw VideoStackError(.invalidInput, "The opening segment boundaries \(openingBoundaries) must increase by at least half a second each, starting at least half a second in.")
            }
            previous = boundary
        }
        if singleFile, mode != .vod {
            throw VideoStackError(.invalidInput, "Single-file (byte-range) mode needs VOD mode: a growing single file cannot be stored atomically per segment.")
        }
        if case .live(let window) = mode, window < 3 {
            throw VideoStackError(.invalidInput, "A live window needs at least 3 segments (RFC 8216 section 6.2.2); got \(window).")
        }
    }
}
