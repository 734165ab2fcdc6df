public import Foundation
public import VideoCore

/// Where a viewer may fetch a video's media from: the files under ``pathPrefix``, with
/// ``query`` appended to every request (empty for a public video).
public struct PlaybackGrant: Hashable, Sendable {
    /// The directory of the video's media, e.g. `/media/videos/<id>/`.
    public var pathPrefix: String
    /// The signature's query items, to append to every media URL (playlists and segments);
    /// empty when plain URLs play.
    public var query: [URLQueryItem]
    /// When the signature stops working; nil for plain URLs.
    public var expires: Date?

    /// A grant as ``PlaybackAuthorizer`` makes it.
    public init(pathPrefix: String, query: [URLQueryItem], expires: Date?) {
        self.pathPrefix = pathPrefix
        self.query = query
        self.expires = expires
    }

    /// Whether plain, unsigned URLs play (a public, ready video).
    public var isPublic: Bool { query.isEmpty }

    /// `uri` with the grant's query appended (after any query it has): for the URIs inside a
    /// playlist served to this viewer, since players do not carry a playlist's query over to the
    /// URIs it lists.
    public func appendingQuery(to uri: String) -> String {
        guard !query.isEmpty else { return uri }
        var components = URLComponents()
        components.queryItems = query
        let encoded = components.percentEncodedQuery ?? ""
        return uri + (uri.contains("?") ? "&" : "?") + encoded
    }
}

/// Who may play what: public videos from plain URLs; unlisted and private ones (and anything
/// not ready yet) only from signed URLs.
///
/// | video | who gets a grant | URLs |
/// |---|---|---|
/// | public, ready or live | anyone | plain |
/// | unlisted, ready or live | anyone who has its id or a share link | signed |
/// | private | its owner and admins | signed |
/// | not ready (uploading, processing, failed, scheduled) | its owner and admins | signed |
///
/// Everyone else gets `notFound`, exactly as for a video that does not exist, so ids of
/// private videos cannot be probed.
public struct PlaybackAuthorizer: Sendable {
    /// Where videos are looked up.
    public let catalog: Catalog
    /// Signs grants and checks signed requests.
    public let signer: PlaybackURLSigner
    /// Media lives under `<mediaPathPrefix><id>/`.
    public let mediaPathPrefix: String
    /// How long a signed grant lasts.
    public let lifetime: Duration
    private let now: @Sendable () -> Date

    /// Takes the media path prefix and grant lifetime from `configuration` (the signer has its key);
    /// throws `invalidInput` for a prefix that is not an absolute directory path.
    public init(catalog: Catalog, signer: PlaybackURLSigner, configuration: PlaybackSigningConfiguration = .init(),
                now: @escaping @Sendable () -> Date = { Date() }) throws {
        try PlaybackURLSigner.checkPath(configuration.mediaPathPrefix, isPrefix: true)
        self.catalog = catalog
        self.signer = signer
        mediaPathPrefix = configuration.mediaPathPrefix
        lifetime = configuration.lifetime
        self.now = now
    }

    /// Whether `viewer` (nil when signed out) may see the video at all, by the table above: what
    /// the HTTP layer should also apply to a video's page and metadata.
    public static func mayView(_ video: Video, viewer: AuthenticatedUser?) -> Bool {
        viewer?.mayManage(ownedBy: video.owner) == true || (video.status.isPlayable && video.visibility != .private)
    }

    /// The directory of a video's media.
    public func pathPrefix(of videoID: VideoID) -> String { "\(mediaPathPrefix)\(videoID)/" }

    /// What `viewer` (nil when signed out) may play of the video; throws `notFound` when
    /// nothing (see the table above).
    public func grant(for videoID: VideoID, viewer: AuthenticatedUser?) async throws -> PlaybackGrant {
        guard let video = try await catalog.video(videoID) else { throw Self.noVideo(videoID) }
        return try grant(for: video, viewer: viewer)
    }

    /// The grant for a video already loaded (after a share link resolved it, say).
    public func grant(for video: Video, viewer: AuthenticatedUser?) throws -> PlaybackGrant {
        let prefix = pathPrefix(of: video.id)
        guard Self.mayView(video, viewer: viewer) else { throw Self.noVideo(video.id) }
        if video.visibility == .public && video.status.isPlayable {
            return PlaybackGrant(pathPrefix: prefix, query: [], expires: nil)
        }
        let expires = Date(timeIntervalSince1970: (now().timeIntervalSince1970 + lifetime.intervalInSeconds).rounded(.down))
        return PlaybackGrant(pathPrefix: prefix, query: try signer.sign(pathPrefix: prefix, expires: expires), expires: expires)
    }

    /// Checks one media request (`path` decoded, as routed): a valid signature for the path
    /// passes without a store read; otherwise the path's video must be public and ready.
    /// Throws `notFound` for paths outside the media tree or of videos that do not exist,
    /// `forbidden` (saying why) when a signature is missing, expired or wrong.
    public func authorize(path: String, query: [URLQueryItem]) async throws {
        guard path.hasPrefix(mediaPathPrefix),
              let idText = path.dropFirst(mediaPathPrefix.count).split(separator: "/", omittingEmptySubsequences: false).first,
              let id = VideoID(String(idText)), path.count > mediaPathPrefix.count + idText.count
        else { throw VideoStackError(.notFound, "There is no media at \(path.prefix(200)).") }
        let signed = query.contains { $0.name == "signature" }
        var signatureError: (any Error)?
        if signed {
            do {
                try signer.verify(path: path, query: query)
                return
            } catch {
                signatureError = error
            }
        }
        guard let video = try await catalog.video(id) else { throw Self.noVideo(id) }
        if video.visibility == .public && video.status.isPlayable {
            try PlaybackURLSigner.checkPath(path, isPrefix: false)
            return
        }
        if let signatureError { throw signatureError }
        // Private and unfinished videos look like missing ones to someone without a signature.
        guard video.visibility == .unlisted && video.status.isPlayable else { throw Self.noVideo(id) }
        throw VideoStackError(.forbidden, "Video \(id) plays only from a signed URL; ask for one (a playback grant) first.")
    }

    private static func noVideo(_ id: VideoID) -> VideoStackError {
        VideoStackError(.notFound, "There is no video \(id).")
    }
}
