public import Hummingbird
public import Logging
public import VideoCore
internal import Foundation
internal import HTTPTypes
internal import NIOCore

/// Serves playlists, segments, posters and storyboards from a `BlobStore` over HTTP,
/// with the request semantics of RFC 9110 that players and CDNs rely on.
///
/// Mount it on a Hummingbird router under a prefix of the host's choosing; the rest of the path
/// is the blob key:
///
/// ```swift
/// let router = Router()
/// let delivery = MediaDelivery(blobs: store, authorizer: MyPolicy())
/// delivery.addRoutes(to: router.group("media"))   // GET /media/videos/01J…/720p/seg_00001.m4s
/// ```
///
/// What it does, per request:
/// - **Path safety**: the raw path tail is decoded and checked at the edge; `..` in any spelling,
///   encoded separators (`%2F`, `%5C`), backslashes, NUL and other controls, empty components,
///   components starting with `.`, invalid UTF-8 and keys over the length limit get 400 before
///   the access policy or the blob store sees them.
/// - **Access**: the ``MediaAccessPolicy`` decides (403 or 404 when it refuses).
/// - **Validators**: a strong `ETag` from the store's validator and `Last-Modified` (whole
///   seconds). Preconditions are evaluated in RFC 9110 §13.2.2 order: `If-Match` (strong, 412),
///   `If-Unmodified-Since` (412), `If-None-Match` (`*`, lists, weak comparison; 304),
///   `If-Modified-Since` (only without `If-None-Match`; 304), then `If-Range`.
/// - **Ranges** (`GET` only, as RFC 9110 defines them): single, open-ended and suffix ranges get
///   206 with `Content-Range`; a range past the end gets 416 with `Content-Range: bytes */size`;
///   several ranges are merged when they overlap or touch, and otherwise answered with the whole
///   object (200), which the RFC allows and which no player or CDN minds. `If-Range` with a
///   matching strong ETag or exact date keeps the range; otherwise the whole object is sent.
/// - **Caching**: `Cache-Control` by what the object is (``MediaCacheLifetimes``): immutable
///   segments, long-lived ended playlists, a second for growing playlists (read from the
///   playlist itself: `#EXT-X-ENDLIST`).
/// - **Types**: `application/vnd.apple.mpegurl`, `video/iso.segment`, `video/mp4`, `video/mp2t`,
///   `text/vtt`, `image/jpeg` by extension, with `X-Content-Type-Options: nosniff`.
/// - **CORS**: simple requests and preflights, exposing `Content-Range`, `Content-Length`,
///   `ETag` (``CORSOrigins``).
/// - **HEAD**: the same headers as `GET`, `Content-Length` included, and no body.
///
/// Small objects (up to ``MediaDeliveryConfiguration/maximumCachedObjectSize``) are served from
/// memory after the first request; larger ones are streamed from the store in chunks, so a large
/// file never sits in memory whole.
///
/// Thread safety: a `MediaDelivery` is `Sendable`; all requests share its object cache.
public struct MediaDelivery: Sendable {
    /// Where objects are read from.
    public let blobs: any BlobStore
    /// How objects are served.
    public let configuration: MediaDeliveryConfiguration
    /// Decides per request whether an object may be served.
    public let authorizer: any MediaAccessPolicy

    let cache: MediaObjectCache
    let headers: HeaderTemplate

    /// Creates a delivery over `blobs`.
    /// - Parameters:
    ///   - blobs: the store holding the media (`FileBlobStore` embedded).
    ///   - configuration: caching lifetimes, CORS origins, the object cache.
    ///   - authorizer: the access policy; ``PublicMediaAccess`` (the default) allows everything.
    public init(
        blobs: any BlobStore,
        configuration: MediaDeliveryConfiguration = .init(),
        authorizer: any MediaAccessPolicy = PublicMediaAccess()
    ) {
        self.blobs = blobs
        self.configuration = configuration
        self.authorizer = authorizer
        self.cache = MediaObjectCache(blobs: blobs, configuration: configuration)
        self.headers = HeaderTemplate(configuration: configuration)
    }

