import Crypto
import Foundation
import NIOHTTP1
import Testing
import VideoStackAWS

/// AWS's published SigV4 test suite (`Vectors/sigv4`, data unchanged): canonical request, string
/// to sign and signature, for header and for query signing.
@Suite("SigV4 test suite")
struct SigV4VectorTests {
    static let root = Bundle.module.resourceURL!.appendingPathComponent("Vectors/sigv4")
    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/context.json").path) }.sorted()
    }()

    @Test func theSuiteIsThere() {
        // 38 cases are published; a missing resource must fail loudly, not test nothing.
        #expect(Self.cases.count == 38)
    }

    @Test(arguments: cases)
    func headerSigning(_ name: String) throws {
        let vector = try Vector(directory: Self.root.appendingPathComponent(name))
        var request = vector.request
        vector.signer.sign(&request, payload: vector.payload, date: vector.date)
        // The canonical request of what was signed (Authorization is never signed; an omitted
        // session token was added after signing).
        var signed = request
        if !vector.signer.options.signsSessionToken { signed.headers.remove(name: "X-Amz-Security-Token") }
        let canonical = vector.signer.canonicalRequest(signed, payload: vector.payload)
        #expect(canonical == vector.text("header-canonical-request.txt"))
        #expect(vector.signer.stringToSign(canonicalRequest: canonical, date: vector.date) == vector.text("header-string-to-sign.txt"))
        let authorization = try #require(request.headers.first(name: "Authorization"))
        #expect(authorization.hasSuffix("Signature=" + vector.text("header-signature.txt")), "\(authorization)")
        // The signed request carries exactly the headers of the published signed request.
        let expected = vector.signedRequestHeaders("header-signed-request.txt")
        #expect(Set(request.headers.map { "\($0.name.lowercased()):\($0.value)" }) == expected)
    }

    @Test(arguments: cases)
    func querySigning(_ name: String) throws {
        let vector = try Vector(directory: Self.root.appendingPathComponent(name))
        let presigned = try vector.signer.presign(vector.request, expires: .seconds(vector.expires), payload: vector.payload, date: vector.date)
        var unsigned = presigned
        unsigned.query.removeAll { $0.name == "X-Amz-Signature" || (!vector.signer.options.signsSessionToken && $0.name == "X-Amz-Security-Token") }
        let canonical = vector.signer.canonicalRequest(unsigned, payload: vector.payload)
        #expect(canonical == vector.text("query-canonical-request.txt"))
        #expect(vector.signer.stringToSign(canonicalRequest: canonical, date: vector.date) == vector.text("query-string-to-sign.txt"))
        let signature = try #require(presigned.query.first { $0.name == "X-Amz-Signature" }?.value)
        #expect(signature == vector.text("query-signature.txt"))
    }

    @Test func signingKeyDerivation() {
        // The worked example of AWS's documentation ("Derive a signing key").
        let key = SigV4Signer.signingKey(secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", day: "20120215", region: "us-east-1", service: "iam")
        #expect(key.withUnsafeBytes { Array($0) }.map { String(format: "%02x", $0) }.joined()
            == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }

    @Test func timestampsAreUTCWithoutAFormatter() {
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 0)) == "19700101T000000Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 1_440_938_160)) == "20150830T123600Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 951_825_599.9)) == "20000229T115959Z")
        #expect(SigV4Signer.timestamp(Date(timeIntervalSince1970: 4_102_444_800)) == "21000101T000000Z")
    }

    @Test func presignRefusesExpiriesSigV4DoesNotAllow() throws {
        let signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"), region: "us-east-1", service: "s3")
        let request = AWSRequest(method: "GET", host: "bucket.s3.amazonaws.com", path: "/key")
        for bad in [Duration.seconds(0), .seconds(604_801), .seconds(-5)] {
            #expect(throws: (any Error).self) { try signer.presign(request, expires: bad, date: Date()) }
        }
        _ = try signer.presign(request, expires: .seconds(604_800), date: Date())
    }
}

/// One case of the suite, read from its files.
struct Vector {
    let directory: URL
    let signer: SigV4Signer
    let request: AWSRequest
    let payload: PayloadHash
    let date: Date
    let expires: Int64

    init(directory: URL) throws {
        self.directory = directory
        let context = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("context.json"))) as! [String: Any]
        let credentials = context["credentials"] as! [String: String]
        let options = SigV4Signer.Options(
            normalizesPath: context["normalize"] as? Bool ?? true,
            encodesPathTwice: true,
            sendsContentHash: context["sign_body"] as? Bool ?? false,
            signsSessionToken: !(context["omit_session_token"] as? Bool ?? false))
        signer = SigV4Signer(credentials: AWSCredentials(accessKeyID: credentials["access_key_id"]!, secretAccessKey: credentials["secret_access_key"]!,
                                                         sessionToken: credentials["token"]),
                             region: context["region"] as! String, service: context["service"] as! String, options: options)
        date = ISO8601DateFormatter().date(from: context["timestamp"] as! String)!
        expires = Int64(context["expiration_in_seconds"] as? Int ?? 3600)

        let raw = try String(contentsOf: directory.appendingPathComponent("request.txt"), encoding: .utf8)
        let (request, body) = Self.parse(raw)
        self.request = request
        payload = PayloadHash(of: Array(body.utf8))
    }

    func text(_ file: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)) ?? "<missing \(file)>"
    }

    /// The header lines of a published signed request, lower-cased names (continuation lines folded).
    func signedRequestHeaders(_ file: String) -> Set<String> {
        let (request, _) = Self.parse(text(file))
        return Set(request.headers.map { "\($0.name.lowercased()):\($0.value)" })
    }

    /// Parses the suite's request format: `METHOD PATH HTTP/1.1`, `Name:value` lines (a line
    /// starting with whitespace continues the previous value), a blank line, the body.
    static func parse(_ raw: String) -> (AWSRequest, String) {
        var lines = raw.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        var target = String(requestLine.dropFirst(method.count + 1))
        if target.hasSuffix(" HTTP/1.1") { target.removeLast(" HTTP/1.1".count) }
        let (path, queryText) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        var fields: [(String, String)] = []
        var bodyLines: [String] = []
        var inBody = false
        for line in lines {
            if inBody { bodyLines.append(line); continue }
            if line.isEmpty { inBody = true; continue }
            if line.first == " " || line.first == "\t", !fields.isEmpty {
                fields[fields.count - 1].1 += "\n" + line
                continue
            }
            let colon = line.firstIndex(of: ":")!
            fields.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let query: [(name: String, value: String?)] = queryText.isEmpty ? [] : queryText.split(separator: "&", omittingEmptySubsequences: false).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : nil)
        }
        var headers = HTTPHeaders()
        var host = "example.amazonaws.com"
        for (name, value) in fields {
            headers.add(name: name, value: value)
            if name.lowercased() == "host" { host = value }
        }
        return (AWSRequest(method: method, host: host, path: path, query: query, headers: headers), bodyLines.joined(separator: "\n"))
    }

    static func decode(_ text: Substring) -> String {
        text.removingPercentEncoding ?? String(text)
    }
}
