internal import Crypto
internal import Foundation
internal import HTTPTypes
public import Hummingbird
public import Logging
internal import NIOCore
internal import SingleTableStore
internal import Synchronization
internal import VideoCore
public import VideoPlatform
public import VideoStackLive

/// The REST API of a ``VideoPlatform/Platform`` (JSON under `/api/v1`, tus uploads, share
/// links, the OpenAPI document) as routes a host adds to its own Hummingbird router.
///
/// ```swift
/// let api = VideoStackAPI(platform: platform, configuration: APIConfiguration(), logger: logger)
/// let router = Router(context: VideoStackRequestContext.self)
/// api.addRoutes(to: router)              // /api/v1/...
/// api.addShareLinkRoutes(to: router)     // GET /s/{code} → 302 /watch/<id>
/// api.addOpenAPIRoute(to: router)        // GET /openapi.json
/// ```
///
/// Every API response carries `X-Request-Id` (the client's, when it sent a sane one) and CORS
/// headers; errors are `{"error": {"code", "message", "requestId"}}` with the statuses of
/// ``APIError``. Each request passes, in order: the per-address rate limit, bearer
/// authentication (`platform.accounts`), the per-user rate limit, then its handler; an access
/// log line (swift-log, `info`) and swift-metrics record it (with the labels of Hummingbird's
/// `MetricsMiddleware`: `hb.requests`, `http.server.request.duration`, `hb.request.errors`,
/// `http.server.active_requests`).
///
/// Thread safety: a value type over `Sendable` parts; the routes may run on any number of tasks.
public struct VideoStackAPI: Sendable {
    /// The services the routes call.
    public let platform: Platform
    /// Limits, CORS and URLs.
    public let configuration: APIConfiguration
    /// The live service behind `/live`, when the host runs one (without it those routes answer 404).
    public let live: LiveStreaming?
    let logger: Logger
    /// The store's preferred place for reads (the embedded store's reader threads): handlers run
    /// there, so their reads need no hop.
    let readExecutor: (any TaskExecutor)?

    /// An API over `platform` (and `live`); `logger` receives the access log and server errors.
    public init(platform: Platform, live: LiveStreaming? = nil, configuration: APIConfiguration = APIConfiguration(), logger: Logger) {
        self.platform = platform
        self.live = live
        self.configuration = configuration
        self.logger = logger
        self.readExecutor = platform.store.preferredReadExecutor
    }

    // MARK: Mounting

    /// Adds every API route under ``APIConfiguration/pathPrefix`` of `routes` (a `Router` or
    /// a `RouterGroup`), with answers for unknown paths (404) and methods (405) in JSON.
    public func addRoutes<Routes: RouterMethods>(to routes: Routes) {
        let group = routes.group(RouterPath(configuration.pathPrefix))
        let plan = Self.routePlan
        for endpoint in plan {
            let route = configuration.pathPrefix + endpoint.path, metrics = RouteMetrics(method: endpoint.method)
            group.on(RouterPath(endpoint.path), method: endpoint.method) { request, context in
                var response = await self.respond(to: request, context: context, endpoint: endpoint, route: route, metrics: metrics)
                if request.method == .head { response.body = .init() }
                return response
            }
        }
        var paths: [String] = []
        for endpoint in plan where !paths.contains(endpoint.path) { paths.append(endpoint.path) }
        for path in paths {
            let allowed = plan.filter { $0.path == path }.map(\.method)
            for method in Self.otherMethods where !allowed.contains(method) {
                let endpoint = Endpoint.refused(path: path, method: method, allowed: allowed)
                let route = configuration.pathPrefix + path, metrics = RouteMetrics(method: method)
                group.on(RouterPath(path), method: method) { request, context in
                    await self.respond(to: request, context: context, endpoint: endpoint, route: route, metrics: metrics)
                }
            }
        }
        for method in Self.otherMethods + [.options] {
            let endpoint = Endpoint.unknown(method: method)
            let route = configuration.pathPrefix + endpoint.path, metrics = RouteMetrics(method: method)
            group.on("**", method: method) { request, context in
                await self.respond(to: request, context: context, endpoint: endpoint, route: route, metrics: metrics)
            }
        }
    }