    /// Adds the media routes to `routes` (a `Router` or a `RouterGroup`): `GET`, `HEAD` and
    /// `OPTIONS` on `**` below it, and 405 for other methods. The path below the group is the key.
    ///
    /// Each request is recorded through swift-metrics with the labels of Hummingbird's
    /// `MetricsMiddleware` (`hb.requests`, `http.server.request.duration`, `hb.request.errors`,
    /// `http.server.active_requests`), so the group needs no metrics middleware: that middleware
    /// would turn every body into a closure and cost a body served from memory its one-write fast
    /// path. The duration ends when the response is ready to send (for an object streamed from
    /// the store, before its bytes are read and sent).
    public func addRoutes<Routes: RouterMethods>(to routes: Routes) {
        for method: HTTPRequest.Method in [.get, .head, .options, .post, .put, .delete, .patch] {
            let metrics = RouteMetrics(method: method)
            routes.on("**", method: method) { request, context in
                let started = ContinuousClock.now
                let active = metrics.started()
                let address = (context as? any RemoteAddressRequestContext)?.remoteAddress
                let response = await self.respond(to: request, rawKey: Self.rawKey(of: request, context: context), logger: context.logger,
                                                  clientAddress: address.map { $0.ipAddress ?? $0.description })
                metrics.finished(active, route: context.endpointPath ?? "/**", status: response.status,
                                 nanoseconds: (ContinuousClock.now - started).nanosecondsValue)
                return response
            }
        }
    }

    /// Drops cached copies of objects whose keys start with `prefix` (after deleting or
    /// replacing a video's media, so the change shows at once rather than within
    /// ``MediaDeliveryConfiguration/revalidationInterval``).
    public func purge(keysWithPrefix prefix: String) {
        cache.purge(prefix: prefix)
    }

    /// The still-encoded path below the mount point: the router's catch-all, taken from the raw
    /// path so that nothing (empty components, a trailing slash) is normalised away unseen.
    static func rawKey<Context: RequestContext>(of request: Request, context: Context) -> Substring {
        let path = request.uri.path
        guard let tail = context.parameters[Parameters.recursiveCaptureKey], !tail.isEmpty else { return "" }
        // Byte-wise: String.hasSuffix compares by Unicode canonical equivalence, which is slower
        // and not what a path comparison means.
        if path.utf8.count >= tail.utf8.count, path.utf8.reversed().starts(with: tail.utf8.reversed()) {
            let start = path.utf8.index(path.utf8.endIndex, offsetBy: -tail.utf8.count)
            // A doubled separator right before the tail ("/media//etc") was skipped by the
            // router; hand it on so that the key check refuses it.
            let before = path.utf8[..<start]
            if before.count >= 2, before.last == UInt8(ascii: "/"), before.dropLast().last == UInt8(ascii: "/") {
                return Substring("/" + tail)
            }
            return path[start...]
        }
        // The raw path ends with something the router dropped (a trailing slash): refuse it too.
        return Substring(String(tail) + "/")
    }

