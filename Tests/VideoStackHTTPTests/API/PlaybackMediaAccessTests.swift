import Foundation
import HTTPTypes
import Testing
import TestSupport
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// `PlaybackMediaAccess` between `MediaDelivery` and the platform's signed playback: who gets
/// which media bytes, and how long caches may keep them.
@Suite struct PlaybackMediaAccessTests {
    @Test func publicUnlistedPrivateAndProcessingMedia() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            let owner = try await api.signUp("filmer")
            let other = try await api.signUp("watcher")
            let open = try await fixture.makeVideo(owner: "filmer", title: "Open")
            let unlisted = try await fixture.makeVideo(owner: "filmer", title: "Link only", visibility: .unlisted)
            let hidden = try await fixture.makeVideo(owner: "filmer", title: "Mine", visibility: .private)

            // Public and ready: plain URLs, normal caching.
            let plain = try await api.call(.get, "/media/videos/\(open.id)/hls/720p/seg_00001.m4s")
            #expect(plain.status == 200)
            #expect(plain.body.count == 1000)
            #expect(plain.header("Cache-Control")?.contains("private") == false)

            // Unlisted: a plain URL is refused (403), the signed one from the video's JSON plays,
            // and caches keep it no longer than the signature.
            #expect(try await api.call(.get, "/media/videos/\(unlisted.id)/hls/master.m3u8").status == 403)
            let unlistedJSON = try await api.call(.get, "/api/v1/videos/\(unlisted.id)", token: other)
            let signed = try #require(unlistedJSON["playbackUrl"] as? String)
            #expect(signed.contains("signature=") && signed.contains("expires="))
            let played = try await api.call(.get, signed)
            #expect(played.status == 200)
            #expect(played.text.hasPrefix("#EXTM3U"))
            let maxAge = played.header("Cache-Control").flatMap { field in
                field.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("max-age=") }
            }.flatMap { Int($0.dropFirst("max-age=".count)) }
            #expect(maxAge.map { $0 <= 4 * 3600 } == true)
            // The signature covers the video's directory: a segment plays with the same query.
            let query = String(signed[signed.firstIndex(of: "?")!...])
            // Players resolve the playlist's URIs without its query: the signature is carried into them.
            #expect(played.text.contains("\n720p/index.m3u8" + query + "\n"), "\(played.text)")
            let variant = try await api.call(.get, "/media/videos/\(unlisted.id)/hls/720p/index.m3u8" + query)
            #expect(variant.status == 200)
            #expect(variant.text.contains("#EXT-X-MAP:URI=\"init.mp4" + query + "\""), "\(variant.text)")
            #expect(variant.text.contains("\nseg_00001.m4s" + query + "\n"))
            let storyboard = try await api.call(.get, try #require(unlistedJSON["storyboardUrl"] as? String))
            #expect(storyboard.text.contains("storyboard_0.jpg" + query + "#xywh=0,0,160,90"), "\(storyboard.text)")
            // A public video's playlist is the stored file, unchanged.
            #expect(try await api.call(.get, "/media/videos/\(open.id)/hls/master.m3u8").text.hasSuffix("\n720p/index.m3u8\n"))
            #expect(try await api.call(.get, "/media/videos/\(unlisted.id)/hls/720p/seg_00001.m4s" + query).status == 200)
            // …but not another video's files, and not when altered.
            #expect(try await api.call(.get, "/media/videos/\(hidden.id)/hls/master.m3u8" + query).status != 200)
            #expect(try await api.call(.get, signed.replacingOccurrences(of: "signature=", with: "signature=x")).status == 403)

            // Private: missing for everyone else, signed and private-cached for the owner.
            #expect(try await api.call(.get, "/media/videos/\(hidden.id)/hls/master.m3u8").status == 404)
            #expect(try await api.call(.get, "/api/v1/videos/\(hidden.id)", token: other).status == 404)
            let mine = try await api.call(.get, "/api/v1/videos/\(hidden.id)", token: owner)
            let ownerURL = try #require(mine["posterUrl"] as? String)
            let poster = try await api.call(.get, ownerURL)
            #expect(poster.status == 200)
            #expect(poster.body == [0xFF, 0xD8, 0xFF, 0xD9])
            #expect(poster.header("Cache-Control")?.contains("private") == true)
            // An unknown video is missing, whatever the query.
            #expect(try await api.call(.get, "/media/videos/\(VideoID())/hls/master.m3u8").status == 404)
        }
    }

    @Test func policyDecisionsDirectly() async throws {
        let fixture = try await APIFixture.make()
        defer {
            fixture.platform.close()
            fixture.directory.cleanup()
        }
        try await fixture.platform.accounts.signUp(username: "direct", email: "direct@example.com", password: APIFixture.password)
        let policy = PlaybackMediaAccess(playback: fixture.platform.playback)
        let open = try await fixture.makeVideo(owner: "direct")
        let busy = try await fixture.makeVideo(owner: "direct", status: .processing)
        func decide(_ key: String, _ query: String? = nil) async -> MediaAccessDecision {
            await policy.authorize(MediaAccessRequest(key: key, method: .get, rawQuery: query, headerFields: [:], time: Date()))
        }
        #expect(await decide("videos/\(open.id)/hls/master.m3u8") == .allow)
        #expect(await decide("videos/\(busy.id)/hls/master.m3u8") == .notFound)
        #expect(await decide("elsewhere/file") == .notFound)
        let owner = AuthenticatedUser(username: "direct", role: .member, sessionFamily: "f")
        let grant = try await fixture.platform.playback.grant(for: busy.id, viewer: owner)
        var components = URLComponents()
        components.queryItems = grant.query
        #expect(await decide("videos/\(busy.id)/hls/master.m3u8", components.percentEncodedQuery) == MediaAccessDecision.allowPrivately.propagatingQuery())
    }
}
