// The samples of the README's delivery section, VideoStackHTTP.md and Documentation/Delivery.md.
import Foundation
import Hummingbird
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

/// The platform's playback rules as the delivery's access policy (media mounted at /media).
struct PlatformMediaAccess: MediaAccessPolicy {
    let playback: PlaybackAuthorizer   // platform.playback

    func authorize(_ request: MediaAccessRequest) async -> MediaAccessDecision {
        let query = request.queryItems
        do {
            try await playback.authorize(path: "/media/" + request.key, query: query)
        } catch VideoStackError.Code.notFound {
            return .notFound               // private and missing videos look alike
        } catch {
            return .deny("\(error)")
        }
        // A signed response stays in caches no longer than its signature.
        if query.contains(where: { $0.name == "signature" }),
           let expires = query.first(where: { $0.name == "expires" })?.value.flatMap(TimeInterval.init) {
            return .allow(until: Date(timeIntervalSince1970: expires))
        }
        return .allow
    }
}

func mountPlatformMedia(platform: Platform, blobs: FileBlobStore, router: Router<BasicRequestContext>) {
    MediaDelivery(blobs: blobs, authorizer: PlatformMediaAccess(playback: platform.playback))
        .addRoutes(to: router.group("media"))
}
