/// A video resolution in pixels (`RESOLUTION=WxH`).
public struct Resolution: Hashable, Sendable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Creates a `width`×`height` resolution.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// An alternative rendition in a master playlist (`EXT-X-MEDIA`), e.g. the audio of a group.
public struct AlternativeMedia: Hashable, Sendable {
    /// `TYPE`.
    public enum MediaType: String, Hashable, Sendable {
        /// An audio rendition.
        case audio = "AUDIO"
        /// An alternative video rendition (camera angle).
        case video = "VIDEO"
        /// A subtitles (WebVTT) rendition.
        case subtitles = "SUBTITLES"
        /// Closed captions carried inside the video.
        case closedCaptions = "CLOSED-CAPTIONS"
    }

    /// `TYPE`: what kind of media the rendition carries.
    public var type: MediaType
    /// `GROUP-ID`: variants refer to the group by this name.
    public var groupID: String
    /// `NAME`: shown to the viewer.
    public var name: String
    /// `URI` of the rendition's media playlist; nil when the media is in the variant's own segments.
    public var uri: String?
    /// `LANGUAGE` (RFC 5646 tag).
    public var language: String?
    /// `DEFAULT=YES`.
    public var isDefault: Bool
    /// `AUTOSELECT=YES`.
    public var autoselect: Bool
    /// `CHANNELS`, e.g. `"2"`.
    public var channels: String?
    /// `INSTREAM-ID` (closed captions only).
    public var instreamID: String?

    /// Creates an `EXT-X-MEDIA` entry.
    public init(type: MediaType, groupID: String, name: String, uri: String? = nil, language: String? = nil,
                isDefault: Bool = false, autoselect: Bool = false, channels: String? = nil, instreamID: String? = nil) {
        self.type = type
        self.groupID = groupID
        self.name = name
        self.uri = uri
        self.language = language
        self.isDefault = isDefault
        self.autoselect = autoselect
        self.channels = channels
        self.instreamID = instreamID
    }
}

/// One variant stream (`EXT-X-STREAM-INF` plus its URI line).
public struct VariantStream: Hashable, Sendable {
    /// URI of the variant's media playlist.
    public var uri: String
    /// `BANDWIDTH`: peak segment bit rate in bits per second, audio included.
    public var bandwidth: Int
    /// `AVERAGE-BANDWIDTH` in bits per second.
    public var averageBandwidth: Int?
    /// `CODECS`, RFC 6381 strings joined by commas, e.g. `"avc1.640028,mp4a.40.2"`.
    public var codecs: String?
    /// `RESOLUTION`.
    public var resolution: Resolution?
    /// `FRAME-RATE` in frames per second.
    public var frameRate: Double?
    /// `AUDIO` group id.
    public var audio: String?
    /// `VIDEO` group id.
    public var video: String?
    /// `SUBTITLES` group id.
    public var subtitles: String?
    /// `CLOSED-CAPTIONS` group id, or nil; `"NONE"` is kept as the string NONE.
    public var closedCaptions: String?

    /// Creates a variant.
    public init(uri: String, bandwidth: Int, averageBandwidth: Int? = nil, codecs: String? = nil, resolution: Resolution? = nil,
                frameRate: Double? = nil, audio: String? = nil, video: String? = nil, subtitles: String? = nil,
                closedCaptions: String? = nil) {
        self.uri = uri
        self.bandwidth = bandwidth
        self.averageBandwidth = averageBandwidth
        self.codecs = codecs
        self.resolution = resolution
        self.frameRate = frameRate
        self.audio = audio
        self.video = video
        self.subtitles = subtitles
        self.closedCaptions = closedCaptions
    }
}

/// An I-frame playlist of a variant (`EXT-X-I-FRAME-STREAM-INF`), for trick play and scrubbing.
public struct IFrameStream: Hashable, Sendable {
    /// URI of the I-frame media playlist.
    public var uri: String
    /// `BANDWIDTH` of the I-frames alone, bits per second.
    public var bandwidth: Int
    /// `AVERAGE-BANDWIDTH`, bits per second.
    public var averageBandwidth: Int?
    /// `CODECS` of the video.
    public var codecs: String?
    /// `RESOLUTION`.
    public var resolution: Resolution?

    /// Creates an I-frame stream entry.
    public init(uri: String, bandwidth: Int, averageBandwidth: Int? = nil, codecs: String? = nil, resolution: Resolution? = nil) {
        self.uri = uri
        self.bandwidth = bandwidth
        self.averageBandwidth = averageBandwidth
        self.codecs = codecs
        self.resolution = resolution
    }
}

/// A master (multivariant) playlist (RFC 8216 section 4.3.4): the variants a player chooses from.
///
/// Write it with ``render()``, read it with ``init(parsing:)``.
public struct MasterPlaylist: Hashable, Sendable {
    /// `EXT-X-VERSION`, or nil to leave it out (version 1 features only need none).
    public var version: Int?
    /// `EXT-X-INDEPENDENT-SEGMENTS`: applies to every media playlist.
    public var independentSegments: Bool
    /// `EXT-X-MEDIA` entries.
    public var media: [AlternativeMedia]
    /// Variant streams, in the order a player should consider them first.
    public var variants: [VariantStream]
    /// I-frame playlists.
    public var iFrameStreams: [IFrameStream]

    /// Creates a master playlist.
    public init(version: Int? = nil, independentSegments: Bool = false, media: [AlternativeMedia] = [],
                variants: [VariantStream] = [], iFrameStreams: [IFrameStream] = []) {
        self.version = version
        self.independentSegments = independentSegments
        self.media = media
        self.variants = variants
        self.iFrameStreams = iFrameStreams
    }
}

/// Either kind of playlist, as ``Playlist/parse(_:)`` finds it.
public enum Playlist: Hashable, Sendable {
    /// A master (multivariant) playlist.
    case master(MasterPlaylist)
    /// A media playlist.
    case media(MediaPlaylist)
}
