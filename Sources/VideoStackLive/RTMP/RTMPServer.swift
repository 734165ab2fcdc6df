public import Foundation
public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOPosix
internal import VideoCore

/// Where and how an ``RTMPServer`` listens, and the limits it holds publishers to.
public struct RTMPServerConfiguration: Sendable {
    /// The address to bind (127.0.0.1 by default: put a proxy or firewall rule in front to publish from elsewhere).
    public var host: String
    /// The TCP port; 0 picks a free one (read it from ``RTMPServer/port``). RTMP's own is 1935.
    public var port: Int
    /// The session's names and limits (application name, chunk and message size caps).
    public var session: RTMPServerSession.Options
    /// A connection that sends nothing for this long (mid-handshake, or a publisher whose stream
    /// stalled) is closed.
    public var stallTimeout: Duration
    /// Media bytes a connection may have queued for its consumer before it is closed for falling behind.
    public var maxBacklogBytes: Int
    /// Connections open at once; more are closed right after accept.
    public var maxConnections: Int
    /// When set, every connection's inbound bytes are also written to `DIR/rtmp-<n>.bin`: a capture
    /// of what an encoder sends, to replay in tests or to debug an encoder. Off by default.
    public var captureDirectory: URL?

    /// Creates a configuration with defaults fit for OBS and FFmpeg.
    public init(host: String = "127.0.0.1", port: Int = 1935, session: RTMPServerSession.Options = .init(),
                stallTimeout: Duration = .seconds(10), maxBacklogBytes: Int = 64 << 20, maxConnections: Int = 256, captureDirectory: URL? = nil) {
        self.captureDirectory = captureDirectory
        self.host = host
        self.port = port
        self.session = session
        self.stallTimeout = stallTimeout
        self.maxBacklogBytes = maxBacklogBytes
        self.maxConnections = maxConnections
    }
}

/// One accepted RTMP connection, as its consumer sees it: the events it sends and the answers
/// the consumer gives.
///
/// Thread safety: `Sendable`; the answers hop to the connection's event loop.
public final class RTMPConnection: Sendable {
    /// A number for logs, unique within the server.
    public let id: Int
    /// The peer's address, for logs.
    public let remoteAddress: String
    /// What the publisher sends, in order. The stream ends when the connection closes; it ends
    /// by throwing the reason when the server closed it for bad input or a stall.
    public let events: AsyncThrowingStream<RTMPEvent, any Error>
    let channel: any Channel
    let handler: NIOLoopBound<RTMPChannelHandler>
    let backlog: NIOLockedValueBox<Int>

    init(id: Int, remoteAddress: String, events: AsyncThrowingStream<RTMPEvent, any Error>, channel: any Channel,
         handler: NIOLoopBound<RTMPChannelHandler>) {
        self.id = id
        self.remoteAddress = remoteAddress
        self.events = events
        self.channel = channel
        self.handler = handler
        backlog = NIOLockedValueBox(0)
    }

    /// Answers the pending `publish` with `NetStream.Publish.Start`.
    public func acceptPublish() {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.acceptPublish() }
    }

    /// Answers the pending `publish` with an error status, then closes the connection.
    public func refusePublish(code: String = "NetStream.Publish.BadName", description: String) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.refusePublish(code: code, description: description) }
    }

    /// Closes the connection, logging `reason`.
    public func close(reason: String) {
        let handler = self.handler
        channel.eventLoop.execute { handler.value.fail(VideoStackError(.cancelled, reason)) }
    }

    /// Tells the connection that the consumer has dealt with an event of `bytes` media bytes.
    public func consumed(_ bytes: Int) {
        backlog.withLockedValue { $0 -= bytes }
    }
}

