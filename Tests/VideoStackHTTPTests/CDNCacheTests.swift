import Foundation
import Testing
import TestSupport
import VideoCore
import VideoStackHTTP

/// nginx as a caching reverse proxy in front of the delivery: a CDN stand-in that takes its
/// caching instructions from our `Cache-Control` alone.
@Suite struct CDNCacheTests {
    /// The proxy: `proxy_cache_valid` is only the fallback when the origin says nothing, so the
    /// lifetimes seen are the origin's; `proxy_cache_revalidate` makes expired entries come back
    /// as conditional requests (If-None-Match / If-Modified-Since), as CDNs send them.
    static func proxyConfiguration(cache: URL, originPort: Int) -> String {
        """
        access_log \(cache.deletingLastPathComponent().path)/logs/access.log;
        proxy_cache_path \(cache.path) levels=1:2 keys_zone=media:10m max_size=1g inactive=60m use_temp_path=off;
        server {
            listen 127.0.0.1:PORT;
            location / {
                proxy_pass http://127.0.0.1:\(originPort);
                proxy_http_version 1.1;
                proxy_set_header Connection "";
                proxy_cache media;
                proxy_cache_valid 200 206 10m;
                proxy_cache_revalidate on;
                proxy_cache_lock on;
                proxy_force_ranges on;
                add_header X-Cache-Status $upstream_cache_status always;
            }
        }
        """
    }

    func withProxy(_ fixture: DeliveryFixture, _ body: @Sendable @escaping (_ base: String) async throws -> Void) async throws {
        try await fixture.withLiveServer { originPort in
            let directory = fixture.directory.url.appendingPathComponent("nginx")
            let nginx = try await NginxProcess(directory: directory, http: Self.proxyConfiguration(cache: directory.appendingPathComponent("cache"), originPort: originPort))
            do {
                try await body("http://127.0.0.1:\(nginx.port)")
            } catch {
                await nginx.stop()
                throw error
            }
            await nginx.stop()
        }
    }

    @Test func segmentsAreServedFromTheProxyCache() async throws {
        let fixture = try DeliveryFixture()
        defer { fixture.cleanup() }
        let key = "videos/v1/720p/seg_00001.m4s"
        let segment = patternBytes(300_000)
        try await fixture.store.put(key, bytes: segment)
        try await withProxy(fixture) { base in
            let first = try await CurlResponse.fetch([base + "/media/" + key])
            #expect(first.status == 200)
            #expect(first.headers["x-cache-status"] == "MISS")
            #expect(Array(first.body) == segment)
            #expect(fixture.requests.count("/media/" + key) == 1)

            let second = try await CurlResponse.fetch([base + "/media/" + key])
            #expect(second.status == 200)
            #expect(second.headers["x-cache-status"] == "HIT")
            #expect(Array(second.body) == segment)
            #expect(second.headers["cache-control"] == "public, max-age=31536000, immutable")
            #expect(second.headers["etag"] == first.headers["etag"])

            // Ranges are answered from the cached copy too.
            let range = try await CurlResponse.fetch(["-r", "1000-1999", base + "/media/" + key])
            #expect(range.status == 206)
            #expect(range.headers["x-cache-status"] == "HIT")
            #expect(Array(range.body) == Array(segment[1000..<2000]))
            #expect(fixture.requests.count("/media/" + key) == 1)
        }
    }

    @Test func growingPlaylistsAreNotCachedPastTheirLifetime() async throws {
        let fixture = try DeliveryFixture()
        defer { fixture.cleanup() }
        let growingKey = "videos/v2/720p/index.m3u8"
        let endedKey = "videos/v1/720p/index.m3u8"
        let growing = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:4.0,\nseg_00001.m4s\n"
        let ended = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:4.0,\nseg_00001.m4s\n#EXT-X-ENDLIST\n"
        try await fixture.store.put(growingKey, string: growing)
        try await fixture.store.put(endedKey, string: ended)
        try await withProxy(fixture) { base in
            let first = try await CurlResponse.fetch([base + "/media/" + growingKey])
            #expect(first.headers["x-cache-status"] == "MISS")
            #expect(first.headers["cache-control"] == "public, max-age=1")
            #expect(String(decoding: first.body, as: UTF8.self) == growing)
            let endedFirst = try await CurlResponse.fetch([base + "/media/" + endedKey])
            #expect(endedFirst.headers["cache-control"] == "public, max-age=86400")

            // Past the growing playlist's max-age, unchanged: the proxy revalidates with a
            // conditional request and our 304 keeps its copy.
            try await Task.sleep(for: .milliseconds(2200))
            let revalidated = try await CurlResponse.fetch([base + "/media/" + growingKey])
            #expect(revalidated.headers["x-cache-status"] == "REVALIDATED")
            #expect(String(decoding: revalidated.body, as: UTF8.self) == growing)
            #expect(fixture.requests.count("/media/" + growingKey) == 2)

            // A segment is appended (and the VOD playlist changed, which a real one never is).
            let grown = growing + "#EXTINF:4.0,\nseg_00002.m4s\n"
            try await fixture.store.put(growingKey, string: grown)
            try await fixture.store.put(endedKey, string: ended + "\n")
            try await Task.sleep(for: .milliseconds(2200))
            let refreshed = try await CurlResponse.fetch([base + "/media/" + growingKey])
            #expect(refreshed.headers["x-cache-status"] == "EXPIRED")
            #expect(String(decoding: refreshed.body, as: UTF8.self) == grown)
            #expect(fixture.requests.count("/media/" + growingKey) == 3)

            // The ended playlist, with its day-long lifetime, is still the cached copy.
            let endedLater = try await CurlResponse.fetch([base + "/media/" + endedKey])
            #expect(endedLater.headers["x-cache-status"] == "HIT")
            #expect(String(decoding: endedLater.body, as: UTF8.self) == ended)
            #expect(fixture.requests.count("/media/" + endedKey) == 1)
        }
    }
}
