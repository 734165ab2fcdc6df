import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Testing
import TestSupport
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP
import VideoStackLive

/// A real platform (SQLite, files) in a temporary directory, the API over it, and helpers to
/// call it through a real server on 127.0.0.1.
struct APIFixture: Sendable {
    let directory: TemporaryDirectory
    let platform: Platform
    let api: VideoStackAPI
    let delivery: MediaDelivery

    static let password = "correct horse battery staple 42"

    /// - Parameter configure: changes to the platform's configuration (limits, say).
    static func make(_ configure: (inout PlatformConfiguration) -> Void = { _ in },
                     api apiConfiguration: APIConfiguration = APIConfiguration()) async throws -> APIFixture {
        let directory = try TemporaryDirectory(prefix: "videostack-api")
        var configuration = PlatformConfiguration(dataDirectory: directory.url.appendingPathComponent("data"))
        configuration.roles = .api   // no transcoding workers: tests set video states themselves
        configuration.accounts.passwordHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 2)
        configuration.rateLimits = RateLimitConfiguration(perAddress: .perSecond(10_000, burst: 100_000), perUser: .perSecond(10_000, burst: 100_000))
        configuration.searchSnapshotInterval = .seconds(3600)
        configure(&configuration)
        var logger = Logger(label: "videostack.api.test")
        logger.logLevel = .warning
        let platform = try await Platform(configuration: configuration, logger: logger)
        // The live routes need the live service; its RTMP listener is not started (nothing publishes here).
        let live = try LiveStreaming(platform: platform, logger: logger)
        let api = VideoStackAPI(platform: platform, live: live, configuration: apiConfiguration, logger: logger)
        let delivery = MediaDelivery(blobs: platform.blobs, authorizer: PlaybackMediaAccess(playback: platform.playback))
        return APIFixture(directory: directory, platform: platform, api: api, delivery: delivery)
    }

    func application() -> some ApplicationProtocol {
        let router = Router(context: VideoStackRequestContext.self)
        api.addRoutes(to: router)
        api.addShareLinkRoutes(to: router)
        api.addOpenAPIRoute(to: router)
        delivery.addRoutes(to: router.group("media"))
        var logger = Logger(label: "videostack.api.test.server")
        logger.logLevel = .warning
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil), logger: logger)
    }

    /// Runs `body` with the platform running (search follower, sweeps) and a live server.
    func withServer<T: Sendable>(_ body: @Sendable (APIClient) async throws -> T) async throws -> T {
        defer {
            platform.close()
            directory.cleanup()
        }
        var logger = Logger(label: "videostack.api.test.lifecycle")
        logger.logLevel = .warning
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            do {
                let result = try await application().test(.live) { client in
                    try await body(APIClient(client: client, port: client.port!))
                }
                await group.triggerGracefulShutdown()
                for try await _ in tasks {}
                return result
            } catch {
                await group.triggerGracefulShutdown()
                for try await _ in tasks {}
                throw error
            }
        }
    }

    // MARK: Making state

    /// A video of `owner` in `status` (media under `videos/<id>/hls/` once it has a playlist).
    func makeVideo(owner: String, title: String = "A test video", visibility: Visibility = .public, status: VideoStatus = .ready,
                   tags: [String] = []) async throws -> Video {
        let catalog = platform.catalog
        let video = Video(owner: owner, title: title, description: "About \(title)", tags: tags, visibility: visibility)
        try await catalog.create(video)
        if status == .uploading { return video }
        try await catalog.transition(video.id, to: .processing, from: .uploading)
        let prefix = "videos/\(video.id)/"
        let media = VideoMedia(playlist: prefix + "hls/master.m3u8", poster: prefix + "poster.jpg", storyboard: prefix + "storyboard.vtt")
        _ = try await platform.blobs.put(media.playlist, string: "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=2500000\n720p/index.m3u8\n",
                                         contentType: "application/vnd.apple.mpegurl")
        _ = try await platform.blobs.put(prefix + "hls/720p/index.m3u8",
                                         string: "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:4.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n",
                                         contentType: "application/vnd.apple.mpegurl")
        _ = try await platform.blobs.put(prefix + "storyboard.vtt", string: "WEBVTT\n\n00:00.000 --> 00:02.000\nstoryboard_0.jpg#xywh=0,0,160,90\n", contentType: "text/vtt")
        _ = try await platform.blobs.put(prefix + "hls/720p/seg_00001.m4s", bytes: Array(repeating: 7, count: 1000), contentType: "video/iso.segment")
        _ = try await platform.blobs.put(prefix + "poster.jpg", bytes: [0xFF, 0xD8, 0xFF, 0xD9], contentType: "image/jpeg")
        if status == .processing {
            try await catalog.setMedia(video.id, VideoMedia(playlist: media.playlist))
            return try await catalog.video(video.id)!
        }
        if status == .failed {
            return try await catalog.transition(video.id, to: .failed, from: .processing, failureReason: "The file is not a video.")
        }
        return try await catalog.transition(video.id, to: .ready, from: .processing, duration: .seconds(12), media: media)
    }

    func makeAdmin(_ username: String) async throws {
        try await platform.accounts.setRole(.admin, for: username)
    }
}

/// One answer: status, fields, body, and the body as JSON.
struct Reply: Sendable {
    var status: Int
    var headers: HTTPFields
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object (empty when it is not one).
    var object: [String: any Sendable] {
        ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]).map { $0.mapValues { $0 as! any Sendable } } ?? [:]
    }
    subscript(_ key: String) -> Any? { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])??[key] }
    var errorCode: String? { ((self["error"] as? [String: Any])?["code"]) as? String }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

/// Calls the API through Hummingbird's live test client.
struct APIClient: Sendable {
    let client: any TestClientProtocol
    let port: Int

    func call(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: String? = nil,
              headers: [String: String] = [:], body: [UInt8]? = nil) async throws -> Reply {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        var payload: ByteBuffer?
        if let json {
            fields[.contentType] = "application/json"
            payload = ByteBuffer(string: json)
        }
        if let body { payload = ByteBuffer(bytes: body) }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let response = try await client.execute(uri: path, method: method, headers: fields, body: payload)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(buffer: response.body))
    }

    /// Signs up and in; returns the access token.
    @discardableResult
    func signUp(_ username: String) async throws -> String {
        let created = try await call(.post, "/api/v1/auth/signup",
                                     json: #"{"username":"\#(username)","email":"\#(username)@example.com","password":"\#(APIFixture.password)","name":"\#(username.capitalized)"}"#)
        #expect(created.status == 201, "\(created.text)")
        return try await signIn(username)
    }

    func signIn(_ username: String) async throws -> String {
        let signedIn = try await call(.post, "/api/v1/auth/signin", json: #"{"email":"\#(username)@example.com","password":"\#(APIFixture.password)"}"#)
        #expect(signedIn.status == 200, "\(signedIn.text)")
        return signedIn["accessToken"] as? String ?? ""
    }
}
