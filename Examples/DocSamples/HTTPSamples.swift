// The samples of the README's delivery section, VideoStackHTTP.md and Documentation/Delivery.md.
import Foundation
import Hummingbird
import Logging
import VideoCore
import VideoPlatform
import VideoStackHTTP

func readmeDelivery() async throws {
    let blobs = try FileBlobStore(root: URL(fileURLWithPath: "media"))   // what HLSPackager wrote
    let router = Router()
    MediaDelivery(blobs: blobs).addRoutes(to: router.group("media"))   // GET /media/videos/<id>/hls/master.m3u8
    try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080))).runService()
}

func deliveryOverview() async throws {
    let blobs = try FileBlobStore(root: URL(fileURLWithPath: "/srv/media"))
    let router = Router()
    MediaDelivery(blobs: blobs, authorizer: PublicMediaAccess()).addRoutes(to: router.group("media"))
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
    try await app.runService()
    // GET /media/videos/<id>/master.m3u8, /media/videos/<id>/720p/seg_00001.m4s, …
}

typealias MyPlaybackPolicy = PublicMediaAccess

func deliveryGuide() throws {
    let blobs = try FileBlobStore(root: URL(fileURLWithPath: "/srv/media"))
    let delivery = MediaDelivery(blobs: blobs, configuration: .init(), authorizer: MyPlaybackPolicy())
    let router = Router()
    delivery.addRoutes(to: router.group("media"))   // the path below /media/ is the blob key
}

func mountPlatformMedia(platform: Platform, router: Router<BasicRequestContext>) {
    MediaDelivery(blobs: platform.blobs, authorizer: PlaybackMediaAccess(playback: platform.playback))
        .addRoutes(to: router.group("media"))
}

func serve(platform: Platform, logger: Logger) async throws {
    let api = VideoStackAPI(platform: platform, configuration: APIConfiguration(), logger: logger)
    let delivery = MediaDelivery(blobs: platform.blobs, authorizer: PlaybackMediaAccess(playback: platform.playback))
    let router = Router(context: VideoStackRequestContext.self)
    router.get("hello") { _, _ in "Your own routes live beside the API." }
    api.addRoutes(to: router)              // /api/v1/...
    api.addShareLinkRoutes(to: router)     // GET /s/{code} → 302 /watch/<id>
    api.addOpenAPIRoute(to: router)        // GET /openapi.json
    delivery.addRoutes(to: router.group("media"))
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)),
                          services: [platform], logger: logger)
    try await app.runService()
}
