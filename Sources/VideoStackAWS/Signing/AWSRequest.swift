public import NIOHTTP1

/// An HTTP request to an AWS service as the signer sees it: the parts that go on the wire.
///
/// `path` is the percent-encoded path exactly as sent in the request line (build it with
/// ``AWSRequest/encodePath(_:)``); `query` holds decoded names and values, which the request
/// encodes the SigV4 way (every byte but `A-Z a-z 0-9 - _ . ~`) both on the wire and when signed,
/// so the two never disagree. The body is not part of it: the signer takes its hash.
public struct AWSRequest: Sendable {
    /// `GET`, `PUT`, … in upper case.
    public var method: String
    /// `https` or `http`.
    public var scheme: String
    /// The host name the request is addressed (and signed) to.
    public var host: String
    /// Nil for the scheme's default port.
    public var port: Int?
    /// The percent-encoded path, starting with `/`.
    public var path: String
    /// Decoded query parameters, in the order they are sent; a nil value is sent as a bare name.
    public var query: [(name: String, value: String?)]
    /// Headers to send; all but hop-by-hop ones and `User-Agent` are signed.
    public var headers: HTTPHeaders

    /// A request; an empty path becomes `/`.
    public init(method: String, scheme: String = "https", host: String, port: Int? = nil, path: String = "/",
                query: [(name: String, value: String?)] = [], headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method.uppercased()
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
    }

    /// The `Host` header value: the host, with the port when it is not the scheme's default.
    public var hostHeader: String {
        guard let port, !(scheme == "https" && port == 443), !(scheme == "http" && port == 80) else { return host }
        return "\(host):\(port)"
    }

    /// The encoded query string (without `?`), in the order of ``query``.
    public var encodedQuery: String {
        query.map { item in
            let name = AWSPercentEncoding.encode(item.name)
            guard let value = item.value else { return name }
            return name + "=" + AWSPercentEncoding.encode(value)
        }.joined(separator: "&")
    }

    /// The full URL, as sent.
    public var url: String {
        let query = encodedQuery
        return "\(scheme)://\(hostHeader)\(path)" + (query.isEmpty ? "" : "?" + query)
    }

    /// Percent-encodes a decoded path (an S3 key with `/` separators, say) for ``path``.
    public static func encodePath(_ decoded: String) -> String {
        let encoded = AWSPercentEncoding.encode(decoded, keepingSlash: true)
        return encoded.hasPrefix("/") ? encoded : "/" + encoded
    }
}
