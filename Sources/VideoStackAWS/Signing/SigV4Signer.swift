public import Foundation
internal import NIOHTTP1
public import Crypto
internal import VideoCore

/// What a signature covers of the request body: the hex SHA-256 of the bytes, or one of the
/// constants SigV4 allows in its place.
public struct PayloadHash: Hashable, Sendable, CustomStringConvertible {
    /// The text that goes into the canonical request (and `x-amz-content-sha256`).
    public let value: String

    /// A precomputed value: a hex SHA-256 or one of SigV4's constants.
    public init(_ value: String) { self.value = value }

    /// The SHA-256 of `bytes`.
    public init(of bytes: some Sequence<UInt8>) {
        // Hashed in place when the bytes are contiguous (an 8 MiB part was copied just to hash it).
        value = bytes.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }?.hexString
            ?? SHA256.hash(data: Array(bytes)).hexString
    }

    /// The hash of an empty body.
    public static let empty = PayloadHash("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    /// The body is not signed (S3 over TLS, and presigned URLs).
    public static let unsigned = PayloadHash("UNSIGNED-PAYLOAD")

    /// The value itself.
    public var description: String { value }
}

/// Signs requests with AWS Signature Version 4: in the `Authorization` header, or in the query
/// string for presigned URLs.
///
/// The canonical request follows the published algorithm and botocore's choices where the
/// specification leaves room (a test signs the same requests with botocore and compares bytes):
///
/// - The path is normalised (dot segments and repeated slashes removed) and encoded a second
///   time, except for S3 (``Options/s3``), which signs the path exactly as sent.
/// - Query names and values are encoded SigV4's way and sorted by name, then value; a bare name
///   signs as `name=`.
/// - Header names are lower-cased, values trimmed with runs of whitespace collapsed to one space,
///   repeated headers joined with commas in the order given. Hop-by-hop headers and
///   `User-Agent`, which proxies rewrite, are not signed.
///
/// The signer is a value: it holds no state and is safe to share.
public struct SigV4Signer: Sendable {
    /// Service-specific rules of the canonical request.
    public struct Options: Hashable, Sendable {
        /// Remove `.`/`..` segments and repeated slashes from the path before signing.
        public var normalizesPath: Bool
        /// Percent-encode the (already encoded) path once more, as every service but S3 expects.
        public var encodesPathTwice: Bool
        /// Send the payload hash as `x-amz-content-sha256` (S3 requires it).
        public var sendsContentHash: Bool
        /// Sign `X-Amz-Security-Token`; when false it is added after signing (as some IoT
        /// endpoints require).
        public var signsSessionToken: Bool

        /// Options; the defaults are those of every service but S3.
        public init(normalizesPath: Bool = true, encodesPathTwice: Bool = true, sendsContentHash: Bool = false, signsSessionToken: Bool = true) {
            self.normalizesPath = normalizesPath
            self.encodesPathTwice = encodesPathTwice
            self.sendsContentHash = sendsContentHash
            self.signsSessionToken = signsSessionToken
        }

        /// Every service but S3.
        public static let standard = Options()
        /// S3: the path is signed as sent (keys may contain `//` and `..`), and the payload hash
        /// travels as `x-amz-content-sha256`.
        public static let s3 = Options(normalizesPath: false, encodesPathTwice: false, sendsContentHash: true)
    }

    /// The key pair (and token) requests are signed with.
    public var credentials: AWSCredentials
    /// `us-east-1`, …
    public var region: String
    /// The signing name: `s3`, `dynamodb`, `sqs`, …
    public var service: String
    /// The canonical-request rules of the service.
    public var options: Options

