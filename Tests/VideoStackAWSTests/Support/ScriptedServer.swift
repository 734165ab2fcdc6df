import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server on 127.0.0.1 (port 0) that answers each request with the next of a list of
/// scripted responses and records what it received: for the client behaviours no emulator can be
/// told to show (throttling, 5xx, dropped connections).
final class ScriptedServer: Sendable {
    enum Reply: Sendable {
        case respond(status: Int, headers: [(String, String)], body: String)
        /// Closes the connection without answering.
        case drop
    }

    struct Received: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
    }

    /// The script and the log, shared by every connection's handler.
    final class State: Sendable {
        let mutex: Mutex<(replies: [Reply], received: [Received])>
        init(_ replies: [Reply]) { mutex = Mutex((replies, [])) }
    }

    let channel: any Channel
    let group: MultiThreadedEventLoopGroup
    private let state: State

    var port: Int { channel.localAddress!.port! }
    var endpoint: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var received: [Received] { state.mutex.withLock { $0.received } }

    init(_ replies: [Reply]) async throws {
        let state = State(replies)
        self.state = state
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Runs `body` with a server answering `replies`, and shuts it down whatever `body` did.
    static func with<T>(_ replies: [Reply], _ body: (ScriptedServer) async throws -> T) async throws -> T {
        let server = try await ScriptedServer(replies)
        do {
            let result = try await body(server)
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        // @unchecked Sendable: NIO calls a handler only on its channel's event loop.
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: State
        var head: HTTPRequestHead?

        init(state: State) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head else { return }
                let reply: Reply = state.mutex.withLock { state in
                    state.received.append(Received(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }))
                    return state.replies.isEmpty ? .respond(status: 500, headers: [], body: "script exhausted") : state.replies.removeFirst()
                }
                switch reply {
                case .drop:
                    context.close(promise: nil)
                case .respond(let status, let headers, let body):
                    var fields = HTTPHeaders(headers)
                    fields.replaceOrAdd(name: "Content-Length", value: String(body.utf8.count))
                    context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: fields))), promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        }
    }
}
