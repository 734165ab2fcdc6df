import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VideoCore
import VideoPlatform
import VideoStackHTTP

/// Every route of the example server on one router: the REST API under `/api/v1`, media under
/// `/media`, the page and its assets, share links, `/openapi.json`, `/healthz` and `/metrics`.
struct ServerRoutes {
    let platform: Platform
    let page: PageFiles
    let logger: Logger

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: MetricsMiddleware())

        // Media: playlists, segments, posters, storyboards, with the platform's playback rules.
        MediaDelivery(blobs: platform.blobs, authorizer: PlatformMediaAccess(playback: platform.playback))
            .addRoutes(to: router.group("media"))

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

        // Share links: a redirect to the watch page, or the page with a 404 that says why.
        let shareLinks = platform.shareLinks
        let logger = logger
        router.get("s/:code") { request, context in
            let code = context.parameters.get("code") ?? ""
            do {
                let (link, _) = try await shareLinks.resolve(code)
                return Response(status: .found, headers: [.location: "/watch/\(link.videoID)", .cacheControl: "no-store"])
            } catch let error as VideoStackError where error.code == .notFound || error.code == .invalidInput {
                return page.page(for: request, status: .notFound)
            } catch {
                logger.error("could not resolve a share link", metadata: ["code": "\(code.prefix(40))", "error": "\(error)"])
                throw HTTPError(.internalServerError)
            }
        }
        return router
    }
}

/// The platform's playback rules as the delivery's access policy: public videos are served to
/// anyone, unlisted and private ones only with a valid signature in the query (which the API puts
/// in `playbackUrl`); a refused request looks like a missing one.
struct PlatformMediaAccess: MediaAccessPolicy {
    let playback: PlaybackAuthorizer

    func authorize(_ request: MediaAccessRequest) async -> MediaAccessDecision {
        let query = request.queryItems
        do {
            try await playback.authorize(path: "/media/" + request.key, query: query)
        } catch VideoStackError.Code.notFound {
            return .notFound
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
