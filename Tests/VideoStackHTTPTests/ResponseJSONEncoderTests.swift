import Foundation
import NIOCore
import Testing
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// The API's streaming JSON encoder writes exactly what `JSONEncoder` (with the API's settings)
/// writes, and hands back nil, for `JSONEncoder` to take over, on what it does not cover.
@Suite struct ResponseJSONEncoderTests {
    /// The same JSON as `JSONEncoder`'s: the same values; keys compared as sets, since
    /// `JSONEncoder` writes them in hash order (ours keep the declaration order).
    private func same<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = try VideoStackAPI.encoder().encode(value)
        let ours = try #require(ResponseJSONEncoder.encode(value), sourceLocation: sourceLocation)
        func canonical(_ data: Data) throws -> String {
            let object = try JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)
            return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
        }
        #expect(try canonical(Data(ours)) == canonical(reference), sourceLocation: sourceLocation)
    }

    /// Byte for byte the same as `JSONEncoder`'s (for values without keyed containers).
    private func sameBytes<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let reference = String(decoding: try VideoStackAPI.encoder().encode(value), as: UTF8.self)
        #expect(ResponseJSONEncoder.encode(value).map { String(decoding: $0, as: UTF8.self) } == reference, sourceLocation: sourceLocation)
    }

    @Test func theAPIsResourcesEncodeAsJSONEncoderDoes() throws {
        var video = Video(owner: "ada", title: "Line\nbreak \"quoted\" \\ back/slash \u{1} é 日本 🎬", description: "",
                          tags: ["a", "", "tab\there"])
        try same(VideoResource(video, grant: nil))
        video.status = .ready
        video.duration = .milliseconds(63_417)
        video.views = 12_345
        video.media = VideoMedia(playlist: "videos/\(video.id)/hls/master.m3u8", poster: "videos/\(video.id)/poster.jpg")
        let grant = PlaybackGrant(pathPrefix: "/media/videos/\(video.id)/", query: [URLQueryItem(name: "expires", value: "1"), URLQueryItem(name: "signature", value: "a/b+c")], expires: nil)
        try same(VideoResource(video, grant: grant))
        try same(PageResource(items: [VideoResource(video, grant: nil), VideoResource(video, grant: grant)], nextCursor: "abc=="))
        try same(PageResource<VideoResource>(items: [], nextCursor: nil))
        try same(SearchItemResource(video: VideoResource(video, grant: nil), highlights: .init(title: [[0, 4], [6, 9]])))
        try same(ErrorResource(error: .init(code: "invalid_request", message: "Bad \u{7f} byte", requestId: "r1")))
        try same(RatingResource(average: 4.25, count: 4))
        try same(RatingResource(average: nil, count: 0))
    }

    /// A type that writes its own JSON writes byte for byte what its `Encodable` conformance
    /// writes (in the same key order), alone and nested in pages and search results.
    @Test func theDirectWritersMatchTheirEncodableForms() throws {
        /// Encodes through the wrapped value's `encode(to:)`, bypassing its direct writer.
        struct ViaEncodable<Value: Encodable & Sendable>: Encodable, Sendable {
            var value: Value
            func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
        }
        func direct<T: Encodable>(_ value: T) throws -> String {
            String(decoding: try #require(ResponseJSONEncoder.encode(value)), as: UTF8.self)
        }
        var videos: [Video] = []
        var video = Video(owner: "ada", title: "Quote \" back\\ tab\t nul\u{0} é 🎬", description: "two\nlines", tags: [])
        videos.append(video)
        video.status = .processing
        video.progress = 0.375
        video.tags = ["x", "", "ü"]
        videos.append(video)
        video.status = .failed
        video.failureReason = "The upload is not a video: no stream could be decoded."
        videos.append(video)
        video.status = .ready
        video.duration = .milliseconds(63_417)
        video.views = 9_876_543_210
        video.ratingSum = 17
        video.ratingCount = 4
        video.media = VideoMedia(playlist: "videos/\(video.id)/hls/master.m3u8", poster: "videos/\(video.id)/poster.jpg",
                                 storyboard: "videos/\(video.id)/storyboard.vtt")
        videos.append(video)
        video.status = .live
        video.viewers = 12
        videos.append(video)
        let grant = PlaybackGrant(pathPrefix: "/media/videos/\(video.id)/", query: [URLQueryItem(name: "signature", value: "a/b+c")], expires: nil)
        for video in videos {
            for resource in [VideoResource(video, grant: nil), VideoResource(video, grant: grant)] {
                #expect(try direct(resource) == direct(ViaEncodable(value: resource)))
                try same(resource)
            }
        }
        let resources = videos.map { VideoResource($0, grant: grant) }
        let page = PageResource(items: resources, nextCursor: "next==")
        #expect(try direct(page) == direct(PageResource(items: resources.map { ViaEncodable(value: $0) }, nextCursor: "next==")))
        let hit = SearchItemResource(video: resources[3], highlights: .init(title: [[0, 5]]))
        let hitJSON = try direct(hit)
        #expect(hitJSON.contains(try direct(ViaEncodable(value: resources[3]))))
        try same(hit)
    }

    @Test func numbersDatesAndNesting() throws {
        struct Inner: Encodable { var list: [Int?] = [1, nil, -3]; var empty: [String] = []; var flag = false }
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        struct Sample: Encodable {
            var doubles: [Double] = [0, 1, -1.5, 0.1, 1e-7, 1e20, 123_456.789, 2.0e15, -0.0]
            var floats: [Float] = [0.1, 3, 1e10]
            var integers: [Int64] = [.min, .max, 0]
            var unsigned: UInt64 = .max
            var dates: [Date] = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_764_700_000.999),
                                 Date(timeIntervalSince1970: -86_401.5), Date(timeIntervalSince1970: 951_782_400)]
            var url = URL(string: "https://example.com/a/b?c=d")!
            var data = Data([0, 1, 2, 250])
            var nested = [[Inner()], []]
            var nothing = Nothing()
            var optional: String? = nil
        }
        try same(Sample())
        let sample = Sample()
        try sameBytes(sample.doubles)
        try sameBytes(sample.floats)
        try sameBytes(sample.dates)
        try sameBytes(sample.nested.map { $0.map(\.list) })
        try sameBytes(["Line\nbreak \"quoted\" \\ back/slash \u{1}\u{1f}\u{7f} é 日本 🎬", ""])
        try same(["only": "one key"])
        try same("a bare string")
        try same([1, 2, 3])
    }

    @Test func whatItDoesNotCoverFallsBack() {
        struct Twice: Encodable {
            func encode(to encoder: any Encoder) throws {
                var first = encoder.container(keyedBy: Key.self)
                try first.encode(1, forKey: .a)
                var second = encoder.container(keyedBy: Key.self)
                try second.encode(2, forKey: .b)
            }
            enum Key: CodingKey { case a, b }
        }
        struct Late: Encodable {
            func encode(to encoder: any Encoder) throws {
                var outer = encoder.container(keyedBy: Key.self)
                var inner = outer.nestedContainer(keyedBy: Key.self, forKey: .a)
                try outer.encode(1, forKey: .b)
                try inner.encode(2, forKey: .b)
            }
            enum Key: CodingKey { case a, b }
        }
        struct Super: Encodable {
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Key.self)
                try "x".encode(to: container.superEncoder())
            }
            enum Key: CodingKey { case a }
        }
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        #expect(ResponseJSONEncoder.encode(Twice()) == nil)
        #expect(ResponseJSONEncoder.encode(Late()) == nil)
        #expect(ResponseJSONEncoder.encode(Super()) == nil)
        #expect(ResponseJSONEncoder.encode(Nothing()) == nil)
        #expect(ResponseJSONEncoder.encode([Double.nan]) == nil)
        #expect(ResponseJSONEncoder.encode(["x": Double.infinity]) == nil)
        // The fallback answers as before: JSONEncoder merges the two containers, refuses NaN.
        #expect((try? VideoStackAPI.encodeJSON(Twice()))?.readableBytes ?? 0 > 0)
        #expect(throws: (any Error).self) { try VideoStackAPI.encodeJSON([Double.nan]) }
    }
}
