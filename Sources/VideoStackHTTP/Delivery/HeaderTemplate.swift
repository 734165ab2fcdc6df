internal import HTTPTypes

/// Builds the header fields media responses share, once per object rather than per request.
struct HeaderTemplate: Sendable {
    let origins: CORSOrigins

    init(configuration: MediaDeliveryConfiguration) {
        self.origins = configuration.allowedOrigins
    }

    /// Headers a cross-origin player must be able to read: ranges, lengths and validators.
    static let exposedHeaders = "Content-Range, Content-Length, ETag, Accept-Ranges, Last-Modified"
    /// Request headers a player may send cross-origin (answered in preflights).
    static let allowedRequestHeaders = "Range, If-Range, If-None-Match, If-Modified-Since, If-Match, If-Unmodified-Since, Authorization"
    static let allowedMethods = "GET, HEAD, OPTIONS"

    static func cacheControl(maxAge: Int64, immutable: Bool) -> String {
        "public, max-age=\(max(0, maxAge))" + (immutable ? ", immutable" : "")
    }

    /// The fields of a 200 and of a 304 for one object.
    func make(contentType: String, size: Int64, etag: String, lastModified: String, cacheControl: String) -> (full: HTTPFields, notModified: HTTPFields) {
        var full = HTTPFields()
        full.reserveCapacity(12)
        full[.contentType] = contentType
        full[.contentLength] = String(size)
        full[.acceptRanges] = "bytes"
        var validators = HTTPFields()
        validators[.eTag] = etag
        validators[.lastModified] = lastModified
        validators[.cacheControl] = cacheControl
        addCORS(to: &validators)
        full.append(contentsOf: validators)
        // User uploads end up here: never let a browser guess a type other than the one sent.
        full[.xContentTypeOptions] = "nosniff"
        return (full, validators)
    }

    /// The CORS fields that do not depend on the request: `*` or, for a list, `Vary: Origin`.
    func addCORS(to fields: inout HTTPFields) {
        switch origins.mode {
        case .any:
            fields[.accessControlAllowOrigin] = "*"
            fields[.accessControlExposeHeaders] = Self.exposedHeaders
        case .list:
            fields[.vary] = "Origin"
        case .none:
            break
        }
    }

    /// Adds the request-dependent CORS fields (a listed origin echoed back).
    func addCORS(for origin: String?, to fields: inout HTTPFields) {
        guard case .list(let allowed) = origins.mode, let origin, allowed.contains(origin) else { return }
        fields[.accessControlAllowOrigin] = origin
        fields[.accessControlExposeHeaders] = Self.exposedHeaders
    }

    /// Whether `origin` may read media at all (for preflights).
    func allows(origin: String) -> Bool {
        switch origins.mode {
        case .any: return true
        case .list(let allowed): return allowed.contains(origin)
        case .none: return false
        }
    }
}
