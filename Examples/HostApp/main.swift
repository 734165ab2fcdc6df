// host-app: a host application that mounts VideoStack's HTTP API and media delivery next to its
// own routes, on one Hummingbird router, with the platform as one more service.
//
//     swift run host-app        then: curl http://127.0.0.1:8081/hello
//                                     curl http://127.0.0.1:8081/api/v1/search?q=
import Foundation
import Hummingbird
import Logging
import VideoPlatform
import VideoStackHTTP

func runHostApp() async throws {
    let logger = Logger(label: "host-app")
    let platform = try await Platform(configuration: PlatformConfiguration(dataDirectory: URL(fileURLWithPath: "host-data")), logger: logger)

    let router = Router(context: VideoStackRequestContext.self)
    router.get("hello") { _, _ in "Hello from the host application\n" }   // the host's own routes
    let api = VideoStackAPI(platform: platform, logger: logger)
    api.addRoutes(to: router)                                               // /api/v1/...
    api.addShareLinkRoutes(to: router)                                      // /s/{code}
    MediaDelivery(blobs: platform.blobs, authorizer: PlaybackMediaAccess(playback: platform.playback))
        .addRoutes(to: router.group("media"))                              // /media/videos/<id>/hls/...

    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8081)),
                          services: [platform], logger: logger)
    try await app.runService()   // until Ctrl-C; then the platform shuts down too
    platform.close()
}

try await runHostApp()
