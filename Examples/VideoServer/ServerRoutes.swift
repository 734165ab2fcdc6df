import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VideoCore
import VideoPlatform
import VideoStackHTTP
import VideoStackLive

/// Every route of the example server on one router: the REST API under `/api/v1`, media under
/// `/media`, the page and its assets, share links, `/openapi.json`, `/healthz` and `/metrics`.
struct ServerRoutes {
    let platform: Platform
    /// The live ingest, when this server runs one (`--rtmp-port`).
    let live: LiveStreaming?
    let page: PageFiles
    let logger: Logger

    func router() -> Router<VideoStackRequestContext> {
        let router = Router(context: VideoStackRequestContext.self)

        // Media: playlists, segments, posters, storyboards, with the platform's playback rules;
        // live playlist fetches count the stream's viewers. Delivery and API record their own
        // metrics (Hummingbird's labels) without MetricsMiddleware, which would cost every
        // in-memory body Hummingbird's one-write fast path.
        let playback = PlaybackMediaAccess(playback: platform.playback)
        let access: any MediaAccessPolicy = live.map { LiveViewerCounting(playback, live: $0) } ?? playback
        let delivery = MediaDelivery(blobs: platform.blobs, authorizer: access)
        delivery.addRoutes(to: router.group("media"))

        // The REST API (its own metrics, access log, request ids, rate limits), share links and
        // the OpenAPI document. A deleted video's media leaves the delivery's memory cache at once.
        let api = VideoStackAPI(platform: platform, live: live, configuration: APIConfiguration(videoDeleted: { id in
            delivery.purge(keysWithPrefix: "videos/\(id)/")
        }), logger: logger)
        api.addRoutes(to: router)
        api.addShareLinkRoutes(to: router)
        api.addOpenAPIRoute(to: router)

        router.get("healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("metrics") { _, _ in PrometheusMetrics.response() }

        // The page: one document for all of its own paths; the script routes on the path.
        let page = page
        for path in ["/", "watch/:id", "signin", "upload"] {
            router.get(RouterPath(path)) { request, _ in page.page(for: request) }
            router.head(RouterPath(path)) { request, _ in page.page(for: request) }
        }
        router.get("assets/:name") { request, context in
            guard let response = page.asset(context.parameters.get("name") ?? "", request: request) else { throw HTTPError(.notFound) }
            return response
        }
        router.head("assets/:name") { request, context in
            guard let response = page.asset(context.parameters.get("name") ?? "", request: request) else { throw HTTPError(.notFound) }
            return response
        }
        router.get("favicon.ico") { request, _ in page.asset("favicon.svg", request: request) ?? Response(status: .notFound) }
        return router
    }
}
