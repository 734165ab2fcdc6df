import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport
import VideoCore
@testable import VideoStackHTTP

/// The delivery's HTTP semantics through Hummingbird's router test framework.
@Suite struct MediaDeliveryTests {
    static let segmentKey = "videos/v1/720p/seg_00001.m4s"
    static let segment = patternBytes(100_000)

    /// A fixture with one segment whose modification time is a minute in the past (so its date
    /// is a strong validator for If-Range).
    func fixture(_ configuration: MediaDeliveryConfiguration = .init(), authorizer: any MediaAccessPolicy = PublicMediaAccess()) async throws -> DeliveryFixture {
        let fixture = try DeliveryFixture(configuration: configuration, authorizer: authorizer)
        try await fixture.store.put(Self.segmentKey, bytes: Self.segment)
        try setModificationDate(Date(timeIntervalSinceNow: -60), of: Self.segmentKey, in: fixture)
        return fixture
    }

    func setModificationDate(_ date: Date, of key: String, in fixture: DeliveryFixture) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: fixture.store.root.appendingPathComponent(key).path)
    }

    func get(_ fixture: DeliveryFixture, _ uri: String, method: HTTPRequest.Method = .get, _ headers: HTTPFields = [:]) async throws -> TestResponse {
        try await fixture.application().test(.router) { client in
            try await client.execute(uri: uri, method: method, headers: headers)
        }
    }

    /// Several requests against one application (the object cache lives in the delivery, so
    /// this matters only for readability).
    func session<T: Sendable>(_ fixture: DeliveryFixture, _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        try await fixture.application().test(.router) { client in try await body(client) }
    }

    // MARK: Full responses

    @Test func fullGetHasBodyTypeValidatorsAndImmutableCaching() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let response = try await get(fixture, "/media/" + Self.segmentKey)
        #expect(response.status == .ok)
        #expect(Array(buffer: response.body) == Self.segment)
        #expect(response.headers[.contentType] == "video/iso.segment")
        #expect(response.headers[.contentLength] == "100000")
        #expect(response.headers[.acceptRanges] == "bytes")
        #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
        #expect(response.headers[.xContentTypeOptions] == "nosniff")
        let metadata = try #require(try await fixture.store.metadata(Self.segmentKey))
        #expect(response.headers[.eTag] == "\"\(metadata.etag)\"")
        #expect(response.headers[.lastModified] == HTTPDate(secondsSince1970: Int64(metadata.lastModified.timeIntervalSince1970)).description)
    }

    @Test func headHasTheHeadersOfGetAndNoBody() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let response = try await get(fixture, "/media/" + Self.segmentKey, method: .head, [.range: "bytes=0-9"])
        // Range is defined for GET only (RFC 9110 §14.2), so HEAD describes the whole object.
        #expect(response.status == .ok)
        #expect(response.body.readableBytes == 0)
        #expect(response.headers[.contentLength] == "100000")
        #expect(response.headers[.contentType] == "video/iso.segment")
        #expect(response.headers[.eTag] != nil)
        #expect(response.headers[.contentRange] == nil)
    }

    // MARK: Ranges

    @Test func singleSuffixAndOpenEndedRanges() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let cases: [(String, Range<Int>)] = [
                ("bytes=0-99", 0..<100), ("bytes=1000-1999", 1000..<2000), ("bytes=-500", 99_500..<100_000),
                ("bytes=99000-", 99_000..<100_000), ("bytes=99999-200000", 99_999..<100_000), ("bytes=0-", 0..<100_000),
                ("bytes=-1000000", 0..<100_000),
            ]
            for (header, range) in cases {
                let response = try await client.execute(uri: uri, method: .get, headers: [.range: header])
                #expect(response.status == .partialContent, "\(header)")
                #expect(response.headers[.contentRange] == "bytes \(range.lowerBound)-\(range.upperBound - 1)/100000", "\(header)")
                #expect(response.headers[.contentLength] == String(range.count), "\(header)")
                #expect(Array(buffer: response.body) == Array(Self.segment[range]), "\(header)")
            }
        }
    }

    @Test func multipleRangesMergeOrFallBackToTheWholeObject() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let merged = try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=0-99, 50-199, 200-299"])
            #expect(merged.status == .partialContent)
            #expect(merged.headers[.contentRange] == "bytes 0-299/100000")
            #expect(Array(buffer: merged.body) == Array(Self.segment[0..<300]))
            let disjoint = try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=0-9, 500-509"])
            #expect(disjoint.status == .ok)
            #expect(disjoint.headers[.contentRange] == nil)
            #expect(Array(buffer: disjoint.body) == Self.segment)
        }
    }

    @Test func unsatisfiableRangesGet416WithTheSize() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            for header in ["bytes=100000-", "bytes=200000-300000", "bytes=-0"] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.range: header])
                #expect(response.status == .rangeNotSatisfiable, "\(header)")
                #expect(response.headers[.contentRange] == "bytes */100000", "\(header)")
            }
            // A malformed or foreign-unit Range is ignored: the whole object.
            for header in ["bytes=abc", "items=0-1", "bytes=5-1"] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.range: header])
                #expect(response.status == .ok, "\(header)")
                #expect(response.body.readableBytes == 100_000)
            }
        }
    }

    // MARK: Conditional requests

    @Test func ifNoneMatchGives304ForExactStarListAndWeakTags() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let etag = try #require(try await client.execute(uri: uri, method: .get).headers[.eTag])
            let weak = "W/" + etag
            for condition in [etag, "*", "\"nope\", \(etag)", "\"a\",\"b\", \(weak)", weak] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: condition])
                #expect(response.status == .notModified, "\(condition)")
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.eTag] == etag)
                #expect(response.headers[.cacheControl] == "public, max-age=31536000, immutable")
                #expect(response.headers[.contentType] == nil)
            }
            let head = try await client.execute(uri: uri, method: .head, headers: [.ifNoneMatch: etag])
            #expect(head.status == .notModified)
            for condition in ["\"nope\"", "\"a\", \"b\"", "not-a-tag"] {
                let response = try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: condition])
                #expect(response.status == .ok, "\(condition)")
                #expect(response.body.readableBytes == 100_000)
            }
            // If-None-Match takes precedence over If-Modified-Since.
            let lastModified = try #require(try await client.execute(uri: uri, method: .head).headers[.lastModified])
            let both = try await client.execute(uri: uri, method: .get, headers: [.ifNoneMatch: "\"nope\"", .ifModifiedSince: lastModified])
            #expect(both.status == .ok)
        }
    }

    @Test func ifModifiedSinceGives304UnlessModifiedLater() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let lastModified = try #require(try await client.execute(uri: uri, method: .head).headers[.lastModified])
            let date = try #require(HTTPDate(lastModified))
            let same = try await client.execute(uri: uri, method: .get, headers: [.ifModifiedSince: lastModified])
            #expect(same.status == .notModified)
            let later = try await client.execute(uri: uri, method: .get, headers: [.ifModifiedSince: HTTPDate(secondsSince1970: date.secondsSince1970 + 3600).description])
            #expect(later.status == .notModified)
            let earlier = try await client.execute(uri: uri, method: .get, headers: [.ifModifiedSince: HTTPDate(secondsSince1970: date.secondsSince1970 - 1).description])
            #expect(earlier.status == .ok)
            let invalid = try await client.execute(uri: uri, method: .get, headers: [.ifModifiedSince: "last tuesday"])
            #expect(invalid.status == .ok)
        }
    }

    @Test func ifRangeKeepsTheRangeOnlyForTheCurrentVersion() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let head = try await client.execute(uri: uri, method: .head)
            let etag = try #require(head.headers[.eTag])
            let lastModified = try #require(head.headers[.lastModified])
            let cases: [(String, HTTPResponse.Status)] = [
                (etag, .partialContent), ("\"older-version\"", .ok), ("W/" + etag, .ok),
                (lastModified, .partialContent), ("Thu, 01 Jan 1970 00:00:00 GMT", .ok), ("garbage", .ok),
            ]
            for (validator, status) in cases {
                let response = try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=10-19", .ifRange: validator])
                #expect(response.status == status, "\(validator)")
                #expect(Array(buffer: response.body) == (status == .ok ? Self.segment : Array(Self.segment[10..<20])))
            }
        }
    }

    @Test func ifMatchAndIfUnmodifiedSinceGive412() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let head = try await client.execute(uri: uri, method: .head)
            let etag = try #require(head.headers[.eTag])
            #expect(try await client.execute(uri: uri, method: .get, headers: [.ifMatch: etag]).status == .ok)
            #expect(try await client.execute(uri: uri, method: .get, headers: [.ifMatch: "\"other\""]).status == .preconditionFailed)
            #expect(try await client.execute(uri: uri, method: .get, headers: [.ifUnmodifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT"]).status == .preconditionFailed)
        }
    }

    // MARK: Playlists and caching

    @Test func playlistLifetimesFollowTheirContent() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        try await fixture.store.put("videos/v1/master.m3u8", string: "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720\n720p/index.m3u8\n")
        try await fixture.store.put("videos/v1/720p/index.m3u8", string: "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n")
        try await fixture.store.put("videos/v2/720p/index.m3u8", string: "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:4.0,\nseg_00001.m4s\n")
        try await fixture.store.put("videos/v1/720p/init.mp4", bytes: [0, 0, 0, 8, 0x66, 0x74, 0x79, 0x70])
        try await fixture.store.put("videos/v1/poster.jpg", bytes: [0xFF, 0xD8, 0xFF, 0xD9])
        try await fixture.store.put("videos/v1/storyboard.vtt", string: "WEBVTT\n")
        try await fixture.store.put("videos/v1/captions.vtt", string: "WEBVTT\n")
        try await fixture.store.put("videos/v3/seg_00001.ts", bytes: [0x47])
        try await session(fixture) { client in
            let expectations: [(String, String, String)] = [
                ("videos/v1/master.m3u8", "application/vnd.apple.mpegurl", "public, max-age=300"),
                ("videos/v1/720p/index.m3u8", "application/vnd.apple.mpegurl", "public, max-age=86400"),
                ("videos/v2/720p/index.m3u8", "application/vnd.apple.mpegurl", "public, max-age=1"),
                ("videos/v1/720p/init.mp4", "video/mp4", "public, max-age=31536000, immutable"),
                ("videos/v1/poster.jpg", "image/jpeg", "public, max-age=31536000, immutable"),
                ("videos/v1/storyboard.vtt", "text/vtt", "public, max-age=31536000, immutable"),
                ("videos/v1/captions.vtt", "text/vtt", "public, max-age=3600"),
                ("videos/v3/seg_00001.ts", "video/mp2t", "public, max-age=31536000, immutable"),
            ]
            for (key, type, cacheControl) in expectations {
                let response = try await client.execute(uri: "/media/" + key, method: .get)
                #expect(response.status == .ok, "\(key)")
                #expect(response.headers[.contentType] == type, "\(key)")
                #expect(response.headers[.cacheControl] == cacheControl, "\(key)")
            }
        }
    }

    @Test func aGrowingPlaylistIsServedFreshAndTurnsLongLivedWhenItEnds() async throws {
        let fixture = try await fixture(MediaDeliveryConfiguration(playlistRevalidationInterval: .zero))
        defer { fixture.cleanup() }
        let key = "videos/v2/720p/index.m3u8"
        let growing = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:4.0,\nseg_00001.m4s\n"
        try await fixture.store.put(key, string: growing)
        try await session(fixture) { client in
            let first = try await client.execute(uri: "/media/" + key, method: .get)
            #expect(String(buffer: first.body) == growing)
            #expect(first.headers[.cacheControl] == "public, max-age=1")
            let ended = growing + "#EXTINF:4.0,\nseg_00002.m4s\n#EXT-X-ENDLIST\n"
            try await fixture.store.put(key, string: ended)
            // With a zero interval playlists are checked against the store on every request.
            let second = try await client.execute(uri: "/media/" + key, method: .get)
            #expect(String(buffer: second.body) == ended)
            #expect(second.headers[.cacheControl] == "public, max-age=86400")
            #expect(second.headers[.eTag] != first.headers[.eTag])
            let revalidated = try await client.execute(uri: "/media/" + key, method: .get, headers: [.ifNoneMatch: try #require(first.headers[.eTag])])
            #expect(revalidated.status == .ok)
        }
    }

    @Test func playlistsAreHeldForTheirOwnRevalidationInterval() async throws {
        let fixture = try await fixture(MediaDeliveryConfiguration(revalidationInterval: .zero, playlistRevalidationInterval: .seconds(3600)))
        defer { fixture.cleanup() }
        let key = "videos/v2/720p/index.m3u8"
        let growing = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg_00001.m4s\n"
        try await fixture.store.put(key, string: growing)
        try await session(fixture) { client in
            #expect(String(buffer: try await client.execute(uri: "/media/" + key, method: .get).body) == growing)
            try await fixture.store.put(key, string: growing + "#EXTINF:4.0,\nseg_00002.m4s\n")
            #expect(String(buffer: try await client.execute(uri: "/media/" + key, method: .get).body) == growing)
            fixture.delivery.purge(keysWithPrefix: key)
            #expect(String(buffer: try await client.execute(uri: "/media/" + key, method: .get).body) != growing)
        }
    }

    @Test func replacedSegmentsShowAfterRevalidationOrAPurge() async throws {
        let fixture = try await fixture(MediaDeliveryConfiguration(revalidationInterval: .seconds(3600)))
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            #expect(Array(buffer: try await client.execute(uri: uri, method: .get).body) == Self.segment)
            let replacement = patternBytes(5000, seed: 2)
            try await fixture.store.put(Self.segmentKey, bytes: replacement)
            // Within the revalidation interval the cached copy is served (segments are immutable).
            #expect(Array(buffer: try await client.execute(uri: uri, method: .get).body) == Self.segment)
            fixture.delivery.purge(keysWithPrefix: "videos/v1/")
            #expect(Array(buffer: try await client.execute(uri: uri, method: .get).body) == replacement)
            try await fixture.store.delete(Self.segmentKey)
            fixture.delivery.purge(keysWithPrefix: "videos/")
            #expect(try await client.execute(uri: uri, method: .get).status == .notFound)
        }
        let eager = try await self.fixture(MediaDeliveryConfiguration(revalidationInterval: .zero))
        defer { eager.cleanup() }
        try await session(eager) { client in
            #expect(Array(buffer: try await client.execute(uri: uri, method: .get).body) == Self.segment)
            try await eager.store.delete(Self.segmentKey)
            #expect(try await client.execute(uri: uri, method: .get).status == .notFound)
        }
    }

    @Test func largeObjectsAreStreamedNotCached() async throws {
        let configuration = MediaDeliveryConfiguration(maximumCachedObjectSize: 16 << 10, streamChunkSize: 8 << 10)
        let fixture = try await fixture(configuration)
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let full = try await client.execute(uri: uri, method: .get)
            #expect(full.status == .ok)
            #expect(Array(buffer: full.body) == Self.segment)
            let partial = try await client.execute(uri: uri, method: .get, headers: [.range: "bytes=12345-67890"])
            #expect(partial.status == .partialContent)
            #expect(Array(buffer: partial.body) == Array(Self.segment[12345...67890]))
        }
        // Only metadata is held for the large object, not its bytes.
        #expect(fixture.delivery.cache.usage.bytes < 16 << 10)
    }

    @Test func theObjectCacheStaysWithinItsCapacity() async throws {
        let configuration = MediaDeliveryConfiguration(objectCacheCapacity: 50_000)
        let fixture = try await fixture(configuration)
        defer { fixture.cleanup() }
        for index in 0..<20 {
            try await fixture.store.put("videos/v9/seg_\(index).m4s", bytes: patternBytes(10_000, seed: UInt64(index)))
        }
        try await session(fixture) { client in
            for round in 0..<2 {
                for index in 0..<20 {
                    let response = try await client.execute(uri: "/media/videos/v9/seg_\(index).m4s", method: .get)
                    #expect(Array(buffer: response.body) == patternBytes(10_000, seed: UInt64(index)), "round \(round) segment \(index)")
                }
            }
        }
        let usage = fixture.delivery.cache.usage
        #expect(usage.bytes <= 50_000)
        #expect(usage.objects >= 1)
    }

    @Test func emptyObjectsAreServed() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        try await fixture.store.put("videos/v1/empty.vtt", bytes: [])
        try await session(fixture) { client in
            let response = try await client.execute(uri: "/media/videos/v1/empty.vtt", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentLength] == "0")
            #expect(try await client.execute(uri: "/media/videos/v1/empty.vtt", method: .get, headers: [.range: "bytes=0-"]).status == .rangeNotSatisfiable)
        }
    }

    // MARK: CORS

    @Test func corsForAnyOrigin() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let simple = try await client.execute(uri: uri, method: .get, headers: [.origin: "https://player.example", .range: "bytes=0-1"])
            #expect(simple.headers[.accessControlAllowOrigin] == "*")
            let exposed = try #require(simple.headers[.accessControlExposeHeaders])
            for name in ["Content-Range", "Content-Length", "ETag"] { #expect(exposed.contains(name)) }
            #expect(simple.headers[.vary] == nil)
            let preflight = try await client.execute(uri: uri, method: .options, headers: [
                .origin: "https://player.example", .accessControlRequestMethod: "GET", .accessControlRequestHeaders: "range",
            ])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "*")
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("GET") == true)
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Range") == true)
            #expect(preflight.headers[.accessControlMaxAge] == "86400")
            // Errors carry CORS too, so a cross-origin player can read the status.
            let missing = try await client.execute(uri: "/media/videos/none.m4s", method: .get, headers: [.origin: "https://player.example"])
            #expect(missing.status == .notFound)
            #expect(missing.headers[.accessControlAllowOrigin] == "*")
        }
    }

    @Test func corsForListedOrigins() async throws {
        let fixture = try await fixture(MediaDeliveryConfiguration(allowedOrigins: .only(["https://good.example"])))
        defer { fixture.cleanup() }
        let uri = "/media/" + Self.segmentKey
        try await session(fixture) { client in
            let good = try await client.execute(uri: uri, method: .get, headers: [.origin: "https://good.example"])
            #expect(good.headers[.accessControlAllowOrigin] == "https://good.example")
            #expect(good.headers[.vary] == "Origin")
            let bad = try await client.execute(uri: uri, method: .get, headers: [.origin: "https://evil.example"])
            #expect(bad.headers[.accessControlAllowOrigin] == nil)
            #expect(bad.headers[.vary] == "Origin")
            let badPreflight = try await client.execute(uri: uri, method: .options, headers: [.origin: "https://evil.example", .accessControlRequestMethod: "GET"])
            #expect(badPreflight.headers[.accessControlAllowOrigin] == nil)
            let notModified = try await client.execute(uri: uri, method: .get, headers: [.origin: "https://good.example", .ifNoneMatch: "*"])
            #expect(notModified.status == .notModified)
            #expect(notModified.headers[.accessControlAllowOrigin] == "https://good.example")
        }
    }

    // MARK: Errors and access

    @Test func missingObjectsAndOtherMethods() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        try await session(fixture) { client in
            let missing = try await client.execute(uri: "/media/videos/v1/720p/seg_99999.m4s", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.cacheControl] == "no-store")
            // A directory is not an object.
            #expect(try await client.execute(uri: "/media/videos/v1", method: .get).status == .notFound)
            for method: HTTPRequest.Method in [.post, .put, .delete, .patch] {
                let response = try await client.execute(uri: "/media/" + Self.segmentKey, method: method)
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
            }
            #expect(try await fixture.store.metadata(Self.segmentKey) != nil)
        }
    }

    @Test func hostilePathsGet400AndNeverReachTheStore() async throws {
        let fixture = try await fixture()
        defer { fixture.cleanup() }
        try await session(fixture) { client in
            for path in [
                "/media/%2e%2e/%2e%2e/etc/passwd", "/media/..%2f..%2fetc%2fpasswd", "/media/videos%2fv1%2f720p%2fseg_00001.m4s",
                "/media/videos/v1/..%5c..%5cx", "/media/a%00.m4s", "/media/.videostack-tmp/x", "/media/videos//v1/720p/seg_00001.m4s",
                "/media/%c0%ae%c0%ae/etc/passwd", "/media/" + String(repeating: "a", count: 2000),
            ] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .badRequest, "\(path)")
            }
        }
    }

    @Test func theAccessPolicyDecides() async throws {
        let fixture = try await fixture(authorizer: TestAccessPolicy())
        defer { fixture.cleanup() }
        for key in ["private/v/seg_1.m4s", "hidden/v/seg_1.m4s", "signed/v/seg_1.m4s", "owner/v/seg_1.m4s"] {
            try await fixture.store.put(key, bytes: [1, 2, 3])
        }
        try await session(fixture) { client in
            let denied = try await client.execute(uri: "/media/private/v/seg_1.m4s", method: .get)
            #expect(denied.status == .forbidden)
            #expect(denied.body.readableBytes > 0)
            #expect(try await client.execute(uri: "/media/private/v/seg_1.m4s?token=wrong", method: .get).status == .forbidden)
            // A refused request for a missing object is refused, too: nothing is revealed.
            #expect(try await client.execute(uri: "/media/private/v/none.m4s", method: .get).status == .forbidden)
            let allowed = try await client.execute(uri: "/media/private/v/seg_1.m4s?token=open-sesame", method: .get)
            #expect(allowed.status == .ok)
            #expect(Array(buffer: allowed.body) == [1, 2, 3])
            #expect(try await client.execute(uri: "/media/hidden/v/seg_1.m4s", method: .get).status == .notFound)

            let expires = Int(Date().timeIntervalSince1970) + 600
            let signed = try await client.execute(uri: "/media/signed/v/seg_1.m4s?expires=\(expires)", method: .get)
            #expect(signed.status == .ok)
            let cacheControl = try #require(signed.headers[.cacheControl])
            let maxAge = try #require(Int(cacheControl.split(separator: "=").last!))
            #expect(cacheControl.hasPrefix("public, max-age="))
            #expect(maxAge <= 600 && maxAge >= 590)
            #expect(!cacheControl.contains("immutable"))
            let expired = try await client.execute(uri: "/media/signed/v/seg_1.m4s?expires=\(expires - 1200)", method: .get)
            #expect(expired.status == .forbidden)

            let owner = try await client.execute(uri: "/media/owner/v/seg_1.m4s", method: .get)
            #expect(owner.headers[.cacheControl] == "private, no-cache")
            let ownerNotModified = try await client.execute(uri: "/media/owner/v/seg_1.m4s", method: .get, headers: [.ifNoneMatch: "*"])
            #expect(ownerNotModified.headers[.cacheControl] == "private, no-cache")
        }
    }

    @Test func queryValuesDecode() {
        let request = MediaAccessRequest(key: "k", method: .get, rawQuery: "a=1&sig=x%2By%3D&b&c=d+e&bad=%zz", headerFields: [:], time: Date())
        #expect(request.queryValue("a") == "1")
        #expect(request.queryValue("sig") == "x+y=")
        #expect(request.queryValue("b") == "")
        #expect(request.queryValue("c") == "d e")
        #expect(request.queryValue("bad") == nil)
        #expect(request.queryValue("missing") == nil)
        #expect(request.queryItems == [
            URLQueryItem(name: "a", value: "1"), URLQueryItem(name: "sig", value: "x+y="), URLQueryItem(name: "b", value: nil),
            URLQueryItem(name: "c", value: "d e"),
        ])
    }
}