    /// What ``addRoutes(to:)`` registers (besides 405 and 404 answers): every endpoint, `HEAD`
    /// beside each `GET`, and a CORS preflight (`OPTIONS`) on each path that has none of its own.
    static let routePlan: [Endpoint] = {
        var plan: [Endpoint] = []
        var paths: [String] = []
        for endpoint in endpoints {
            plan.append(endpoint)
            if endpoint.method == .get {
                var head = endpoint
                head.method = .head
                plan.append(head)
            }
            if !paths.contains(endpoint.path) { paths.append(endpoint.path) }
        }
        for path in paths where !endpoints.contains(where: { $0.path == path && $0.method == .options }) {
            plan.append(Endpoint.preflight(path: path))
        }
        return plan
    }()

    /// Adds `GET /s/{code}`: a 302 to `/watch/<videoId>` for a share link that resolves, a small
    /// HTML 404 page for one that does not (unknown, deleted or private video).
    public func addShareLinkRoutes<Routes: RouterMethods>(to routes: Routes, watchPathPrefix: String = "/watch/") {
        routes.get("s/{code}") { request, context in
            let code = context.parameters.get("code") ?? ""
            do {
                let (_, video) = try await self.platform.shareLinks.resolve(code)
                var fields = HTTPFields()
                fields[.location] = watchPathPrefix + video.id.description
                fields[.cacheControl] = "no-store"
                return Response(status: .found, headers: fields)
            } catch {
                let known = (error as? VideoStackError).map { $0.code == .notFound || $0.code == .invalidInput } ?? false
                if !known { self.logger.error("share link lookup failed", metadata: ["error": "\(error)"]) }
                let page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Link not found</title></head>"
                    + "<body><h1>This link does not lead anywhere</h1><p>The video was removed, is private, or the link is mistyped.</p>"
                    + "<p><a href=\"/\">Go to the home page</a></p></body></html>"
                var fields = HTTPFields()
                fields[.contentType] = "text/html; charset=utf-8"
                fields[.cacheControl] = "no-store"
                return Response(status: known ? .notFound : .internalServerError, headers: fields,
                                body: .init(byteBuffer: ByteBuffer(string: page)))
            }
        }
    }

    /// Adds `GET /openapi.json`: ``openAPIDocument`` with a `servers` entry for this mount.
    public func addOpenAPIRoute<Routes: RouterMethods>(to routes: Routes) {
        let document = ByteBuffer(bytes: openAPIDocument())
        routes.get("openapi.json") { _, _ in
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            fields[.accessControlAllowOrigin] = "*"
            return Response(status: .ok, headers: fields, body: .init(byteBuffer: document))
        }
    }