/// An RTMP ingest server on SwiftNIO: accepts publishers (OBS, FFmpeg, GStreamer's rtmp2sink)
/// at `rtmp://HOST:PORT/APP/STREAM_KEY` and hands each connection to a consumer.
///
/// ```
/// let server = try await RTMPServer.start(configuration: .init(port: 0), logger: logger) { connection in
///     for try await event in connection.events { … }
/// }
/// ```
///
/// Every connection runs its own `RTMPServerSession` on its event loop; the consumer runs in a
/// task of its own, so a slow or failing stream never holds up another. A connection is closed
/// with a logged reason on bad input (garbage, an oversized chunk or message, a stall, a
/// consumer that falls behind by more than ``RTMPServerConfiguration/maxBacklogBytes``).
public final class RTMPServer: Sendable {
    /// The port the server listens on (the one picked, when the configuration said 0).
    public let port: Int
    private let channel: any Channel
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let consumers: NIOLockedValueBox<[Int: Task<Void, Never>]>
    private let logger: Logger

    private init(port: Int, channel: any Channel, group: any EventLoopGroup, ownsGroup: Bool, consumers: NIOLockedValueBox<[Int: Task<Void, Never>]>, logger: Logger) {
        self.port = port
        self.channel = channel
        self.group = group
        self.ownsGroup = ownsGroup
        self.consumers = consumers
        self.logger = logger
    }

