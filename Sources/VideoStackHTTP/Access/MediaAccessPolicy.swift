public import Foundation
public import HTTPTypes

/// Decides, per request, whether a media object may be served: the hook for signed URLs.
///
/// ``MediaDelivery`` asks the policy after the key has passed the path checks and before the
/// blob store is touched, so a refused request learns nothing about whether the object exists.
/// CORS preflights (`OPTIONS`) are answered without asking: they carry no credentials and read
/// nothing.
///
/// A platform's policy typically reads the video id from the key, looks up whether the video is
/// public, unlisted or private, and for the latter two verifies a signature carried in the query
/// (an HMAC over a key prefix and an expiry time). ``PublicMediaAccess`` allows everything.
///
/// Calls come concurrently from many requests; keep them fast (no I/O on the hot path for public
/// media) and never throw: a failure to decide is a ``MediaAccessDecision/deny(_:)``.
public protocol MediaAccessPolicy: Sendable {
    /// Decides whether `request` may read its object.
    func authorize(_ request: MediaAccessRequest) async -> MediaAccessDecision
}

/// What a ``MediaAccessPolicy`` sees of one request.
public struct MediaAccessRequest: Sendable {
    /// The blob key asked for, already decoded and checked (no `..`, no encoded separators).
    public var key: String
    /// `GET` or `HEAD`.
    public var method: HTTPRequest.Method
    /// The query string as sent (still percent-encoded), without the `?`; nil when there is none.
    public var rawQuery: String?
    /// The request's header fields (for a token in `Authorization` or a cookie, say).
    public var headerFields: HTTPFields
    /// When the request arrived, for checking expiry times.
    public var time: Date
    /// The peer's address (an IP address as text), when the request context knows it.
    public var clientAddress: String?

    /// Creates a request description (the delivery makes these; tests may too).
    public init(key: String, method: HTTPRequest.Method, rawQuery: String?, headerFields: HTTPFields, time: Date, clientAddress: String? = nil) {
        self.key = key
        self.method = method
        self.rawQuery = rawQuery
        self.headerFields = headerFields
        self.time = time
        self.clientAddress = clientAddress
    }

    /// The percent-decoded value of the first query parameter called `name` (`+` reads as a
    /// space), or nil when there is none or it is not valid UTF-8.
    public func queryValue(_ name: String) -> String? {
        guard let rawQuery else { return nil }
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let rawName = parts.first, PercentEncoding.decodeQueryComponent(rawName) == name else { continue }
            return parts.count > 1 ? PercentEncoding.decodeQueryComponent(parts[1]) : ""
        }
        return nil
    }

    /// Every query parameter, percent-decoded, in order (`+` reads as a space; a parameter whose
    /// value is not valid UTF-8 is left out), for verifiers that take Foundation's query items.
    public var queryItems: [URLQueryItem] {
        guard let rawQuery else { return [] }
        return rawQuery.split(separator: "&", omittingEmptySubsequences: true).compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = PercentEncoding.decodeQueryComponent(parts[0]) else { return nil }
            guard parts.count > 1 else { return URLQueryItem(name: name, value: nil) }
            guard let value = PercentEncoding.decodeQueryComponent(parts[1]) else { return nil }
            return URLQueryItem(name: name, value: value)
        }
    }
}

/// A ``MediaAccessPolicy``'s answer.
///
/// Allowing can also narrow caching: an object reached through a signed URL should not outlive
/// the signature in a shared cache (a CDN keys its cache by the whole URL, so after expiry it
/// would otherwise keep answering the expired link), and an owner-only preview should not be
/// stored by shared caches at all.
public struct MediaAccessDecision: Sendable, Equatable {
    enum Outcome: Sendable, Equatable {
        case allow
        case allowUntil(Date)
        case allowPrivately
        case deny(String)
        case notFound
    }

    let outcome: Outcome
    /// Whether URIs inside a playlist or storyboard served under this decision get the request's
    /// query appended (see ``propagatingQuery()``).
    let propagatesQuery: Bool

    init(outcome: Outcome, propagatesQuery: Bool = false) {
        self.outcome = outcome
        self.propagatesQuery = propagatesQuery
    }

    /// The same decision, and the request's query (a URL signature) appended to every URI inside
    /// a playlist or storyboard it serves: players resolve a playlist's relative URIs without
    /// the playlist's query, so without this a signed master playlist would name unsigned media
    /// playlists and segments. Such answers are built per request (no `ETag`, no ranges).
    public func propagatingQuery() -> MediaAccessDecision {
        MediaAccessDecision(outcome: outcome, propagatesQuery: true)
    }

    /// Serve the object with its normal caching.
    public static var allow: MediaAccessDecision { .init(outcome: .allow) }

    /// Serve the object, but let caches keep it only until `expiry` (the end of a URL signature's
    /// validity): `max-age` is capped at the seconds left, and `immutable` is dropped.
    public static func allow(until expiry: Date) -> MediaAccessDecision { .init(outcome: .allowUntil(expiry)) }

    /// Serve the object with `Cache-Control: private, no-cache`: browsers may keep it but must
    /// revalidate, and shared caches (CDNs) must not store it.
    public static var allowPrivately: MediaAccessDecision { .init(outcome: .allowPrivately) }

    /// Refuse with 403 Forbidden; `reason` is logged at debug level, not sent.
    public static func deny(_ reason: String) -> MediaAccessDecision { .init(outcome: .deny(reason)) }

    /// Answer 404 Not Found, for objects whose existence must not be revealed (private videos).
    public static var notFound: MediaAccessDecision { .init(outcome: .notFound) }
}

/// A ``MediaAccessPolicy`` that allows every request: for media that is all public.
public struct PublicMediaAccess: MediaAccessPolicy {
    /// Creates the policy.
    public init() {}

    /// Always ``MediaAccessDecision/allow``.
    public func authorize(_ request: MediaAccessRequest) async -> MediaAccessDecision { .allow }
}
