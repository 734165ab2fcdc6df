import Foundation
import NIOHTTP1
import Testing
import VideoStackAWS

/// Our signer against botocore's (the signer of boto3 and the AWS CLI), byte for byte, on the
/// requests where signers go wrong: odd paths, odd queries, odd headers, tokens, presigning.
@Suite("SigV4 matches botocore")
struct BotocoreParityTests {
    static let timestamp = "20260301T091530Z"
    static let date = Date(timeIntervalSince1970: 1_772_356_530)
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let temporary = AWSCredentials(accessKeyID: "ASIAEXAMPLE", secretAccessKey: "tmp/secret+key=",
                                          sessionToken: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==")

    /// One request to sign both ways.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var service: String
        var request: AWSRequest
        var body: [UInt8] = []
        var credentials: AWSCredentials = BotocoreParityTests.credentials
        var presignSeconds: Int64?
        var unsignedPayload = false
        var testDescription: String { name }
    }

    static func s3(_ name: String, key: String, query: [(name: String, value: String?)] = [], method: String = "GET",
                   headers: [(String, String)] = [], body: [UInt8] = []) -> Case {
        var fields = HTTPHeaders()
        for (n, v) in headers { fields.add(name: n, value: v) }
        let request = AWSRequest(method: method, scheme: "http", host: "127.0.0.1", port: 9000,
                                 path: AWSRequest.encodePath("/media-bucket/" + key), query: query, headers: fields)
        return Case(name: name, service: "s3", request: request, body: body)
    }

    static func service(_ name: String, path: String, query: [(name: String, value: String?)] = [], method: String = "POST",
                        headers: [(String, String)] = [], body: [UInt8] = []) -> Case {
        var fields = HTTPHeaders()
        for (n, v) in headers { fields.add(name: n, value: v) }
        let request = AWSRequest(method: method, scheme: "https", host: "dynamodb.eu-west-1.amazonaws.com", path: path, query: query, headers: fields)
        return Case(name: name, service: "dynamodb", request: request, body: body)
    }