    /// Binds and starts accepting; `consumer` is called once per connection, in its own task.
    ///
    /// Throws ``VideoStackError/Code/io`` when the address cannot be bound.
    public static func start(configuration: RTMPServerConfiguration, group: (any EventLoopGroup)? = nil, logger: Logger,
                             consumer: @escaping @Sendable (RTMPConnection) async -> Void) async throws -> RTMPServer {
        let loops = group ?? MultiThreadedEventLoopGroup.singleton
        let counter = NIOLockedValueBox(0)
        let open = NIOLockedValueBox(0)
        let consumers = NIOLockedValueBox<[Int: Task<Void, Never>]>([:])
        let bootstrap = ServerBootstrap(group: loops)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let id = counter.withLockedValue { $0 += 1; return $0 }
                let current = open.withLockedValue { $0 += 1; return $0 }
                let remote = channel.remoteAddress.map { "\($0)" } ?? "unknown"
                var connectionLogger = logger
                connectionLogger[metadataKey: "rtmp.connection"] = "\(id)"
                connectionLogger[metadataKey: "rtmp.peer"] = "\(remote)"
                channel.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
                guard current <= configuration.maxConnections else {
                    connectionLogger.warning("RTMP connection refused: too many open", metadata: ["limit": "\(configuration.maxConnections)"])
                    return channel.close()
                }
                let (events, continuation) = AsyncThrowingStream<RTMPEvent, any Error>.makeStream()
                let handler = RTMPChannelHandler(id: id, configuration: configuration, continuation: continuation, logger: connectionLogger)
                do {
                    try channel.pipeline.syncOperations.addHandler(handler)
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                let connection = RTMPConnection(id: id, remoteAddress: remote, events: events, channel: channel,
                                                handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                handler.connection = connection
                let task = Task {
                    await consumer(connection)
                    connection.close(reason: "the consumer finished")
                    _ = consumers.withLockedValue { $0.removeValue(forKey: id) }
                }
                consumers.withLockedValue { $0[id] = task }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw VideoStackError(.io, "Could not listen for RTMP on \(configuration.host):\(configuration.port): \(error). Pick another port (0 picks a free one).",
                                  cause: error)
        }
        let port = channel.localAddress?.port ?? configuration.port
        logger.info("RTMP server listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
        return RTMPServer(port: port, channel: channel, group: loops, ownsGroup: false, consumers: consumers, logger: logger)
    }

    /// Stops accepting, closes every connection and waits for their consumers to finish.
    public func shutdown() async {
        try? await channel.close()
        let tasks = consumers.withLockedValue { Array($0.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        logger.info("RTMP server stopped", metadata: ["port": "\(port)"])
    }
}

/// Feeds one connection's bytes through its `RTMPServerSession`, writes the replies, and
/// forwards events to the consumer.
///
/// Confined to its channel's event loop (reached from elsewhere through `NIOLoopBound`).
final class RTMPChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: RTMPServerSession
    private let configuration: RTMPServerConfiguration
    private let continuation: AsyncThrowingStream<RTMPEvent, any Error>.Continuation
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var lastRead = NIODeadline.now()
    private var stallCheck: RepeatedTask?
    private var closed = false
    private var waitingForAnswer = false
    private var capture: FileHandle?
    weak var connection: RTMPConnection?

    private let id: Int

    init(id: Int, configuration: RTMPServerConfiguration, continuation: AsyncThrowingStream<RTMPEvent, any Error>.Continuation, logger: Logger) {
        self.id = id
        self.configuration = configuration
        self.continuation = continuation
        self.logger = logger
        session = RTMPServerSession(options: configuration.session, epoch: UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970 * 1000)))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let directory = configuration.captureDirectory {
            let url = directory.appendingPathComponent("rtmp-\(id).bin")
            if FileManager.default.createFile(atPath: url.path, contents: nil) { capture = try? FileHandle(forWritingTo: url) }
        }
        let timeout = TimeAmount.nanoseconds(Int64(configuration.stallTimeout.components.seconds) * 1_000_000_000
                                             + configuration.stallTimeout.components.attoseconds / 1_000_000_000)
        let interval = TimeAmount.milliseconds(max(50, min(1000, timeout.nanoseconds / 4_000_000)))
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        stallCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let handler = loopBound.value
            if !handler.closed, NIODeadline.now() - handler.lastRead > timeout {
                handler.fail(VideoStackError(.cancelled, "The publisher sent nothing for \(handler.configuration.stallTimeout) (a stalled stream); the connection was closed."))
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stallCheck?.cancel()
        try? capture?.close()
        capture = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        logger.debug("RTMP connection opened")
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !closed {
            closed = true
            logger.info("RTMP connection closed by the peer")
            continuation.finish()
        }
        stallCheck?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(VideoStackError(.io, "The RTMP connection failed: \(error).", cause: error))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        lastRead = .now()
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        if let capture { try? capture.write(contentsOf: bytes) }
        let events: [RTMPEvent]
        do {
            events = try session.receive(bytes)
        } catch {
            flush()
            fail(error)
            return
        }
        flush()
        var mediaBytes = 0
        for event in events {
            switch event {
            case .audio(_, let body), .video(_, let body): mediaBytes += body.count
            case .publish: waitingForAnswer = true
            default: break
            }
        }
        if mediaBytes > 0, let connection {
            let backlog = connection.backlog.withLockedValue { $0 += mediaBytes; return $0 }
            if backlog > configuration.maxBacklogBytes {
                fail(VideoStackError(.limitExceeded, "The stream's consumer fell \(backlog) bytes behind (limit \(configuration.maxBacklogBytes)); the publisher was disconnected to keep memory bounded."))
                return
            }
        }
        for event in events { continuation.yield(event) }
    }

    private func flush() {
        let output = session.takeOutput()
        guard !output.isEmpty, let context else { return }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: output)), promise: nil)
    }

    func acceptPublish() {
        guard !closed else { return }
        waitingForAnswer = false
        session.acceptPublish()
        flush()
    }

    func refusePublish(code: String, description: String) {
        guard !closed else { return }
        session.refusePublish(code: code, description: description)
        flush()
        logger.notice("RTMP publish refused", metadata: ["code": "\(code)", "reason": "\(description)"])
        closed = true
        continuation.finish()
        // Let the status reach the encoder before the socket closes.
        if let context {
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(200)) { loopBound.value.context?.close(promise: nil) }
        }
    }

    /// Closes the connection for `error`, logging why, and ends the event stream with it.
    func fail(_ error: any Error) {
        guard !closed else { return }
        closed = true
        let reason = (error as? VideoStackError)?.message ?? "\(error)"
        if (error as? VideoStackError)?.code == .cancelled, reason == "the consumer finished" {
            logger.debug("RTMP connection closed", metadata: ["reason": "\(reason)"])
        } else {
            logger.warning("RTMP publisher disconnected", metadata: ["reason": "\(reason)"])
        }
        continuation.finish(throwing: error)
        context?.close(promise: nil)
    }
}