    /// Answers a request for the still percent-encoded key `rawKey`.
    ///
    /// ``addRoutes(to:)`` calls this; a host with its own URL scheme (say
    /// `/videos/:id/hls/**`) can map its path to a key and call it from its own handler. It never
    /// throws: every failure is an HTTP status (400, 403, 404, 405, 412, 416, or 500 when the
    /// blob store itself fails, which is logged at error level). `clientAddress` reaches the access
    /// policy (for counting live viewers, say).
    public func respond(to request: Request, rawKey: Substring, logger: Logger, clientAddress: String? = nil) async -> Response {
        let method = request.method
        guard method == .get || method == .head || method == .options else {
            var fields = HTTPFields()
            fields[.allow] = HeaderTemplate.allowedMethods
            return error(.methodNotAllowed, "Media can only be read: use GET or HEAD.", fields: fields, request: request)
        }
        let key: String
        do {
            key = try MediaKey.parse(rawKey, maximumLength: configuration.maximumKeyLength)
        } catch {
            logger.debug("Refused a media path", metadata: ["media.path": "\(rawKey.prefix(200))", "error": "\(error)"])
            return self.error(.badRequest, "That is not a valid media path.", request: request)
        }
        if method == .options { return preflight(request) }

        let now = Date()
        let decision = await authorizer.authorize(
            MediaAccessRequest(key: key, method: method, rawQuery: request.uri.query, headerFields: request.headers, time: now, clientAddress: clientAddress)
        )
        switch decision.outcome {
        case .deny(let reason):
            logger.debug("Media access denied", metadata: ["media.key": "\(key)", "reason": "\(reason)"])
            return error(.forbidden, "Access to this media is not allowed (a missing, wrong or expired signature).", request: request)
        case .notFound:
            return error(.notFound, "There is no such media.", request: request)
        case .allow, .allowUntil, .allowPrivately:
            break
        }

        let object: MediaObject
        do {
            guard let found = try await cache.object(key) else {
                return error(.notFound, "There is no such media.", request: request)
            }
            object = found
        } catch VideoStackError.Code.notFound {
            return error(.notFound, "There is no such media.", request: request)
        } catch VideoStackError.Code.invalidInput {
            return error(.badRequest, "That is not a valid media path.", request: request)
        } catch {
            logger.error("Cannot read a media object", metadata: ["media.key": "\(key)", "error": "\(error)"])
            return self.error(.internalServerError, "The media could not be read; try again.", request: request)
        }
        return respond(to: request, object: object, decision: decision, now: now, logger: logger)
    }

    // MARK: Evaluation

    private func respond(to request: Request, object: MediaObject, decision: MediaAccessDecision, now: Date, logger: Logger) -> Response {
        var fields = object.fullHeaders
        adjust(&fields, object: object, decision: decision, request: request, now: now)
        if decision.propagatesQuery, let query = request.uri.query, !query.isEmpty,
           object.kind == .playlist || object.kind == .storyboard, let body = object.body {
            // These bytes are this request's alone: no validator of the stored object fits them.
            let text = MediaURIRewriter.appending(query: query, to: String(decoding: body.readableBytesView, as: UTF8.self), kind: object.kind)
            fields[.eTag] = nil
            fields[.contentLength] = String(text.utf8.count)
            fields[.acceptRanges] = nil
            if request.method == .head { return Response(status: .ok, headers: fields, body: ResponseBody()) }
            return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }

        switch Preconditions.evaluate(request.headers, etag: object.etag, lastModified: object.lastModified) {
        case .proceed:
            break
        case .notModified:
            var notModified = object.notModifiedHeaders
            adjust(&notModified, object: object, decision: decision, request: request, now: now)
            return Response(status: .notModified, headers: notModified, body: ResponseBody())
        case .preconditionFailed:
            return error(.preconditionFailed, "The media has changed since the version named in If-Match or If-Unmodified-Since.", request: request)
        }

        if request.method == .head {
            return Response(status: .ok, headers: fields, body: ResponseBody())
        }
        var range: Range<Int64>? = nil
        if let rangeValue = request.headers[.range],
           Preconditions.ifRangeHolds(request.headers[.ifRange], etag: object.etag, lastModified: object.lastModified, now: now),
           let ranges = ByteRanges.parse(rangeValue)
        {
            switch ranges.resolve(size: object.size) {
            case .partial(let partial):
                range = partial
            case .whole:
                break
            case .unsatisfiable:
                var extra = HTTPFields()
                extra[.contentRange] = "bytes */\(object.size)"
                return error(.rangeNotSatisfiable, "The requested range lies outside the media's \(object.size) bytes.", fields: extra, request: request)
            }
        }
        if let range {
            fields[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.size)"
            fields[.contentLength] = String(range.count)
            return Response(status: .partialContent, headers: fields, body: body(of: object, range: range, logger: logger))
        }
        return Response(status: .ok, headers: fields, body: body(of: object, range: nil, logger: logger))
    }

