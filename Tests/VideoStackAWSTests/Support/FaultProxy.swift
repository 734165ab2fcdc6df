import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP proxy on 127.0.0.1 (port 0) in front of an AWS emulator that, by rule, answers
/// errors in the emulator's place or breaks connections mid-body, and otherwise forwards each
/// request unchanged: the failures a real AWS endpoint shows under load (throttling, 5xx, resets),
/// made to happen on demand against a real implementation of the APIs.
///
/// Each rule matches requests by operation (`DynamoDB_20120810.GetItem`, `AmazonSQS.SendMessage`,
/// `S3 PUT partNumber`, …) and applies its fault to the next `times` matches; the proxy records
/// every request it saw, whether it forwarded it, and its body (for idempotency tokens).
final class FaultProxy: Sendable {
    /// What the proxy does to a matched request.
    enum Fault: Sendable {
        /// Answers this status, body and content type without forwarding.
        case respond(status: Int, contentType: String, body: String, headers: [(String, String)] = [])
        /// Closes the connection once the request body has begun to arrive: nothing is forwarded.
        case dropRequestBody
        /// Forwards the request (so it takes effect upstream), then sends the response head and
        /// half its body and closes the connection.
        case dropResponseBody

        /// DynamoDB's throttling answer (HTTP 400).
        static let provisionedThroughputExceeded = dynamoDB(400, "ProvisionedThroughputExceededException",
                                                            "The level of configured provisioned throughput for the table was exceeded.")
        /// DynamoDB's (and the JSON services') request-rate throttling answer (HTTP 400).
        static let dynamoDBThrottling = dynamoDB(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        /// S3's throttling answer (HTTP 503).
        static let slowDown = s3(503, "SlowDown", "Please reduce your request rate.")
        /// SQS's throttling answer on its JSON protocol (HTTP 400, the classic code in a header).
        static let sqsThrottling = Fault.respond(status: 400, contentType: "application/x-amz-json-1.0",
                                                 body: #"{"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"}"#,
                                                 headers: [("x-amzn-query-error", "RequestThrottled;Sender")])
        /// A bare 500 with a JSON error body.
        static let internalError = Fault.respond(status: 500, contentType: "application/x-amz-json-1.0",
                                                 body: #"{"__type":"InternalServerError","message":"injected"}"#)
        /// A 503 with no body at all (a load balancer in front of the service).
        static let unavailable = Fault.respond(status: 503, contentType: "text/plain", body: "")

        static func dynamoDB(_ status: Int, _ code: String, _ message: String) -> Fault {
            .respond(status: status, contentType: "application/x-amz-json-1.0",
                     body: #"{"__type":"com.amazonaws.dynamodb.v20120810#\#(code)","message":"\#(message)"}"#)
        }

        static func s3(_ status: Int, _ code: String, _ message: String) -> Fault {
            .respond(status: status, contentType: "application/xml",
                     body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>FAULT</RequestId></Error>")
        }
    }

    /// One request as the proxy saw it.
    struct Seen: Sendable {
        /// The operation name rules match against.
        var operation: String
        /// Whether the request reached the emulator.
        var forwarded: Bool
        /// Whether a fault was applied.
        var faulted: Bool
        /// The request body as text (JSON APIs; empty for large binary bodies).
        var body: String
    }

    private struct Rule: Sendable {
        var operation: String
        var fault: Fault
        var remaining: Int
    }

    private final class State: Sendable {
        let mutex = Mutex<(rules: [Rule], seen: [Seen])>(([], []))
    }

    let upstream: URL
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let http: HTTPClient
    private let state = State()

    var port: Int { channel.localAddress!.port! }
    /// The proxy's address, to configure clients with in place of the emulator's.
    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }

    init(upstream: URL) async throws {
        self.upstream = upstream
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let http = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: HTTPClient.Configuration(decompression: .disabled))
        self.http = http
        let state = self.state
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(state: state, upstream: upstream, http: http))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Runs `body` with a proxy in front of `upstream`, and shuts it down whatever `body` did.
    static func with<T>(upstream: URL, _ body: (FaultProxy) async throws -> T) async throws -> T {
        let proxy = try await FaultProxy(upstream: upstream)
        do {
            let result = try await body(proxy)
            try await proxy.shutdown()
            return result
        } catch {
            try? await proxy.shutdown()
            throw error
        }
    }

    func shutdown() async throws {
        try await channel.close()
        try await http.shutdown()
        try await group.shutdownGracefully()
    }

    /// Applies `fault` to the next `times` requests whose operation starts with `operation`
    /// (`Int.max`: until ``clear()``).
    func inject(_ fault: Fault, on operation: String, times: Int) {
        state.mutex.withLock { $0.rules.append(Rule(operation: operation, fault: fault, remaining: times)) }
    }

    /// Removes every rule and forgets what was seen.
    func clear() {
        state.mutex.withLock { $0 = ([], []) }
    }

    /// The requests seen so far whose operation starts with `operation`.
    func seen(_ operation: String) -> [Seen] {
        state.mutex.withLock { $0.seen.filter { $0.operation.hasPrefix(operation) } }
    }

    /// The operation a request performs: the JSON protocols' `X-Amz-Target`, else
    /// `S3 METHOD` followed by the names of its query parameters (`S3 PUT partNumber uploadId`).
    static func operation(of head: HTTPRequestHead) -> String {
        if let target = head.headers.first(name: "X-Amz-Target") { return target }
        let query = head.uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        let names = query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1)[0] }.sorted()
        return (["S3", head.method.rawValue] + names.map(String.init)).joined(separator: " ")
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: NIO calls a handler only on its channel's event loop; the forwarding
        // task touches only the channel (thread-safe) and values it copied.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: State
        let upstream: URL
        let http: HTTPClient
        var head: HTTPRequestHead?
        var body = ByteBuffer()
        var fault: Fault?
        var dropped = false

