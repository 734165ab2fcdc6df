/// An error answer of the VideoStack HTTP API, as ``VideoStackClient`` received it: the status,
/// the stable code and the message from the JSON body, the request id and `Retry-After`.
///
/// ```swift
/// do {
///     _ = try await client.signUp(username: "ada", email: "ada@example.com", password: "analytical-engine-1843", name: "Ada")
/// } catch let error as APIClientError where error.code == .conflict {
///     print(error.message)
/// }
/// ```
public struct APIClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable, snake_case code of the API's error body.
    public struct Code: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { rawValue = value }
        public var description: String { rawValue }

        /// 400: bad JSON, wrong types, missing or huge fields, bad ids or cursors.
        public static let invalidRequest = Code("invalid_request")
        /// 401: no token, a bad or expired one, or a wrong email or password.
        public static let unauthorized = Code("unauthorized")
        /// 403.
        public static let forbidden = Code("forbidden")
        /// 404.
        public static let notFound = Code("not_found")
        /// 405.
        public static let methodNotAllowed = Code("method_not_allowed")
        /// 409: a duplicate, a review of a video that is not ready, a tus offset mismatch.
        public static let conflict = Code("conflict")
        /// 412: an unsupported tus version.
        public static let preconditionFailed = Code("precondition_failed")
        /// 413: a body, an upload or a quota too large.
        public static let payloadTooLarge = Code("payload_too_large")
        /// 415.
        public static let unsupportedMediaType = Code("unsupported_media_type")
        /// 429, with ``APIClientError/retryAfter``.
        public static let rateLimited = Code("rate_limited")
        /// 500.
        public static let `internal` = Code("internal")
        /// The answer was not the API's error JSON (a proxy's page, a cut connection); see ``APIClientError/body``.
        public static let unreadable = Code("unreadable_response")
    }

    /// The HTTP status code.
    public var status: Int
    public var code: Code
    /// The human message from the server.
    public var message: String
    /// The `requestId` of the error body (also sent as `X-Request-Id`).
    public var requestID: String?
    /// Seconds from `Retry-After`, on 429s.
    public var retryAfter: Int?
    /// The method and path that failed.
    public var request: String
    /// The raw body when it was not the API's error JSON (first 2,000 bytes, as text).
    public var body: String?

    public init(status: Int, code: Code, message: String, requestID: String? = nil, retryAfter: Int? = nil, request: String, body: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.retryAfter = retryAfter
        self.request = request
        self.body = body
    }

    public var description: String {
        var text = "\(request) answered \(status) \(code): \(message)"
        if let requestID { text += " (request \(requestID))" }
        if let body { text += " body: \(body)" }
        return text
    }
}
