public import AsyncHTTPClient
public import Foundation
public import Logging
internal import NIOHTTP1
internal import NIOCore
internal import VideoCore
#if canImport(Glibc)
internal import Glibc
#endif

/// A whole response of an AWS service.
struct AWSResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// Sends signed requests to AWS services over async-http-client, with retries.
///
/// One client serves every store of a process (share it: its retry budget is what keeps a
/// failing service from being hammered). It signs each attempt afresh (credentials may rotate,
/// and a signature is bound to its time), retries throttling, 5xx answers and connection errors
/// with exponential backoff and full jitter (``AWSRetryStrategy``), and turns every other answer
/// into a `VideoStackError` that carries AWS's error code and message (``AWSServiceError``).
public final class AWSClient: Sendable {
    /// Region, credentials and endpoints.
    public let configuration: AWSConfiguration
    /// How failed attempts are retried.
    public let retryStrategy: AWSRetryStrategy
    /// The longest one attempt may take, connection set-up included.
    public let attemptTimeout: Duration
    let http: HTTPClient
    let logger: Logger
    let now: @Sendable () -> Date
    let budget: RetryBudget
    /// Host names connected to at another address, as curl's `--resolve` does.
    public let hostAddresses: [String: String]

    /// - Parameters:
    ///   - httpClient: the HTTP client to send with; the process-wide shared one by default (its
    ///     owner shuts it down, not this client).
    ///   - hostAddresses: connect to these addresses for these host names while the requests (and
    ///     their signatures) keep the names: virtual-hosted S3 against a local endpoint, or
    ///     split-horizon set-ups without DNS entries.
    ///   - now: the clock signatures are dated with.
    public init(configuration: AWSConfiguration, httpClient: HTTPClient = .shared, retryStrategy: AWSRetryStrategy = AWSRetryStrategy(),
                attemptTimeout: Duration = .seconds(60), hostAddresses: [String: String] = [:], logger: Logger,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.hostAddresses = hostAddresses
        self.configuration = configuration
        self.http = httpClient
        self.retryStrategy = retryStrategy
        self.attemptTimeout = attemptTimeout
        self.logger = logger
        self.now = now
        self.budget = RetryBudget(capacity: retryStrategy.budget)
    }

    /// Tokens left in the retry budget.
    public var retryBudgetRemaining: Int { budget.available }

    // MARK: Requests

    /// A request to `service` at its configured endpoint, with `path` (encoded) under the endpoint's own path.
    func request(_ service: AWSService, method: String, path: String = "/", query: [(name: String, value: String?)] = [],
                 headers: HTTPHeaders = HTTPHeaders(), endpoint: URL? = nil) -> AWSRequest {
        let base = endpoint ?? configuration.endpoint(for: service)
        let basePath = base.path.hasSuffix("/") ? String(base.path.dropLast()) : base.path
        return AWSRequest(method: method, scheme: base.scheme ?? "https", host: base.host ?? "", port: base.port,
                          path: AWSRequest.encodePath(AWSPercentEncoding.decode(basePath)).dropLastSlash() + (path.hasPrefix("/") ? path : "/" + path),
                          query: query, headers: headers)
    }

    /// Sends `request` with `body`, retrying as the strategy allows, and returns the whole answer.
    ///
    /// - Parameters:
    ///   - operation: names the call in errors and logs (`PutObject`).
    ///   - payload: what to sign for the body; its SHA-256 when nil.
    ///   - accept: statuses that are answers rather than errors (S3's 404 on HEAD, say).
    func send(_ request: AWSRequest, body: ArraySlice<UInt8> = [], service: AWSService, operation: String, payload: PayloadHash? = nil,
              accept: Set<Int> = [], maxResponseBytes: Int = 64 << 20) async throws -> AWSResponse {
        let payload = payload ?? (body.isEmpty ? .empty : PayloadHash(of: body))
        return try await withRetries(operation: operation, service: service) {
            let response = try await self.execute(request, body: body, service: service, payload: payload)
            let bytes = try await Self.collect(response, limit: maxResponseBytes, what: "The \(service) \(operation) response")
            let answer = AWSResponse(status: Int(response.status.code), headers: response.headers, body: bytes)
            if (200..<300).contains(answer.status) || accept.contains(answer.status) { return .success(answer) }
            return .failure(Self.serviceError(answer, service: service))
        }
    }

    /// The whole body of `response`, copied once into an array sized from its `Content-Length`
    /// (collecting into a growing buffer and converting copied a 64 MiB object three times).
    static func collect(_ response: HTTPClientResponse, limit: Int, what: @autoclosure () -> String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        if let declared = response.headers.first(name: "Content-Length").flatMap(Int.init), declared >= 0 {
            guard declared <= limit else {
                throw VideoStackError(.limitExceeded, "\(what()) is \(declared) bytes, more than the \(limit) allowed.")
            }
            // A declared length is a hint, not a promise: reserve no more than a part's worth up
            // front, so a lying header cannot make the client allocate what never arrives.
            bytes = emptyBuffer(capacity: min(declared, 64 << 20))
        }
        for try await part in response.body {
            guard part.readableBytes <= limit - bytes.count else {
                throw VideoStackError(.limitExceeded, "\(what()) is larger than \(limit) bytes.")
            }
            bytes.append(contentsOf: part.readableBytesView)
        }
        return bytes
    }

