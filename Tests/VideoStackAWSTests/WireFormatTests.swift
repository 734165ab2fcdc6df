import Foundation
import SingleTableStore
import Testing
import VideoCore
@testable import VideoStackAWS

/// The JSON and XML readers every response goes through, fed damaged, truncated, oversized and
/// hostile documents: each gets a `corrupt` error, never a crash or a hang.
@Suite("Wire formats")
struct WireFormatTests {
    @Test func jsonRoundTripsEveryAttributeType() throws {
        let item: Item = ["s": "é \"quoted\" \\ \n\t\u{1}", "n": .n(try Number(parsing: "-12.5E+3")), "b": .b([0, 255, 7]), "t": true, "z": .null,
                          "l": ["x", 1], "m": ["k": ["deep": .ss(["a", "b"])]], "ns": .ns([1, 2]), "bs": .bs([[1], [2]]), "emoji": "🎬"]
        let text = DynamoDBJSON.encode(item).serialized
        let parsed = try JSON.parse(text, what: "test")
        #expect(try DynamoDBJSON.decodeItem(parsed) == item)
        // Escapes a client may send that we never do.
        #expect(try JSON.parse(Array(#"{"a":"\u00e9\ud83c\udfac\/"}"#.utf8), what: "t")["a"]?.string == "é🎬/")
    }

    @Test func damagedJSONIsCorruptNotACrash() {
        let inputs: [String] = ["", "{", "{\"a\":", "{\"a\" 1}", "[1,]", "[1 2]", "nul", "\"unterminated", "{\"a\":\"\\x\"}",
                                "\"\\ud800\"", "\"\\u12\"", "{} trailing", "{\"a\":01x}", String(repeating: "[", count: 100_000)]
        for input in inputs {
            #expect(throws: VideoStackError.self, "\(input.prefix(20))") { try JSON.parse(Array(input.utf8), what: "test") }
        }
        #expect(throws: VideoStackError.self) { try JSON.parse([0x22, 0xFF, 0xFE, 0x22], what: "invalid UTF-8") }
        // Well-formed JSON that is not an attribute value.
        for bad in [#"{"S":1}"#, #"{"N":"abc"}"#, #"{"B":"***"}"#, #"{"X":"y"}"#, #"{"S":"a","N":"1"}"#, #"[]"#] {
            let json = try! JSON.parse(Array(bad.utf8), what: "t")
            let error = #expect(throws: VideoStackError.self, "\(bad)") { try DynamoDBJSON.decode(json) }
            #expect(error?.code == .corrupt)
        }
    }

    @Test func damagedXMLIsCorrupt() throws {
        for input in ["", "<a>", "<a></b>", "not xml", "<?xml version=\"1.0\"?><a>&bogus;</a>"] {
            let error = #expect(throws: VideoStackError.self, "\(input)") { try XMLNode.parse(Array(input.utf8), what: "test") }
            #expect(error?.code == .corrupt)
        }
        let listing = try XMLNode.parse(Array("<ListBucketResult><Contents><Key>a &amp; b</Key><Size>3</Size></Contents><IsTruncated>false</IsTruncated></ListBucketResult>".utf8), what: "t")
        #expect(listing.all("Contents").first?.string("Key") == "a & b")
        #expect("<a & 'b'>".xmlEscaped == "&lt;a &amp; &apos;b&apos;&gt;")
    }

    @Test func pageTokensRefuseTampering() async throws {
        // Tokens are checked without any service: build them against a store's scope directly.
        let scope = DynamoDBItemStore.TokenScope(kind: "q", index: nil, partition: DynamoDBJSON.encode(.s("p")))
        let fields = PageTokenCodec(tableName: "videos")
        let token = try fields.encode(.object(["PK": DynamoDBJSON.encode(.s("p"))]), scope: scope)
        #expect(try fields.decode(token, scope: scope) == .object(["PK": DynamoDBJSON.encode(.s("p"))]))
        var bytes = Array(token.text.utf8)
        bytes[2] = bytes[2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: VideoStackError.self) { try fields.decode(PageToken(String(decoding: bytes, as: UTF8.self)), scope: scope) }
        #expect(throws: VideoStackError.self) { try PageTokenCodec(tableName: "other").decode(token, scope: scope) }
        #expect(throws: VideoStackError.self) { try fields.decode(PageToken(String(repeating: "A", count: 20_000)), scope: scope) }
        #expect(throws: VideoStackError.self) { try fields.decode(PageToken("🎬"), scope: scope) }
    }
}