    /// The methods a path answers 405 to when no endpoint takes them.
    static let otherMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .trace, HTTPRequest.Method("QUERY")!]

    // MARK: The pipeline

    /// Runs one request through request id, rate limits, authentication, the handler and the
    /// error mapping, records it in `metrics` under `route` (the mounted path) and logs it.
    /// Never throws: every failure is an error response.
    func respond<Context: RequestContext>(to request: Request, context: Context, endpoint: Endpoint, route: String, metrics: RouteMetrics) async -> Response {
        let started = ContinuousClock.now
        let active = metrics.started()
        let requestID = Self.requestID(from: request)
        var call = APICall(request: request, parameters: context.parameters, requestID: requestID,
                           address: clientAddress(request, context: context), user: nil, baseLogger: logger, api: self)
        var response: Response
        do {
            // On the embedded store's reader threads (nil: no preference), the handler's reads
            // run in place instead of hopping to a reader and back (two thread wake-ups a request).
            response = try await withTaskExecutorPreference(readExecutor) { try await run(endpoint, call: &call) }
        } catch {
            let apiError = APIError(error, context: endpoint.errorContext)
            if apiError.status.code >= 500 {
                call.logger.error("request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path.prefix(200))"])
            }
            response = errorResponse(apiError, requestID: requestID)
        }
        decorate(&response, request: request, requestID: requestID)
        let elapsed = ContinuousClock.now - started
        metrics.finished(active, route: route, status: response.status, nanoseconds: elapsed.nanosecondsValue)
        guard logger.logLevel <= .info else { return response }
        call.logger.info("request", metadata: [
            "http.method": "\(request.method.rawValue)",
            "http.route": "\(route)",
            "http.path": "\(request.uri.path.prefix(200))",
            "http.status": "\(response.status.code)",
            "duration_ms": "\(Int(elapsed.secondsValue * 1000))",
            "user": "\(call.user?.username ?? "-")",
            "client": "\(call.address ?? "-")",
        ])
        return response
    }

    private func run(_ endpoint: Endpoint, call: inout APICall) async throws -> Response {
        if endpoint.method != .options {
            try await platform.rateLimiter.check(address: call.address, user: nil, cost: endpoint.cost(configuration))
        }
        if endpoint.authentication != .none {
            call.user = try await authenticate(call.request)
            if endpoint.authentication == .required, call.user == nil {
                throw APIError.unauthorized("Sign in first: send 'Authorization: Bearer <accessToken>'.")
            }
            if let user = call.user {
                try await platform.rateLimiter.check(address: nil, user: user.username, cost: endpoint.cost(configuration))
            }
        }
        return try await endpoint.handler(call)
    }

    /// The user behind a bearer token; nil without an `Authorization` field, 401 for any other
    /// scheme or a token that does not check out.
    private func authenticate(_ request: Request) async throws -> AuthenticatedUser? {
        guard let field = request.headers[.authorization] else { return nil }
        let parts = field.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError.unauthorized("Send credentials as 'Authorization: Bearer <accessToken>'.")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 4096 else { throw APIError.unauthorized("The access token is malformed.") }
        return try await platform.accounts.authenticate(accessToken: token)
    }

    /// The client's request id when it is 1 to 128 of `A-Z a-z 0-9 - _ . :`, else a new one.
    static func requestID(from request: Request) -> String {
        if let sent = request.headers[.requestID], (1...128).contains(sent.utf8.count),
           sent.utf8.allSatisfy({ byte in
               (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || "-_.:".utf8.contains(byte)
           }) {
            return sent
        }
        return RequestIDs.next()
    }

    private func clientAddress<Context: RequestContext>(_ request: Request, context: Context) -> String? {
        if configuration.trustForwardedFor, let forwarded = request.headers[.forwardedFor],
           let first = forwarded.split(separator: ",").first?.trimmingCharacters(in: .whitespaces), !first.isEmpty {
            return String(first.prefix(64))
        }
        guard let address = (context as? any RemoteAddressRequestContext)?.remoteAddress else { return nil }
        return address.ipAddress ?? address.description
    }

    // MARK: Responses

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = false
        return decoder
    }

    /// The JSON bytes of a response body: the streaming encoder, or `JSONEncoder` for what it
    /// does not cover.
    static func encodeJSON(_ value: some Encodable) throws -> ByteBuffer {
        if let bytes = ResponseJSONEncoder.encode(value) { return ByteBuffer(bytes: bytes) }
        return ByteBuffer(bytes: try encoder().encode(value))
    }

    /// A JSON response.
    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let body = try Self.encodeJSON(value)
        var fields = Self.jsonFields
        if !headers.isEmpty {
            fields = headers
            fields[.contentType] = "application/json; charset=utf-8"
            fields[.cacheControl] = fields[.cacheControl] ?? "no-store"
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }

    /// A JSON answer's fields when the handler adds none (made once: setting a field checks its value).
    static let jsonFields: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]

    /// An empty response (204, or tus answers).
    func empty(_ status: HTTPResponse.Status = .noContent, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        if fields[.cacheControl] == nil { fields[.cacheControl] = "no-store" }
        return Response(status: status, headers: fields)
    }

    func errorResponse(_ error: APIError, requestID: String) -> Response {
        let body = ErrorResource(error: .init(code: error.code, message: error.message, requestId: requestID))
        let data = (try? Self.encodeJSON(body)) ?? ByteBuffer(string: #"{"error":{"code":"internal","message":"","requestId":""}}"#)
        var fields = error.headerFields
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        return Response(status: error.status, headers: fields, body: .init(byteBuffer: data))
    }

    /// `X-Request-Id` and the CORS fields of every response.
    private func decorate(_ response: inout Response, request: Request, requestID: String) {
        response.headers[.requestID] = requestID
        if let origin = allowedOrigin(for: request) {
            if origin == "*" {
                if response.headers[.accessControlAllowOrigin] == nil { response.headers.append(Self.anyOriginField) }
            } else {
                response.headers[.accessControlAllowOrigin] = origin
                response.headers[.vary] = "Origin"
            }
            // Made once: building the field checks each of its 330 bytes.
            if response.headers[.accessControlExposeHeaders] == nil { response.headers.append(Self.exposedHeadersField) }
        }
    }

    static let exposedHeadersField = HTTPField(name: .accessControlExposeHeaders, value: exposedHeaders)
    static let anyOriginField = HTTPField(name: .accessControlAllowOrigin, value: "*")

    func allowedOrigin(for request: Request) -> String? {
        guard let allowed = configuration.allowedOrigins else { return "*" }
        guard let origin = request.headers[.origin], allowed.contains(origin) else { return nil }
        return origin
    }

    static let exposedHeaders = "Location, Upload-Offset, Upload-Length, Upload-Defer-Length, Upload-Metadata, Upload-Expires, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm, Video-Id, X-Request-Id, Retry-After, WWW-Authenticate"
    static let allowedRequestHeaders = "Authorization, Content-Type, Accept, X-Request-Id, X-Requested-With, Upload-Offset, Upload-Length, Upload-Defer-Length, Upload-Metadata, Upload-Checksum, Upload-Concat, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size"

    /// The CORS preflight fields for a path answering `methods`.
    func preflightFields(methods: [HTTPRequest.Method]) -> HTTPFields {
        var fields = HTTPFields()
        fields[.accessControlAllowMethods] = (methods + [.options]).map(\.rawValue).joined(separator: ", ")
        fields[.accessControlAllowHeaders] = Self.allowedRequestHeaders
        fields[.accessControlMaxAge] = String(Int(configuration.preflightMaxAge.secondsValue))
        return fields
    }
}

/// Request ids that cost no system call: a random prefix drawn once per process, then a counter
/// mixed through a keyed bijection (so ids are unique in the process, 24 hex digits like 96 random
/// bits, and do not show how many requests came before). A `getrandom` per request was a
/// noticeable share of a small request.
enum RequestIDs {
    private static let prefix = UInt32.random(in: .min ... .max)
    private static let key = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let count = counter.add(1, ordering: .relaxed).newValue
        // SplitMix64's finalizer: a bijection of the 64-bit counter, so no two ids repeat.
        var mixed = count &+ key
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        return String(unsafeUninitializedCapacity: 24) { out in
            for index in 0..<8 { out[index] = hexDigit(UInt8(truncatingIfNeeded: prefix >> (28 - 4 * index)) & 0xF) }
            for index in 0..<16 { out[8 + index] = hexDigit(UInt8(truncatingIfNeeded: mixed >> (60 - 4 * index)) & 0xF) }
            return 24
        }
    }
}