    /// An empty array with room for `capacity` bytes. A large one (4 MiB and up) asks Linux to
    /// back its whole 2 MiB blocks with transparent huge pages, where the system allows that for
    /// regions that ask: faulting in a fresh 64 MiB download 4 KiB at a time was most of its cost.
    static func emptyBuffer(capacity: Int) -> [UInt8] {
        guard capacity >= 4 << 20 else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(capacity)
            return bytes
        }
        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            #if os(Linux)
            let huge = 2 << 20
            if let base = buffer.baseAddress {
                let start = (Int(bitPattern: base) + huge - 1) & ~(huge - 1)
                let end = (Int(bitPattern: base) + buffer.count) & ~(huge - 1)
                if end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) { _ = madvise(pointer, end - start, MADV_HUGEPAGE) }
            }
            #endif
            count = 0
        }
    }

    /// The body of `response` as the buffers it arrived in, not copied (a large download copies
    /// each byte once, into its place in the object, instead of once per part and again into place).
    static func chunks(_ response: HTTPClientResponse, limit: Int, what: @autoclosure () -> String) async throws -> [ByteBuffer] {
        var chunks: [ByteBuffer] = []
        var count = 0
        for try await part in response.body {
            guard part.readableBytes <= limit - count else {
                throw VideoStackError(.limitExceeded, "\(what()) is larger than \(limit) bytes.")
            }
            count += part.readableBytes
            chunks.append(part)
        }
        return chunks
    }

    /// ``send(_:body:service:operation:payload:accept:maxResponseBytes:)`` of a bodiless request
    /// for a large answer: the answer's body as the buffers it arrived in (see ``chunks(_:limit:what:)``).
    func fetch(_ request: AWSRequest, service: AWSService, operation: String) async throws -> (status: Int, headers: HTTPHeaders, body: [ByteBuffer]) {
        try await withRetries(operation: operation, service: service) {
            let response = try await self.execute(request, body: [], service: service, payload: .empty)
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else { return .failure(await Self.serviceError(response, service: service)) }
            let body = try await Self.chunks(response, limit: .max, what: "The \(service) \(operation) response")
            return .success((status, response.headers, body))
        }
    }

    /// Sends `request` and hands back the response head and its body as it arrives; retries only
    /// until the head arrives (a body that breaks off mid-way throws to the consumer).
    func stream(_ request: AWSRequest, service: AWSService, operation: String) async throws -> HTTPClientResponse {
        try await withRetries(operation: operation, service: service) {
            let response = try await self.execute(request, body: [], service: service, payload: .empty)
            if (200..<300).contains(Int(response.status.code)) { return .success(response) }
            return .failure(await Self.serviceError(response, service: service))
        }
    }

    /// The error a streamed answer that is not a success stands for, read from its first MiB.
    private static func serviceError(_ response: HTTPClientResponse, service: AWSService) async -> AWSServiceError {
        let bytes = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
        return serviceError(AWSResponse(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes)), service: service)
    }

    /// A presigned copy of `request` for `expires`, signed with the current credentials.
    func presign(_ request: AWSRequest, service: AWSService, expires: Duration) async throws -> AWSRequest {
        let signer = SigV4Signer(credentials: try await configuration.credentials.credentials(), region: configuration.region, service: service.signingName)
        return try signer.presign(request, expires: expires, date: now())
    }

    // MARK: Internals

    /// `body` is a slice so that a multipart upload's parts are sent from the caller's bytes
    /// without copying each one out first.
    private func execute(_ request: AWSRequest, body: ArraySlice<UInt8>, service: AWSService, payload: PayloadHash) async throws -> HTTPClientResponse {
        var signed = request
        let signer = SigV4Signer(credentials: try await configuration.credentials.credentials(), region: configuration.region, service: service.signingName)
        signer.sign(&signed, payload: payload, date: now())
        var target = signed
        if let address = hostAddresses[signed.host] { target.host = address }
        var http = HTTPClientRequest(url: target.url)
        http.method = HTTPMethod(rawValue: signed.method)
        http.headers = signed.headers
        if !body.isEmpty || ["PUT", "POST"].contains(signed.method) {
            http.body = .bytes(body)
        }
        let timeout = TimeAmount.nanoseconds(Int64(attemptTimeout.components.seconds) * 1_000_000_000 + attemptTimeout.components.attoseconds / 1_000_000_000)
        return try await self.http.execute(http, timeout: timeout, logger: logger)
    }

    /// Runs `attempt` until it succeeds, fails for good, or the attempts or the budget run out.
    private func withRetries<T>(operation: String, service: AWSService,
                                _ attempt: () async throws -> Result<T, AWSServiceError>) async throws -> T {
        var retry = 0
        while true {
            try Task.checkCancellation()
            let failure: any Error
            let retryable: Bool
            var cost = retryStrategy.retryCost
            do {
                switch try await attempt() {
                case .success(let value):
                    budget.refund(retry == 0 ? 1 : cost)
                    return value
                case .failure(let error):
                    failure = error
                    retryable = error.isRetryable
                }
            } catch let error as VideoStackError {
                throw error
            } catch is CancellationError {
                throw VideoStackError(.cancelled, "The \(service) \(operation) request was cancelled.")
            } catch let error as HTTPClientError where Self.isRequestError(error) {
                throw VideoStackError(.invalidInput, "The \(service) \(operation) request could not be built: \(error). Check the endpoint URL.", cause: ErrorDescription(error))
            } catch {
                // Connection refused or reset, timeouts, TLS failures: the request may not have
                // arrived, so it is sent again.
                failure = error
                retryable = true
                cost = retryStrategy.timeoutRetryCost
            }
            retry += 1
            guard retryable, retry < retryStrategy.maxAttempts, budget.acquire(cost) else {
                throw Self.finalError(failure, service: service, operation: operation, attempts: retry, retryable: retryable)
            }
            let delay = retryStrategy.delay(beforeRetry: retry)
            logger.debug("retrying AWS request", metadata: ["service": "\(service)", "operation": "\(operation)", "attempt": "\(retry + 1)",
                                                           "delay": "\(delay)", "error": "\(failure)"])
            do {
                try await retryStrategy.sleep(delay)
            } catch {
                throw VideoStackError(.cancelled, "The \(service) \(operation) request was cancelled while waiting to retry.", cause: ErrorDescription(failure))
            }
        }
    }

    private static func finalError(_ failure: any Error, service: AWSService, operation: String, attempts: Int, retryable: Bool) -> VideoStackError {
        if let error = failure as? AWSServiceError {
            var result = error.videoStackError(operation: operation)
            if retryable { result.message += " (\(attempts) attempt\(attempts == 1 ? "" : "s"))" }
            return result
        }
        return VideoStackError(.serviceUnavailable, "\(service) \(operation) could not reach the service after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(failure). Check that the endpoint is up and reachable.",
                               cause: ErrorDescription(failure))
    }

    private static func isRequestError(_ error: HTTPClientError) -> Bool {
        [HTTPClientError.invalidURL, .emptyHost, .emptyScheme, .unsupportedScheme(""), .bodyLengthMismatch].contains(error)
    }

    /// Reads AWS's error out of a response: JSON protocols (`__type`, `message`), XML ones
    /// (`<Error><Code>`), the `x-amzn-ErrorType` header, or just the status (S3's HEAD has no body).
    static func serviceError(_ response: AWSResponse, service: AWSService) -> AWSServiceError {
        var code = ""
        var message = ""
        let requestID = response.headers.first(name: "x-amz-request-id") ?? response.headers.first(name: "x-amzn-RequestId")
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
            code = (object["__type"] as? String) ?? (object["code"] as? String) ?? ""
            message = (object["message"] as? String) ?? (object["Message"] as? String) ?? ""
        } else if let root = try? XMLNode.parse(response.body, what: service.configKey) {
            let error = root.name == "Error" ? root : (root.child("Error") ?? root)
            code = error.string("Code") ?? ""
            message = error.string("Message") ?? ""
        }
        if code.isEmpty, let header = response.headers.first(name: "x-amzn-ErrorType") { code = header }
        if let query = response.headers.first(name: "x-amzn-query-error"), let first = query.split(separator: ";").first {
            code = String(first)  // SQS's JSON protocol names the classic code here.
        }
        // "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "…:http://…" → the name.
        if let hash = code.lastIndex(of: "#") { code = String(code[code.index(after: hash)...]) }
        if let colon = code.firstIndex(of: ":") { code = String(code[..<colon]) }
        if code.isEmpty {
            switch response.status {
            case 404: code = "NotFound"
            case 403: code = "AccessDenied"
            case 412: code = "PreconditionFailed"
            case 416: code = "InvalidRange"
            case 503: code = "ServiceUnavailable"
            default: code = "HTTP\(response.status)"
            }
        }
        return AWSServiceError(service: service.configKey, status: response.status, code: code, message: message, requestID: requestID,
                               body: String(decoding: response.body.prefix(1 << 20), as: UTF8.self))
    }
}

extension String {
    fileprivate func dropLastSlash() -> String { hasSuffix("/") ? String(dropLast()) : self }
}
