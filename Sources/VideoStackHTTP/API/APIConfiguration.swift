internal import Foundation
public import VideoCore

/// Settings of ``VideoStackAPI``: limits, CORS, where media and share links live.
///
/// The defaults suit the example server: JSON bodies up to 64 KiB, `Access-Control-Allow-Origin: *`
/// (the API authenticates with bearer tokens, never cookies, so any origin may call it), media
/// mounted at `/media/`, share links resolved at `/s/<code>` on the host the request came to.
public struct APIConfiguration: Sendable {
    /// The path the API's routes are added under, without a trailing slash (`/api/v1`).
    public var pathPrefix: String
    /// The largest JSON request body, in bytes; a larger one is answered 413 `payload_too_large`
    /// before it is read whole.
    public var maximumJSONBodySize: Int
    /// Origins that may call the API from a browser; nil allows any (`*`).
    public var allowedOrigins: [String]?
    /// How long browsers may cache a CORS preflight answer.
    public var preflightMaxAge: Duration
    /// The scheme and host share-link URLs start with (`https://video.example`); nil takes
    /// `http://` and the request's `Host`.
    public var publicBaseURL: String?
    /// Whether `X-Forwarded-For`'s first address is the client's (only behind a proxy you run;
    /// otherwise clients could pick the address they are rate-limited as).
    public var trustForwardedFor: Bool
    /// What a tus request costs in rate-limit tokens (an upload chunk is heavier than a read).
    public var uploadRequestCost: Int
    /// What a search costs in rate-limit tokens.
    public var searchRequestCost: Int
    /// Called after a video was deleted through the API, e.g. to purge `MediaDelivery`'s cache
    /// (`delivery.purge(keysWithPrefix: "videos/\(id)/")`).
    public var videoDeleted: (@Sendable (VideoID) -> Void)?

    /// The defaults are those described on each property.
    public init(
        pathPrefix: String = "/api/v1", maximumJSONBodySize: Int = 64 * 1024, allowedOrigins: [String]? = nil,
        preflightMaxAge: Duration = .seconds(600), publicBaseURL: String? = nil, trustForwardedFor: Bool = false,
        uploadRequestCost: Int = 1, searchRequestCost: Int = 1, videoDeleted: (@Sendable (VideoID) -> Void)? = nil
    ) {
        self.pathPrefix = pathPrefix
        self.maximumJSONBodySize = maximumJSONBodySize
        self.allowedOrigins = allowedOrigins
        self.preflightMaxAge = preflightMaxAge
        self.publicBaseURL = publicBaseURL
        self.trustForwardedFor = trustForwardedFor
        self.uploadRequestCost = uploadRequestCost
        self.searchRequestCost = searchRequestCost
        self.videoDeleted = videoDeleted
    }
}
