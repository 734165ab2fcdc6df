import Foundation
import HTTPTypes
import Testing
import VideoCore
@testable import VideoStackHTTP

/// The RFC 9110 building blocks on their own: dates, entity tags, ranges, preconditions, keys.
@Suite struct HTTPSemanticsTests {
    // MARK: Dates

    @Test func datesFormatAsIMFFixdate() {
        #expect(HTTPDate(secondsSince1970: 784_111_777).description == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate(secondsSince1970: 0).description == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate(secondsSince1970: 951_782_400).description == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate(secondsSince1970: 4_102_444_799).description == "Thu, 31 Dec 2099 23:59:59 GMT")
    }

    @Test func datesParseInAllThreeForms() {
        let expected = HTTPDate(secondsSince1970: 784_111_777)
        #expect(HTTPDate("Sun, 06 Nov 1994 08:49:37 GMT") == expected)
        #expect(HTTPDate("Sunday, 06-Nov-94 08:49:37 GMT") == expected)
        #expect(HTTPDate("Sun Nov  6 08:49:37 1994") == expected)
        #expect(HTTPDate("Sun Nov 16 08:49:37 1994") == HTTPDate(secondsSince1970: 784_111_777 + 10 * 86_400))
    }

    @Test func datesRoundTrip() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let seconds = Int64.random(in: 0...4_102_444_799, using: &generator)
            let date = HTTPDate(secondsSince1970: seconds)
            #expect(HTTPDate(date.description) == date)
        }
    }

    @Test(arguments: [
        "", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 29 Feb 1995 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT trailing", "1994-11-06T08:49:37Z",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun,06 Nov 1994 08:49:37 GMT",
    ])
    func malformedDatesAreRejected(_ text: String) {
        #expect(HTTPDate(text) == nil)
    }

    // MARK: Entity tags

    @Test func entityTagListsParse() {
        #expect(EntityTagCondition.parse(["*"]) == .any)
        #expect(EntityTagCondition.parse(["\"a\", W/\"b\" ,\"c\""]) == .tags([EntityTag("a"), EntityTag("b", weak: true), EntityTag("c")]))
        #expect(EntityTagCondition.parse(["\"a\"", "\"b\""]) == .tags([EntityTag("a"), EntityTag("b")]))
        #expect(EntityTagCondition.parse(["\"a\", , \"b\""]) == .tags([EntityTag("a"), EntityTag("b")]))
        #expect(EntityTagCondition.parse(["\"\""]) == .tags([EntityTag("")]))
        for bad in ["a", "\"a", "\"a\" \"b\"", "W/a", "*, \"a\"", "\"a b\"", "", "\"a\"x"] {
            #expect(EntityTagCondition.parse([bad]) == nil, "\(bad)")
        }
    }

    @Test func strongAndWeakComparison() {
        let strong = EntityTag("x")
        let weak = EntityTag("x", weak: true)
        #expect(strong.strongly(matches: EntityTag("x")))
        #expect(!weak.strongly(matches: strong))
        #expect(!strong.strongly(matches: weak))
        #expect(weak.weakly(matches: strong))
        #expect(!EntityTag("y").weakly(matches: strong))
    }

    @Test func storeValidatorsBecomeValidStrongTags() {
        #expect(EntityTag.fromStoreValidator("12ab-34cd-5").description == "\"12ab-34cd-5\"")
        #expect(EntityTag.fromStoreValidator("\"d41d8cd98f00b204e9800998ecf8427e\"").description == "\"d41d8cd98f00b204e9800998ecf8427e\"")
        #expect(EntityTag.fromStoreValidator("W/\"v1\"").description == "\"v1\"")
        #expect(EntityTag.fromStoreValidator("a b\"c\u{7F}").description == "\"abc\"")
    }

    // MARK: Ranges

    @Test func rangesParseAndResolve() {
        func resolve(_ header: String, _ size: Int64 = 1000) -> ByteRanges.Resolution? {
            ByteRanges.parse(header)?.resolve(size: size)
        }
        #expect(resolve("bytes=0-99") == .partial(0..<100))
        #expect(resolve("bytes=100-") == .partial(100..<1000))
        #expect(resolve("bytes=-100") == .partial(900..<1000))
        #expect(resolve("bytes=-5000") == .partial(0..<1000))
        #expect(resolve("bytes=990-5000") == .partial(990..<1000))
        #expect(resolve("Bytes=0-0") == .partial(0..<1))
        #expect(resolve("bytes=999-999") == .partial(999..<1000))
        #expect(resolve("bytes=0-99999999999999999999999") == .partial(0..<1000))
        // Overlapping and adjacent ranges merge into one; disjoint ones give the whole object.
        #expect(resolve("bytes=0-99, 50-199") == .partial(0..<200))
        #expect(resolve("bytes=0-99,100-199") == .partial(0..<200))
        #expect(resolve("bytes=0-9, 20-29") == .whole)
        #expect(resolve("bytes=0-9, 5000-6000") == .partial(0..<10))
        #expect(resolve("bytes=1000-") == .unsatisfiable)
        #expect(resolve("bytes=1000-2000, 3000-") == .unsatisfiable)
        #expect(resolve("bytes=-0") == .unsatisfiable)
        #expect(resolve("bytes=99999999999999999999999-") == .unsatisfiable)
        #expect(resolve("bytes=0-", 0) == .unsatisfiable)
        #expect(resolve("bytes=-10", 0) == .whole)
    }

    @Test(arguments: [
        "bytes", "bytes=", "items=0-10", "bytes = 0-10", "bytes=a-b", "bytes=10-5", "bytes=--5", "bytes=0-1-2",
        "bytes=0x10-20", "bytes=-", String(repeating: "bytes=0-1,", count: 1) + String(repeating: "0-1,", count: 70),
    ])
    func invalidRangesAreIgnored(_ header: String) {
        #expect(ByteRanges.parse(header) == nil)
    }

    // MARK: Preconditions

    @Test func preconditionsFollowRFC9110Order() {
        let etag = EntityTag("v1")
        let modified = HTTPDate(secondsSince1970: 1_700_000_000)
        func evaluate(_ fields: [(String, String)]) -> Preconditions.Outcome {
            var headers = HTTPFields()
            for (name, value) in fields { headers.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
            return Preconditions.evaluate(headers, etag: etag, lastModified: modified)
        }
        let before = HTTPDate(secondsSince1970: 1_699_999_999).description
        let same = modified.description
        #expect(evaluate([]) == .proceed)
        #expect(evaluate([("If-None-Match", "\"v1\"")]) == .notModified)
        #expect(evaluate([("If-None-Match", "W/\"v1\"")]) == .notModified)
        #expect(evaluate([("If-None-Match", "*")]) == .notModified)
        #expect(evaluate([("If-None-Match", "\"v0\", \"v1\"")]) == .notModified)
        #expect(evaluate([("If-None-Match", "\"v0\"")]) == .proceed)
        #expect(evaluate([("If-None-Match", "garbage")]) == .proceed)
        #expect(evaluate([("If-Modified-Since", same)]) == .notModified)
        #expect(evaluate([("If-Modified-Since", before)]) == .proceed)
        #expect(evaluate([("If-Modified-Since", "not a date")]) == .proceed)
        // If-None-Match wins over If-Modified-Since.
        #expect(evaluate([("If-None-Match", "\"v0\""), ("If-Modified-Since", same)]) == .proceed)
        #expect(evaluate([("If-Match", "\"v1\"")]) == .proceed)
        #expect(evaluate([("If-Match", "*")]) == .proceed)
        #expect(evaluate([("If-Match", "W/\"v1\"")]) == .preconditionFailed)
        #expect(evaluate([("If-Match", "\"v0\"")]) == .preconditionFailed)
        #expect(evaluate([("If-Unmodified-Since", before)]) == .preconditionFailed)
        #expect(evaluate([("If-Unmodified-Since", same)]) == .proceed)
        // If-Match present: If-Unmodified-Since is not looked at.
        #expect(evaluate([("If-Match", "\"v1\""), ("If-Unmodified-Since", before)]) == .proceed)
        #expect(evaluate([("If-Match", "\"v1\""), ("If-None-Match", "\"v1\"")]) == .notModified)
    }

    @Test func ifRangeNeedsAStrongMatch() {
        let etag = EntityTag("v1")
        let modified = HTTPDate(secondsSince1970: 1_700_000_000)
        let later = Date(timeIntervalSince1970: 1_700_000_100)
        #expect(Preconditions.ifRangeHolds(nil, etag: etag, lastModified: modified, now: later))
        #expect(Preconditions.ifRangeHolds("\"v1\"", etag: etag, lastModified: modified, now: later))
        #expect(!Preconditions.ifRangeHolds("W/\"v1\"", etag: etag, lastModified: modified, now: later))
        #expect(!Preconditions.ifRangeHolds("\"v2\"", etag: etag, lastModified: modified, now: later))
        #expect(Preconditions.ifRangeHolds(modified.description, etag: etag, lastModified: modified, now: later))
        #expect(!Preconditions.ifRangeHolds(HTTPDate(secondsSince1970: 1_700_000_001).description, etag: etag, lastModified: modified, now: later))
        // Within the modification's own second a date is not a strong validator.
        #expect(!Preconditions.ifRangeHolds(modified.description, etag: etag, lastModified: modified, now: Date(timeIntervalSince1970: 1_700_000_000.5)))
        #expect(!Preconditions.ifRangeHolds("garbage", etag: etag, lastModified: modified, now: later))
    }

    // MARK: Keys

    @Test func plainKeysPass() throws {
        #expect(try MediaKey.parse("videos/01J/720p/seg_00001.m4s", maximumLength: 1024) == "videos/01J/720p/seg_00001.m4s")
        #expect(try MediaKey.parse("videos/a%20b/x.m3u8", maximumLength: 1024) == "videos/a b/x.m3u8")
        #expect(try MediaKey.parse("v/caf%C3%A9.jpg", maximumLength: 1024) == "v/café.jpg")
        #expect(try MediaKey.parse("v/a..b.ts", maximumLength: 1024) == "v/a..b.ts")
    }

    @Test(arguments: [
        "..", "../etc/passwd", "a/../../etc/passwd", "a/..", "%2e%2e/etc/passwd", "%2E%2E/x", ".%2e/x", "a/%2e/b",
        "a%2fb", "a%2F..%2Fb", "..%2f..%2fetc%2fpasswd", "a%5cb", "a\\b", "..\\..\\x", "a%00b", "a\u{0}b", "a%0ab",
        "a%7f", "/etc/passwd", "//etc/passwd", "a//b", "a/", "", "%", "%2", "%zz", "%c0%ae%c0%ae/x", "%c0%af",
        ".videostack-tmp/put-1", "a/.hidden", "%ff",
    ])
    func hostileKeysAreRefused(_ raw: String) {
        #expect(throws: VideoStackError.self) { try MediaKey.parse(Substring(raw), maximumLength: 1024) }
    }

    @Test func overlongKeysAreRefused() {
        #expect(throws: VideoStackError.self) { try MediaKey.parse(Substring(String(repeating: "a", count: 1025)), maximumLength: 1024) }
        #expect(throws: VideoStackError.self) { try MediaKey.parse(Substring(String(repeating: "%61", count: 1025)), maximumLength: 1024) }
        #expect(throws: VideoStackError.self) { try MediaKey.parse(Substring(String(repeating: "a/", count: 100_000) + "x"), maximumLength: 1024) }
    }

    // MARK: Kinds

    @Test func kindsAndPlaylistStates() {
        #expect(MediaKind(key: "v/720p/seg_00001.m4s") == .mediaSegment)
        #expect(MediaKind(key: "v/720p/seg_00001.ts") == .mediaSegment)
        #expect(MediaKind(key: "v/720p/init.mp4") == .initSegment)
        #expect(MediaKind(key: "v/720p/init_0.mp4") == .initSegment)
        #expect(MediaKind(key: "v/download.mp4") == .other)
        #expect(MediaKind(key: "v/poster.jpg") == .image)
        #expect(MediaKind(key: "v/storyboard.vtt") == .storyboard)
        #expect(MediaKind(key: "v/subtitles.en.vtt") == .other)
        #expect(MediaKind(key: "v/master.m3u8") == .playlist)
        #expect(PlaylistState(playlist: Array("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n".utf8)) == .multivariant)
        #expect(PlaylistState(playlist: Array("#EXTM3U\n#EXTINF:4,\na.m4s\n#EXT-X-ENDLIST\n".utf8)) == .ended)
        #expect(PlaylistState(playlist: Array("#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:4,\na.m4s\n".utf8)) == .growing)
        #expect(PlaylistState(playlist: [UInt8]()) == .growing)
        #expect(MediaKind.contentType(key: "a.m3u8", stored: "") == "application/vnd.apple.mpegurl")
        #expect(MediaKind.contentType(key: "a.m4s", stored: "") == "video/iso.segment")
        #expect(MediaKind.contentType(key: "a.ts", stored: "") == "video/mp2t")
        #expect(MediaKind.contentType(key: "init.mp4", stored: "") == "video/mp4")
        #expect(MediaKind.contentType(key: "a.vtt", stored: "") == "text/vtt")
        #expect(MediaKind.contentType(key: "a.jpg", stored: "") == "image/jpeg")
        #expect(MediaKind.contentType(key: "a.bin", stored: "application/x-thing") == "application/x-thing")
    }
}
