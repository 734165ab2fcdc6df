public import AsyncHTTPClient
public import Foundation
public import NIOCore
public import NIOHTTP1
internal import NIOFoundationCompat
internal import Synchronization

/// A typed async client for VideoStack's HTTP API (`/api/v1`), for host applications' tests and
/// tools: accounts, tus uploads, videos, search, reviews, share links and views. Error answers
/// throw ``APIClientError`` with the JSON body's code.
///
/// ```swift
/// let client = VideoStackClient(baseURL: server.baseURL)
/// _ = try await client.signUp(username: "ada", email: "ada@example.com", password: "analytical-engine-1843", name: "Ada")
/// _ = try await client.signIn(email: "ada@example.com", password: "analytical-engine-1843")
/// let upload = try await client.upload(clip, title: "Engines")
/// let video = try await client.waitUntilPlayable(upload.videoID)
/// ```
///
/// After ``signIn(email:password:)`` the client sends the access token on every call and keeps
/// the refresh token; ``refresh()`` swaps them. Redirects are not followed (so `/s/{code}` can be
/// checked). The client is `Sendable`; its tokens sit behind a lock.
public final class VideoStackClient: Sendable {
    /// The server's origin, e.g. `http://127.0.0.1:8080`.
    public let baseURL: URL
    /// The API's path prefix (`/api/v1`).
    public let apiPrefix: String
    /// How long one request may take before it fails.
    public let timeout: TimeAmount
    private let http: HTTPClient
    private let tokens = Mutex<(access: String?, refresh: String?)>((nil, nil))

    /// A client for the server at `baseURL`.
    ///
    /// - Parameters:
    ///   - httpClient: the AsyncHTTPClient to use; nil uses one shared by every client of this
    ///     module (on the shared event loops, redirects not followed), which needs no shutdown.
    ///   - timeout: the deadline of each request.
    public init(baseURL: URL, apiPrefix: String = "/api/v1", httpClient: HTTPClient? = nil, timeout: TimeAmount = .seconds(60)) {
        self.baseURL = baseURL
        self.apiPrefix = apiPrefix
        self.timeout = timeout
        http = httpClient ?? Self.sharedHTTPClient
    }

    /// One client for the whole process, never shut down (like `HTTPClient.shared`), so a test that
    /// throws before it cleans up cannot trip AsyncHTTPClient's check for clients dropped unclosed.
    private static let sharedHTTPClient = HTTPClient(eventLoopGroupProvider: .singleton,
                                                     configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    /// A second client for the same server sharing this one's connections but none of its tokens
    /// (another user, or nobody signed in).
    public func anotherSession() -> VideoStackClient {
        VideoStackClient(baseURL: baseURL, apiPrefix: apiPrefix, httpClient: http, timeout: timeout)
    }

    /// Ends the client's use of its connections. The shared HTTP client stays up for other
    /// clients; one passed to ``init(baseURL:apiPrefix:httpClient:timeout:)`` is the caller's to shut down.
    public func shutdown() async throws {
        accessToken = nil
        refreshToken = nil
    }

    /// The access token sent as `Authorization: Bearer …`, nil when signed out. Settable, to test bad tokens.
    public var accessToken: String? {
        get { tokens.withLock { $0.access } }
        set { tokens.withLock { $0.access = newValue } }
    }

    /// The refresh token from the last sign-in or refresh.
    public var refreshToken: String? {
        get { tokens.withLock { $0.refresh } }
        set { tokens.withLock { $0.refresh = newValue } }
    }

    // MARK: Raw requests

    /// A response as it came: status, headers and the whole body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data
        /// The first value of the header `name`.
        public func header(_ name: String) -> String? { headers.first(name: name) }
        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request to `path` (absolute, e.g. `/api/v1/me` or `/media/…`; or a full URL)
    /// with the session's token unless `authorized` is false, and returns the response whatever
    /// its status. Bodies are read up to `maximumBody` bytes.
    public func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: Data? = nil,
                     authorized: Bool = true, maximumBody: Int = 64 << 20) async throws -> Response {
        var request = HTTPClientRequest(url: url(path).absoluteString)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if authorized, let token = accessToken, !request.headers.contains(name: "Authorization") {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.body = .bytes(ByteBuffer(data: body))
        } else if method == .POST || method == .PATCH || method == .PUT {
            request.headers.replaceOrAdd(name: "Content-Length", value: "0")
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = method == .HEAD ? ByteBuffer() : try await response.body.collect(upTo: maximumBody)
        return Response(status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    /// The absolute URL of `path` on the server (`path` may already be a full URL).
    public func url(_ path: String) -> URL {
        if path.hasPrefix("http://") || path.hasPrefix("https://"), let full = URL(string: path) { return full }
        return URL(string: path, relativeTo: baseURL)?.absoluteURL ?? baseURL.appendingPathComponent(path)
    }

    /// Sends a JSON request to the API and decodes the JSON answer, or throws ``APIClientError``.
    func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String, json: (some Encodable)? = Optional<Int>.none,
                                 headers: [(String, String)] = [], expect: Set<Int> = [200, 201], as: Answer.Type = Answer.self) async throws -> Answer {
        let response = try await callRaw(method, path, json: json, headers: headers, expect: expect)
        do {
            return try Self.decoder.decode(Answer.self, from: response.body)
        } catch {
            throw APIClientError(status: response.status, code: .unreadable, message: "The answer is not the JSON the contract describes: \(error)",
                                 requestID: response.header("X-Request-Id"), request: "\(method) \(path)",
                                 body: String(decoding: response.body.prefix(2000), as: UTF8.self))
        }
    }

    /// Like ``call(_:_:json:headers:expect:as:)`` for answers without a body worth decoding.
    @discardableResult
    func callRaw(_ method: HTTPMethod, _ path: String, json: (some Encodable)? = Optional<Int>.none, headers: [(String, String)] = [],
                 expect: Set<Int>) async throws -> Response {
        var headers = headers
        var body: Data?
        if let json {
            body = try Self.encoder.encode(json)
            headers.append(("Content-Type", "application/json"))
        }
        headers.append(("Accept", "application/json"))
        let response = try await send(method, path.hasPrefix("/") && !path.hasPrefix(apiPrefix) ? apiPrefix + path : path,
                                      headers: headers, body: body)
        guard expect.contains(response.status) else { throw Self.failure(response, request: "\(method) \(path)") }
        return response
    }

    /// The typed error for an error answer.
    public static func failure(_ response: Response, request: String) -> APIClientError {
        struct Envelope: Decodable {
            struct Body: Decodable {
                var code: String
                var message: String
                var requestId: String?
            }
            var error: Body
        }
        let retryAfter = response.header("Retry-After").flatMap { Int($0) }
        if let envelope = try? decoder.decode(Envelope.self, from: response.body) {
            return APIClientError(status: response.status, code: APIClientError.Code(envelope.error.code), message: envelope.error.message,
                                  requestID: envelope.error.requestId ?? response.header("X-Request-Id"), retryAfter: retryAfter, request: request)
        }
        return APIClientError(status: response.status, code: .unreadable, message: "The error answer is not the API's error JSON.",
                              requestID: response.header("X-Request-Id"), retryAfter: retryAfter, request: request,
                              body: String(decoding: response.body.prefix(2000), as: UTF8.self))
    }

    /// Dates as the API writes them: ISO 8601 in UTC, fractional seconds optional.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(text, strategy: .iso8601) { return date }
            if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not an ISO 8601 time"))
        }
        return decoder
    }()

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    /// `text` percent-encoded for one path segment or query value.
    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
