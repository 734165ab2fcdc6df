internal import Foundation
internal import VideoCore
public import VideoPlatform

/// The platform's playback rules as ``MediaDelivery``'s access policy: public, ready videos
/// play from plain URLs; unlisted and private ones, and anything not ready yet (a processing
/// video's growing playlist), only from URLs signed by `platform.playback`, which the API hands
/// to those who may watch (the owner and admins for private and unfinished videos).
///
/// ```swift
/// MediaDelivery(blobs: platform.blobs, authorizer: PlaybackMediaAccess(playback: platform.playback))
///     .addRoutes(to: router.group("media"))
/// ```
///
/// Caching follows from who may see the bytes: signed responses of an unlisted video stay in
/// shared caches no longer than their signature (``MediaAccessDecision/allow(until:)``); those of
/// private or unfinished videos are `private, no-cache` (``MediaAccessDecision/allowPrivately``),
/// so no CDN keeps them. A private or missing video answers 404 alike; a bad or expired signature
/// on an unlisted video, 403. The signature is carried into the URIs of the playlists and the
/// storyboard served under it (``MediaAccessDecision/propagatingQuery()``), since players resolve
/// those without the playlist's query.
public struct PlaybackMediaAccess: MediaAccessPolicy {
    /// Checks signatures and looks videos up.
    public let playback: PlaybackAuthorizer
    /// Where the delivery is mounted (`/media/`): the request path is this plus the blob key.
    public let mountPath: String

    /// A policy for a delivery mounted at `mountPath` (with a trailing slash); the authorizer's
    /// `mediaPathPrefix` (`/media/videos/` by default) must lie under it.
    public init(playback: PlaybackAuthorizer, mountPath: String = "/media/") {
        self.playback = playback
        self.mountPath = mountPath.hasSuffix("/") ? mountPath : mountPath + "/"
    }

    /// Allows, denies or hides one media request, by the table of `PlaybackAuthorizer`.
    public func authorize(_ request: MediaAccessRequest) async -> MediaAccessDecision {
        let path = mountPath + request.key
        let query = request.queryItems
        do {
            try await playback.authorize(path: path, query: query)
        } catch let error as VideoStackError where error.code == .notFound {
            return .notFound
        } catch {
            return .deny("\(error)")
        }
        guard query.contains(where: { $0.name == "signature" }) else { return .allow }
        // A valid signature: how long caches may keep the answer depends on whose bytes they are.
        let expires = query.first(where: { $0.name == "expires" })?.value.flatMap(TimeInterval.init).map(Date.init(timeIntervalSince1970:))
        guard let id = Self.videoID(in: path, prefix: playback.mediaPathPrefix),
              let video = try? await playback.catalog.video(id) else { return MediaAccessDecision.allowPrivately.propagatingQuery() }
        // Players resolve a playlist's URIs without its query: carry the signature into them.
        if video.status.isPlayable && video.visibility == .public { return MediaAccessDecision.allow.propagatingQuery() }
        if video.status.isPlayable && video.visibility == .unlisted, let expires { return MediaAccessDecision.allow(until: expires).propagatingQuery() }
        return MediaAccessDecision.allowPrivately.propagatingQuery()
    }

    static func videoID(in path: String, prefix: String) -> VideoID? {
        guard path.hasPrefix(prefix) else { return nil }
        return path.dropFirst(prefix.count).split(separator: "/").first.flatMap { VideoID(String($0)) }
    }
}
