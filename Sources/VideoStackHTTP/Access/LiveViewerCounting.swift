public import VideoStackLive
internal import Crypto
internal import HTTPTypes
internal import VideoCore

/// Counts live viewers from the playlists they fetch, around another access policy: each
/// allowed request for a live media playlist (`videos/<id>/live/<rung>/*.m3u8`) records its client
/// (address and user agent, hashed) as watching, and ``LiveStreaming`` shows as `viewers`
/// those seen within its viewer timeout. Players reload a live playlist every segment or so,
/// so a viewer who stops watching drops out within a few segments.
///
/// ```swift
/// let access = LiveViewerCounting(PlaybackMediaAccess(playback: platform.playback), live: live)
/// MediaDelivery(blobs: platform.blobs, authorizer: access).addRoutes(to: router.group("media"))
/// ```
///
/// The count is the ingest node's: on a fleet, route `…/live/` media requests to the node that
/// ingests the stream (or let each count what it serves).
public struct LiveViewerCounting<Base: MediaAccessPolicy>: MediaAccessPolicy {
    /// The policy that decides.
    public let base: Base
    /// Where viewers are recorded.
    public let live: LiveStreaming

    /// Counts viewers for `live`, leaving every decision to `base`.
    public init(_ base: Base, live: LiveStreaming) {
        self.base = base
        self.live = live
    }

    public func authorize(_ request: MediaAccessRequest) async -> MediaAccessDecision {
        let decision = await base.authorize(request)
        switch decision.outcome {
        case .allow, .allowUntil, .allowPrivately:
            if request.method == .get, let video = Self.liveVideo(of: request.key) {
                let client = (request.clientAddress ?? "-") + "\n" + (request.headerFields[.userAgent] ?? "")
                await live.recordViewer(of: video, viewer: Array(SHA256.hash(data: Array(client.utf8)).prefix(12)).lowercaseHex)
            }
        case .deny, .notFound:
            break
        }
        return decision
    }

    /// The video of a live media playlist key (`videos/<id>/live/<rung>/index.m3u8`); nil for
    /// anything else (segments, master playlists, VOD).
    static func liveVideo(of key: String) -> VideoID? {
        guard key.hasSuffix(".m3u8"), key.hasPrefix("videos/") else { return nil }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 5, parts[2] == "live" else { return nil }
        return VideoID(String(parts[1]))
    }
}