        init(state: State, upstream: URL, http: HTTPClient) {
            self.state = state
            self.upstream = upstream
            self.http = http
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !dropped else { return }
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
                let operation = FaultProxy.operation(of: head)
                fault = state.mutex.withLock { state in
                    guard let index = state.rules.firstIndex(where: { operation.hasPrefix($0.operation) && $0.remaining > 0 }) else { return nil }
                    state.rules[index].remaining -= 1
                    return state.rules[index].fault
                }
                if case .dropRequestBody = fault, head.headers.first(name: "Content-Length").flatMap(Int.init) ?? 0 == 0 {
                    // Nothing to break off in the middle of: break off before the answer instead.
                    record(head, forwarded: false)
                    drop(context)
                }
            case .body(var part):
                if case .dropRequestBody = fault, let head {
                    record(head, forwarded: false)
                    drop(context)
                    return
                }
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                self.head = nil
                switch fault {
                case .respond(let status, let contentType, let text, let extra):
                    record(head, forwarded: false)
                    var headers = HTTPHeaders(extra)
                    headers.add(name: "Content-Type", value: contentType)
                    headers.add(name: "Content-Length", value: String(text.utf8.count))
                    headers.add(name: "x-amzn-RequestId", value: "FAULT")
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                case .dropRequestBody:
                    record(head, forwarded: false)
                    drop(context)
                case .dropResponseBody, nil:
                    record(head, forwarded: true)
                    forward(head, body: body, cut: fault != nil, channel: context.channel)
                }
                fault = nil
            }
        }

        private func drop(_ context: ChannelHandlerContext) {
            dropped = true
            context.close(promise: nil)
        }

        private func record(_ head: HTTPRequestHead, forwarded: Bool) {
            let text = body.readableBytes <= 1 << 16 ? String(buffer: body) : ""
            state.mutex.withLock {
                $0.seen.append(Seen(operation: FaultProxy.operation(of: head), forwarded: forwarded, faulted: fault != nil, body: text))
            }
        }

        /// Sends the request on to the emulator and its answer back; with `cut`, only half the
        /// answer's body, then the connection closes.
        private func forward(_ head: HTTPRequestHead, body: ByteBuffer, cut: Bool, channel: any Channel) {
            var request = HTTPClientRequest(url: upstream.absoluteString.trimmingSuffix("/") + head.uri)
            request.method = head.method
            for header in head.headers where !["content-length", "transfer-encoding", "connection", "expect"].contains(header.name.lowercased()) {
                request.headers.add(name: header.name, value: header.value)
            }
            if body.readableBytes > 0 || [.PUT, .POST].contains(head.method) { request.body = .bytes(body) }
            let http = self.http
            Task {
                do {
                    let response = try await http.execute(request, timeout: .seconds(60))
                    let bytes = try await response.body.collect(upTo: 256 << 20)
                    var headers = HTTPHeaders()
                    for header in response.headers where !["content-length", "transfer-encoding", "connection"].contains(header.name.lowercased()) {
                        headers.add(name: header.name, value: header.value)
                    }
                    headers.add(name: "Content-Length", value: String(bytes.readableBytes))
                    channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)), promise: nil)
                    if cut {
                        let half = bytes.getSlice(at: bytes.readerIndex, length: bytes.readableBytes / 2) ?? ByteBuffer()
                        channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(half))).whenComplete { _ in channel.close(promise: nil) }
                    } else {
                        channel.write(HTTPServerResponsePart.body(.byteBuffer(bytes)), promise: nil)
                        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
                    }
                } catch {
                    channel.close(promise: nil)
                }
            }
        }
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