    static let cases: [Case] = {
        var cases: [Case] = [
            // S3 signs the path as sent: spaces, unicode, '..', '//' and reserved characters stay.
            s3("s3 plain", key: "videos/v1/master.m3u8"),
            s3("s3 spaces", key: "my videos/first clip.mp4"),
            s3("s3 unicode", key: "vidéos/日本/ok 🎬.txt"),
            s3("s3 dot-dot kept", key: "a/../b/./c"),
            s3("s3 double slashes kept", key: "a//b///c/"),
            s3("s3 reserved characters", key: "k+plus=eq&amp;semi:colon@at!bang*star'quote(paren)$,comma[br]#hash?q"),
            s3("s3 tilde and percent", key: "~user/100%25/%41"),
            s3("s3 put with body", key: "up/part", method: "PUT", headers: [("Content-Type", "video/mp4")], body: Array("hello, world".utf8)),
            s3("s3 multipart part", key: "big.bin", query: [("partNumber", "3"), ("uploadId", "2~abc/DEF+ghi==")], method: "PUT", body: [UInt8](repeating: 7, count: 4096)),
            s3("s3 bare query names", key: "", query: [("uploads", nil)], method: "POST"),
            s3("s3 list", key: "", query: [("list-type", "2"), ("prefix", "videos/v 1/"), ("continuation-token", "1/abc+def="), ("max-keys", "1000"), ("start-after", "")]),
            s3("s3 range header", key: "seg.m4s", headers: [("Range", "bytes=100-199")]),
            // Query strings: repeated keys (sorted by value), empty values, reserved and unicode.
            service("repeated keys", path: "/", query: [("b", "2"), ("a", "z"), ("a", "y"), ("a", "")]),
            service("empty and bare", path: "/", query: [("empty", ""), ("flag", nil), ("Z", "upper")]),
            service("reserved characters", path: "/", query: [("q", "!*'();:@&=+$,/?#[] %"), ("ü", "ñ 日本")]),
            // Paths of other services are normalised and encoded twice.
            service("path with spaces", path: AWSRequest.encodePath("/a b/c")),
            service("path dot segments", path: "/a/./b/../c/"),
            service("path double slashes", path: "//a//b//"),
            service("path already encoded", path: "/caf%C3%A9/%2F/x"),
            service("empty path", path: "/"),
            // Headers: runs of spaces, tabs, repeated names (joined in order), mixed case, unsigned ones.
            service("header whitespace", path: "/", headers: [("X-Amz-Target", "DynamoDB_20120810.GetItem"), ("My-Header", "  a   b \t c  ")]),
            service("header repeated", path: "/", headers: [("X-Multi", "one"), ("x-multi", "two  words"), ("X-MULTI", "three")]),
            service("unsigned headers", path: "/", headers: [("User-Agent", "videostack/1"), ("Expect", "100-continue"), ("Connection", "keep-alive"), ("Content-Type", "application/x-amz-json-1.0")]),
            service("json body", path: "/", headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.PutItem")],
                    body: Array(#"{"TableName":"videos","Item":{"PK":{"S":"é"}}}"#.utf8)),
        ]
        var token = service("session token", path: "/", headers: [("X-Amz-Target", "DynamoDB_20120810.Query")], body: Array("{}".utf8))
        token.credentials = temporary
        cases.append(token)
        var s3Token = s3("s3 session token", key: "a b")
        s3Token.credentials = temporary
        cases.append(s3Token)
        var unsigned = s3("s3 unsigned payload", key: "stream.bin", method: "PUT", body: Array("not hashed".utf8))
        unsigned.request.scheme = "https"
        unsigned.request.port = nil
        unsigned.unsignedPayload = true
        cases.append(unsigned)
        // Presigned URLs (query signing), with and without a token, and with response overrides.
        for (name, key, query, creds) in [
            ("presign plain", "videos/v1/master.m3u8", [(name: String, value: String?)](), credentials),
            ("presign odd key", "my videos/ünï/a+b=c", [], credentials),
            ("presign overrides", "clip.mp4", [("response-content-disposition", "attachment; filename=\"a b.mp4\""), ("response-content-type", "video/mp4")], credentials),
            ("presign token", "x/y z", [], temporary),
        ] {
            var c = s3(name, key: key, query: query)
            c.credentials = creds
            c.presignSeconds = 900
            cases.append(c)
        }
        var presignService = service("presign other service", path: "/a b/../c", query: [("Action", "ListQueues")], method: "GET")
        presignService.presignSeconds = 3600
        cases.append(presignService)
        return cases
    }()

    @Test func everyCaseMatchesBotocore() async throws {
        var specs: [[String: Any]] = []
        var ours: [(canonical: String, stringToSign: String, request: AWSRequest)] = []
        for c in Self.cases {
            let signer = SigV4Signer(credentials: c.credentials, region: c.service == "s3" ? "us-east-1" : "eu-west-1", service: c.service)
            let payload: PayloadHash = c.unsignedPayload ? .unsigned : (c.presignSeconds != nil && c.service == "s3" ? .unsigned : PayloadHash(of: c.body))
            var spec: [String: Any] = [
                "method": c.request.method, "url": c.request.url, "body_hex": c.body.map { String(format: "%02x", $0) }.joined(),
                "headers": c.request.headers.map { [$0.name, $0.value] }, "service": c.service, "region": signer.region,
                "access_key": c.credentials.accessKeyID, "secret_key": c.credentials.secretAccessKey, "timestamp": Self.timestamp,
                "mode": c.presignSeconds == nil ? "header" : "presign", "unsigned_payload": c.unsignedPayload,
            ]
            if let token = c.credentials.sessionToken { spec["token"] = token }
            if let seconds = c.presignSeconds { spec["expires"] = seconds }
            specs.append(spec)
            if let seconds = c.presignSeconds {
                let presigned = try signer.presign(c.request, expires: .seconds(seconds), payload: payload, date: Self.date)
                var unsigned = presigned
                unsigned.query.removeAll { $0.name == "X-Amz-Signature" }
                let canonical = signer.canonicalRequest(unsigned, payload: payload)
                ours.append((canonical, signer.stringToSign(canonicalRequest: canonical, date: Self.date), presigned))
            } else {
                var request = c.request
                signer.sign(&request, payload: payload, date: Self.date)
                let canonical = signer.canonicalRequest(request, payload: payload)
                ours.append((canonical, signer.stringToSign(canonicalRequest: canonical, date: Self.date), request))
            }
        }
        let script = Bundle.module.resourceURL!.appendingPathComponent("Scripts/botocore_sign.py").path
        let output = try await runProcess("python3", [script], input: try JSONSerialization.data(withJSONObject: specs))
        try #require(output.status == 0, "botocore signer failed: \(output.stderrText)")
        let results = try #require(try JSONSerialization.jsonObject(with: output.stdout) as? [[String: Any]])
        try #require(results.count == Self.cases.count)

        for (index, c) in Self.cases.enumerated() {
            let theirs = results[index]
            let mine = ours[index]
            #expect(mine.canonical == theirs["canonical_request"] as? String, "\(c.name): canonical request differs")
            #expect(mine.stringToSign == theirs["string_to_sign"] as? String, "\(c.name): string to sign differs")
            if c.presignSeconds != nil {
                // Parameter order on the wire is free; the set of parameters and the signature are not.
                let theirQuery = Set((URLComponents(string: theirs["url"] as! String)?.percentEncodedQuery ?? "").split(separator: "&").map(String.init))
                let myQuery = Set(mine.request.encodedQuery.split(separator: "&").map(String.init))
                #expect(myQuery == theirQuery, "\(c.name): presigned query differs")
            } else {
                let theirHeaders = Dictionary((theirs["headers"] as! [[String]]).map { ($0[0].lowercased(), $0[1]) }, uniquingKeysWith: { "\($0),\($1)" })
                for name in ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"] {
                    #expect(mine.request.headers.first(name: name) == theirHeaders[name], "\(c.name): \(name) differs")
                }
            }
        }
    }
}