    /// Per-request changes to an object's prepared headers: a listed CORS origin, and caching
    /// narrowed by the access decision.
    private func adjust(_ fields: inout HTTPFields, object: MediaObject, decision: MediaAccessDecision, request: Request, now: Date) {
        headers.addCORS(for: request.headers[.origin], to: &fields)
        switch decision.outcome {
        case .allowUntil(let expiry):
            let left = Int64(expiry.timeIntervalSince(now).rounded(.down))
            fields[.cacheControl] = HeaderTemplate.cacheControl(maxAge: max(0, min(object.maxAge, left)), immutable: false)
        case .allowPrivately:
            fields[.cacheControl] = "private, no-cache"
        case .allow, .deny, .notFound:
            break
        }
    }

    private func body(of object: MediaObject, range: Range<Int64>?, logger: Logger) -> ResponseBody {
        if let buffer = object.body {
            guard let range else { return ResponseBody(byteBuffer: buffer) }
            // A slice shares the cached storage: no copy.
            return ResponseBody(byteBuffer: buffer.getSlice(at: buffer.readerIndex + Int(range.lowerBound), length: range.count)!)
        }
        let blobs = self.blobs
        let key = object.key
        let chunkSize = configuration.streamChunkSize
        let wanted = range ?? 0..<object.size
        return ResponseBody(contentLength: wanted.count) { writer in
            let total = Int64(wanted.count)
            var sent: Int64 = 0
            do {
                for try await chunk in try await blobs.read(key, range: wanted, chunkSize: chunkSize) {
                    let take = Int(min(Int64(chunk.count), total - sent))
                    try await writer.write(ByteBuffer(bytes: chunk[..<take]))
                    sent += Int64(take)
                    if sent == total { break }
                }
            } catch {
                logger.error("Media stream failed", metadata: ["media.key": "\(key)", "error": "\(error)"])
                throw error
            }
            guard sent == total else {
                // The object shrank under us (replaced mid-response). Throwing closes the
                // connection, so the client sees a truncated response, not a wrong one.
                logger.error("Media object changed while streaming", metadata: ["media.key": "\(key)"])
                throw VideoStackError(.io, "'\(key)' became shorter while it was being served.")
            }
            try await writer.finish(nil)
        }
    }

    /// Answers `OPTIONS`: a CORS preflight, or the allowed methods.
    private func preflight(_ request: Request) -> Response {
        var fields = HTTPFields()
        fields[.allow] = HeaderTemplate.allowedMethods
        if let origin = request.headers[.origin], request.headers[.accessControlRequestMethod] != nil {
            if case .list = configuration.allowedOrigins.mode { fields[.vary] = "Origin" }
            if headers.allows(origin: origin) {
                if case .any = configuration.allowedOrigins.mode {
                    fields[.accessControlAllowOrigin] = "*"
                } else {
                    fields[.accessControlAllowOrigin] = origin
                }
                fields[.accessControlAllowMethods] = HeaderTemplate.allowedMethods
                fields[.accessControlAllowHeaders] = HeaderTemplate.allowedRequestHeaders
                fields[.accessControlMaxAge] = "86400"
            }
        }
        return Response(status: .noContent, headers: fields, body: ResponseBody())
    }

    /// A short plain-text error that no cache stores; CORS headers are kept so a cross-origin
    /// player can read the status.
    private func error(_ status: HTTPResponse.Status, _ message: String, fields extra: HTTPFields = [:], request: Request) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "text/plain; charset=utf-8"
        fields[.cacheControl] = "no-store"
        headers.addCORS(to: &fields)
        headers.addCORS(for: request.headers[.origin], to: &fields)
        fields.append(contentsOf: extra)
        let text = request.method == .head ? "" : message + "\n"
        var response = Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        if request.method == .head {
            response.headers[.contentLength] = String(message.utf8.count + 1)
        }
        return response
    }
}