    /// A signer for one service in one region; `options` defaults to ``Options/s3`` for `s3` and ``Options/standard`` otherwise.
    public init(credentials: AWSCredentials, region: String, service: String, options: Options? = nil) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options ?? (service == "s3" ? .s3 : .standard)
    }

    /// Headers never signed: hop-by-hop headers a proxy may change, and the user agent.
    static let unsignedHeaders: Set<String> = [
        "connection", "expect", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id", "authorization",
    ]

    // MARK: Header signing

    /// Adds `X-Amz-Date`, the session token, the content hash (where the options say) and
    /// `Authorization` to `request`, replacing earlier ones, so a retried request can be signed again.
    public func sign(_ request: inout AWSRequest, payload: PayloadHash, date: Date) {
        let timestamp = Self.timestamp(date)
        for name in ["Authorization", "X-Amz-Date", "X-Amz-Security-Token"] { request.headers.remove(name: name) }
        if !request.headers.contains(name: "host") { request.headers.add(name: "Host", value: request.hostHeader) }
        request.headers.add(name: "X-Amz-Date", value: timestamp)
        if let token = credentials.sessionToken, options.signsSessionToken {
            request.headers.add(name: "X-Amz-Security-Token", value: token)
        }
        if options.sendsContentHash {
            request.headers.replaceOrAdd(name: "X-Amz-Content-SHA256", value: payload.value)
        }
        let signature = self.signature(for: request, payload: payload, timestamp: timestamp)
        request.headers.add(name: "Authorization",
                            value: "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(timestamp)), SignedHeaders=\(signature.signedHeaders), Signature=\(signature.value)")
        if let token = credentials.sessionToken, !options.signsSessionToken {
            request.headers.add(name: "X-Amz-Security-Token", value: token)
        }
    }

    // MARK: Query signing

    /// A presigned copy of `request`: the signature and its parameters in the query, valid for
    /// `expires` (1 second to 7 days), so anyone holding the URL can make the request.
    ///
    /// Throws `invalidInput` for an expiry outside SigV4's range.
    public func presign(_ request: AWSRequest, expires: Duration, payload: PayloadHash = .unsigned, date: Date) throws -> AWSRequest {
        let seconds = expires.components.seconds
        guard seconds >= 1, seconds <= 604_800 else {
            throw VideoStackError(.invalidInput, "A presigned URL lasts 1 second to 7 days (604,800 s); \(seconds) s was asked for.")
        }
        var request = request
        let timestamp = Self.timestamp(date)
        request.headers.remove(name: "Authorization")
        if !request.headers.contains(name: "host") { request.headers.add(name: "Host", value: request.hostHeader) }
        request.query.removeAll { $0.name.hasPrefix("X-Amz-") }
        request.query += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(timestamp))"),
            ("X-Amz-Date", timestamp),
            ("X-Amz-Expires", String(seconds)),
            ("X-Amz-SignedHeaders", signedHeaders(of: request.headers)),
        ]
        if let token = credentials.sessionToken, options.signsSessionToken {
            request.query.append(("X-Amz-Security-Token", token))
        }
        let signature = self.signature(for: request, payload: payload, timestamp: timestamp)
        request.query.append(("X-Amz-Signature", signature.value))
        if let token = credentials.sessionToken, !options.signsSessionToken {
            request.query.append(("X-Amz-Security-Token", token))
        }
        return request
    }

    // MARK: The steps, exposed for tests and for callers that sign other things

    /// The canonical request, as SigV4 specifies it (the first step of signing).
    public func canonicalRequest(_ request: AWSRequest, payload: PayloadHash) -> String {
        let headers = canonicalHeaders(request.headers)
        return [
            request.method,
            canonicalURI(request.path),
            canonicalQuery(request.query),
            headers.map { "\($0.name):\($0.value)\n" }.joined(),
            headers.map(\.name).joined(separator: ";"),
            payload.value,
        ].joined(separator: "\n")
    }

    /// The string to sign for a canonical request made at `date`.
    public func stringToSign(canonicalRequest: String, date: Date) -> String {
        let timestamp = Self.timestamp(date)
        return stringToSign(canonicalRequest: canonicalRequest, timestamp: timestamp)
    }

    /// The key derived from the secret for one day, region and service (`kSigning`).
    public static func signingKey(secretAccessKey: String, day: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func timestamp(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilDate(fromDays: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        return "\(yearText)\(two(month))\(two(day))T\(two(secondOfDay / 3600))\(two(secondOfDay / 60 % 60))\(two(secondOfDay % 60))Z"
    }

    // MARK: Internals

    struct Signature {
        var value: String
        var signedHeaders: String
    }

    func signature(for request: AWSRequest, payload: PayloadHash, timestamp: String) -> Signature {
        let canonical = canonicalRequest(request, payload: payload)
        let toSign = stringToSign(canonicalRequest: canonical, timestamp: timestamp)
        let key = Self.signingKey(secretAccessKey: credentials.secretAccessKey, day: String(timestamp.prefix(8)), region: region, service: service)
        let value = HMAC<SHA256>.authenticationCode(for: Array(toSign.utf8), using: key).hexString
        return Signature(value: value, signedHeaders: signedHeaders(of: request.headers))
    }

    func stringToSign(canonicalRequest: String, timestamp: String) -> String {
        ["AWS4-HMAC-SHA256", timestamp, scope(timestamp), SHA256.hash(data: Array(canonicalRequest.utf8)).hexString].joined(separator: "\n")
    }

    func scope(_ timestamp: String) -> String {
        "\(timestamp.prefix(8))/\(region)/\(service)/aws4_request"
    }

    func canonicalURI(_ path: String) -> String {
        var path = path.isEmpty ? "/" : path
        if options.normalizesPath { path = Self.removeDotSegments(path) }
        return options.encodesPathTwice ? AWSPercentEncoding.encode(path, keepingSlash: true) : path
    }

    func canonicalQuery(_ query: [(name: String, value: String?)]) -> String {
        query.map { (AWSPercentEncoding.encode($0.name), AWSPercentEncoding.encode($0.value ?? "")) }
            .sorted { ($0.0.utf8.lexicographicallyPrecedes($1.0.utf8)) || ($0.0 == $1.0 && $0.1.utf8.lexicographicallyPrecedes($1.1.utf8)) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Signed headers in canonical form: sorted lower-case names, each with its values joined.
    func canonicalHeaders(_ headers: HTTPHeaders) -> [(name: String, value: String)] {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            if Self.unsignedHeaders.contains(lower) { continue }
            values[lower, default: []].append(Self.trimAll(value))
        }
        return values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { ($0, values[$0]!.joined(separator: ",")) }
    }

    func signedHeaders(of headers: HTTPHeaders) -> String {
        canonicalHeaders(headers).map(\.name).joined(separator: ";")
    }

    /// Trims and collapses runs of ASCII whitespace (line folds included) to one space.
    static func trimAll(_ value: String) -> String {
        value.utf8.split(whereSeparator: { $0 == 0x20 || (0x09...0x0D).contains($0) || (0x1C...0x1F).contains($0) })
            .map { String(decoding: $0, as: UTF8.self) }
            .joined(separator: " ")
    }

    /// RFC 3986 §5.2.4 dot-segment removal that also drops empty segments, as AWS services
    /// (other than S3) normalise paths.
    static func removeDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
            } else {
                output.append(segment)
            }
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        let result = first + output.joined(separator: "/") + last
        return result.isEmpty ? "/" : result
    }

    /// Proleptic Gregorian date from days since 1970-01-01 (Howard Hinnant's algorithm), so the
    /// timestamp needs no calendar or formatter (and no locale).
    static func civilDate(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hex, as SigV4 writes hashes and signatures.
    var hexString: String { lowercaseHex }
}

extension Digest {
    var hexString: String { Array(self).hexString }
}

extension HashedAuthenticationCode {
    var hexString: String { Array(self).hexString }
}
