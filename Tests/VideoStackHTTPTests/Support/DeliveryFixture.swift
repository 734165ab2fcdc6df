import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import TestSupport
import VideoCore
import VideoStackHTTP

/// A file blob store in a temporary directory, a delivery over it mounted at `/media`, and a
/// count of the requests that reached the router (to tell CDN hits from misses).
struct DeliveryFixture: Sendable {
    let directory: TemporaryDirectory
    let store: FileBlobStore
    let delivery: MediaDelivery
    let requests: RequestCounter

    init(configuration: MediaDeliveryConfiguration = .init(), authorizer: any MediaAccessPolicy = PublicMediaAccess()) throws {
        directory = try TemporaryDirectory(prefix: "videostack-http")
        store = try FileBlobStore(root: directory.url.appendingPathComponent("blobs"))
        delivery = MediaDelivery(blobs: store, configuration: configuration, authorizer: authorizer)
        requests = RequestCounter()
    }

    /// The application: the delivery at `/media`, with the request counter in front.
    func application() -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: requests)
        delivery.addRoutes(to: router.group("media"))
        var logger = Logger(label: "videostack.http.test")
        logger.logLevel = .warning
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            logger: logger
        )
    }

    /// Runs `body` against a real server on 127.0.0.1 (port picked by the OS).
    func withLiveServer<T: Sendable>(_ body: @Sendable (_ port: Int) async throws -> T) async throws -> T {
        try await application().test(.live) { client in
            try await body(client.port!)
        }
    }

    func cleanup() { directory.cleanup() }
}

/// Counts requests per path as they arrive at the router.
final class RequestCounter: RouterMiddleware, Sendable {
    typealias Context = BasicRequestContext
    private let counts = Mutex<[String: Int]>([:])

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        counts.withLock { $0[request.uri.path, default: 0] += 1 }
        return try await next(request, context)
    }

    /// Requests seen for `path` so far.
    func count(_ path: String) -> Int { counts.withLock { $0[path] ?? 0 } }
}

/// A stand-in for the platform's signed-URL policy, without HMAC:
/// `private/…` needs `?token=open-sesame`, `hidden/…` is reported missing, `signed/…` is allowed
/// until the Unix time in `?expires=`, and `owner/…` is allowed only privately.
struct TestAccessPolicy: MediaAccessPolicy {
    func authorize(_ request: MediaAccessRequest) async -> MediaAccessDecision {
        if request.key.hasPrefix("private/") {
            return request.queryValue("token") == "open-sesame" ? .allow : .deny("bad or missing token")
        }
        if request.key.hasPrefix("hidden/") { return .notFound }
        if request.key.hasPrefix("signed/") {
            guard let expires = request.queryValue("expires").flatMap(Double.init) else { return .deny("no expiry") }
            let expiry = Date(timeIntervalSince1970: expires)
            return expiry > request.time ? .allow(until: expiry) : .deny("expired")
        }
        if request.key.hasPrefix("owner/") { return .allowPrivately }
        return .allow
    }
}

/// Deterministic bytes of a given length (a stand-in segment whose every range is checkable).
func patternBytes(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}
