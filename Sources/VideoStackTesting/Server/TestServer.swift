public import Foundation
internal import Hummingbird
public import Logging
internal import NIOCore
internal import ServiceLifecycle
public import VideoPlatform
public import VideoStackHTTP
internal import Synchronization

/// A ``TestPlatform`` behind VideoStackHTTP's REST API and media delivery on a free loopback
/// port: `/api/v1`, `/media`, `/s/{code}` and `/openapi.json`, as a host application mounts them.
///
/// ```swift
/// try await TestServer.withServer(logger: logger) { server in
///     let client = server.client()
///     try await client.signUpAndIn(username: "ada")
/// }
/// ```
public final class TestServer: Sendable {
    /// The platform behind the server.
    public let test: TestPlatform
    /// `http://127.0.0.1:<port>`.
    public let baseURL: URL
    private let group: ServiceGroup
    private let running: Task<Void, any Error>
    private let stopped = Mutex(false)

    private init(test: TestPlatform, baseURL: URL, group: ServiceGroup, running: Task<Void, any Error>) {
        self.test = test
        self.baseURL = baseURL
        self.group = group
        self.running = running
    }

    /// The running platform.
    public var platform: Platform { test.platform }

    /// Starts a platform (see ``TestPlatform/start(dataDirectory:configure:logger:)``) and the
    /// HTTP server on 127.0.0.1 with a port the system picks; returns once it accepts connections.
    ///
    /// - Parameter api: the API's settings (limits, CORS, URLs).
    public static func start(dataDirectory: URL? = nil, configure: (inout PlatformConfiguration) throws -> Void = { _ in },
                             api: APIConfiguration = APIConfiguration(), logger: Logger) async throws -> TestServer {
        let test = try await TestPlatform.start(dataDirectory: dataDirectory, configure: configure, logger: logger)
        let platform = test.platform
        let router = Router(context: VideoStackRequestContext.self)
        let routes = VideoStackAPI(platform: platform, configuration: api, logger: logger)
        routes.addRoutes(to: router)
        routes.addShareLinkRoutes(to: router)
        routes.addOpenAPIRoute(to: router)
        MediaDelivery(blobs: platform.blobs, authorizer: PlaybackMediaAccess(playback: platform.playback))
            .addRoutes(to: router.group("media"))

        let (ports, bound) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: "VideoStackTesting"),
            onServerRunning: { channel in
                bound.yield(channel.localAddress?.port ?? 0)
                bound.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
        let running = Task {
            defer { bound.finish() }
            try await group.run()
        }
        var port: Int?
        for await value in ports { port = value }
        guard let port, port > 0 else {
            let failure = await running.result
            try? await test.stop()
            try failure.get()
            throw WaitError(what: "the test server to listen on 127.0.0.1", last: "it stopped before it was bound")
        }
        return TestServer(test: test, baseURL: URL(string: "http://127.0.0.1:\(port)")!, group: group, running: running)
    }

    /// Starts a server, runs `body` with it and stops it, also when `body` throws.
    public static func withServer<T: Sendable>(dataDirectory: URL? = nil, configure: (inout PlatformConfiguration) throws -> Void = { _ in },
                                               api: APIConfiguration = APIConfiguration(), logger: Logger,
                                               _ body: (TestServer) async throws -> T) async throws -> T {
        let server = try await start(dataDirectory: dataDirectory, configure: configure, api: api, logger: logger)
        let result: T
        do {
            result = try await body(server)
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
        return result
    }

    /// A client for this server with tokens of its own (call its `shutdown()` when done, or use
    /// ``withClient(_:)``).
    public func client() -> VideoStackClient {
        VideoStackClient(baseURL: baseURL)
    }

    /// Runs `body` with a new client and shuts the client down afterwards.
    public func withClient<T: Sendable>(_ body: (VideoStackClient) async throws -> T) async throws -> T {
        let client = client()
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Stops the HTTP server (requests in flight finish), then the platform. Calling it again does nothing.
    public func stop() async throws {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        await group.triggerGracefulShutdown()
        let outcome = await running.result
        try await test.stop()
        try outcome.get()
    }
}
