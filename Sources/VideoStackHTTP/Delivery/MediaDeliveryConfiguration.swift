/// How ``MediaDelivery`` serves objects: cache lifetimes, CORS, the in-memory object cache.
public struct MediaDeliveryConfiguration: Sendable {
    /// How long browsers and CDNs may keep each kind of object (sent as `Cache-Control`).
    public var cacheLifetimes: MediaCacheLifetimes

    /// Which web origins may read media with `fetch`/XHR (players such as hls.js do).
    public var allowedOrigins: CORSOrigins

    /// Objects of at most this many bytes are read whole and kept in memory; larger ones are
    /// streamed from the blob store in ``streamChunkSize`` chunks and never held whole.
    ///
    /// The default (4 MiB) holds a 4-second segment up to about 8 Mb/s: the hot set of a video
    /// service is its newest segments and playlists, and serving them from memory saves a read
    /// per request. 0 turns the cache off.
    public var maximumCachedObjectSize: Int

    /// The most bytes the object cache holds; the least recently used objects leave first.
    public var objectCacheCapacity: Int

    /// How long a cached object is served before the blob store is asked again whether it
    /// changed (one metadata call, not a read).
    ///
    /// Applies to everything but playlists (which have ``playlistRevalidationInterval``). The
    /// cost of a longer interval is that a deleted or replaced segment may be served for that
    /// long; the gain is one metadata call per interval instead of per request, which matters
    /// for a remote blob store.
    public var revalidationInterval: Duration

    /// The same for playlists, which change while a video is packaged or live.
    ///
    /// The default, 100 ms, is small beside the second a CDN keeps a growing playlist and the
    /// 4 seconds between a player's reloads, and it saves a metadata call on all but one request
    /// per interval (with 5,000 connections asking for one playlist, checking on every request
    /// gave 4.0k-6.4k requests per second here, this default 7.1k-14.7k). `.zero` checks on every
    /// request, so a playlist is never served staler than the blob store has it.
    public var playlistRevalidationInterval: Duration

    /// Chunk size for streaming large objects.
    public var streamChunkSize: Int

    /// The longest key accepted, in bytes after percent-decoding (the file store's limit).
    public var maximumKeyLength: Int

    /// Creates a configuration; every parameter has a default suited to a VOD service.
    public init(
        cacheLifetimes: MediaCacheLifetimes = .init(),
        allowedOrigins: CORSOrigins = .any,
        maximumCachedObjectSize: Int = 4 << 20,
        objectCacheCapacity: Int = 256 << 20,
        revalidationInterval: Duration = .seconds(1),
        playlistRevalidationInterval: Duration = .milliseconds(100),
        streamChunkSize: Int = 256 << 10,
        maximumKeyLength: Int = 1024
    ) {
        self.cacheLifetimes = cacheLifetimes
        self.allowedOrigins = allowedOrigins
        self.maximumCachedObjectSize = maximumCachedObjectSize
        self.objectCacheCapacity = objectCacheCapacity
        self.revalidationInterval = revalidationInterval
        self.playlistRevalidationInterval = playlistRevalidationInterval
        self.streamChunkSize = streamChunkSize
        self.maximumKeyLength = maximumKeyLength
    }
}

/// `Cache-Control` lifetimes by what an object is.
///
/// The defaults follow what the object can still become:
/// - segments, init segments, posters, storyboard tiles and indexes never change under one key,
///   so they are `public, max-age=31536000, immutable` (a year, the longest lifetime RFC 9111
///   caches are asked to honour, and no revalidation on reload);
/// - a media playlist with `#EXT-X-ENDLIST` must not change any more (RFC 8216 §6.2.1), so a day:
///   long enough that a CDN answers nearly every request, short enough that a taken-down or
///   re-published video's playlists leave caches by the next day without a purge;
/// - a growing (EVENT or live) playlist changes with every segment: 1 second, well under half a
///   4-second target duration, which is what RFC 8216 §6.2.2 leaves a client between reloads;
/// - a multivariant playlist does not say whether its renditions have ended, and the packager
///   rewrites it once at the end of an EVENT packaging (with measured bandwidths): 5 minutes
///   bounds that staleness while a CDN still absorbs almost every request;
/// - anything else (subtitles, other files): an hour.
public struct MediaCacheLifetimes: Sendable, Equatable {
    /// Segments, init segments, images, storyboards; sent with `immutable`.
    public var immutable: Duration
    /// Media playlists that contain `#EXT-X-ENDLIST`.
    public var endedPlaylist: Duration
    /// Media playlists without `#EXT-X-ENDLIST` (EVENT, live).
    public var growingPlaylist: Duration
    /// Multivariant (master) playlists.
    public var multivariantPlaylist: Duration
    /// Everything else.
    public var other: Duration

    /// Creates lifetimes; the defaults are described on the type.
    public init(
        immutable: Duration = .seconds(31_536_000),
        endedPlaylist: Duration = .seconds(86_400),
        growingPlaylist: Duration = .seconds(1),
        multivariantPlaylist: Duration = .seconds(300),
        other: Duration = .seconds(3_600)
    ) {
        self.immutable = immutable
        self.endedPlaylist = endedPlaylist
        self.growingPlaylist = growingPlaylist
        self.multivariantPlaylist = multivariantPlaylist
        self.other = other
    }
}

/// Which origins get CORS access to media.
public struct CORSOrigins: Sendable, Equatable {
    enum Mode: Sendable, Equatable {
        case any
        case list(Set<String>)
        case none
    }

    let mode: Mode

    /// `Access-Control-Allow-Origin: *` on every response: any page may play the media. The
    /// responses do not vary by origin, so one cached copy serves all.
    public static var any: CORSOrigins { .init(mode: .any) }

    /// Only these origins (`https://example.com`, scheme and host and port as browsers send
    /// them); the matching origin is echoed back and responses carry `Vary: Origin`.
    public static func only(_ origins: Set<String>) -> CORSOrigins { .init(mode: .list(origins)) }

    /// No CORS headers: only same-origin pages and non-browser clients can read the media.
    public static var none: CORSOrigins { .init(mode: .none) }
}
