import Foundation
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite struct PlaybackTests {
    let ada = AuthenticatedUser(username: "ada", role: .member, sessionFamily: "s1")
    let grace = AuthenticatedUser(username: "grace", role: .member, sessionFamily: "s2")

    func signer(_ clock: ManualClock) throws -> PlaybackURLSigner {
        PlaybackURLSigner(key: try SigningKey(bytes: Array(repeating: 42, count: 32)), now: clock.source)
    }

    func replacing(_ name: String, with value: String?, in query: [URLQueryItem]) -> [URLQueryItem] {
        query.map { $0.name == name ? URLQueryItem(name: name, value: value) : $0 }
    }

    func refused(_ signer: PlaybackURLSigner, _ path: String, _ query: [URLQueryItem]) -> VideoStackError? {
        do {
            try signer.verify(path: path, query: query)
            return nil
        } catch let error as VideoStackError {
            return error
        } catch {
            return nil
        }
    }

    @Test func signedURLsCoverTheirPrefixUntilTheyExpire() throws {
        let clock = ManualClock()
        let signer = try signer(clock)
        let query = try signer.sign(pathPrefix: "/media/videos/01ABC/", expires: clock.now.addingTimeInterval(3600))
        #expect(Set(query.map(\.name)) == ["prefix", "expires", "kid", "signature"])
        for path in ["/media/videos/01ABC/master.m3u8", "/media/videos/01ABC/720p/seg-00001.m4s", "/media/videos/01ABC/"] {
            #expect(refused(signer, path, query) == nil, "\(path)")
        }
        // Other files, and paths that climb out of the prefix.
        for path in ["/media/videos/01ABD/master.m3u8", "/media/videos/01ABCD/master.m3u8", "/media/videos/01ABC/../01ABD/master.m3u8",
                     "/media/videos/01ABC/./x", "/media/videos/01ABC//x", "/media/videos/01ABC/a\u{0}b", "/media/videos/01ABC/a\\..\\b", "media/videos/01ABC/x",
                     "/media/videos/01ABC/%2e%2e/01ABD/master.m3u8"] {
            #expect(refused(signer, path, query)?.code == .forbidden, "\(path)")
        }
        clock.advance(3599)
        #expect(refused(signer, "/media/videos/01ABC/master.m3u8", query) == nil)
        clock.advance(1)
        #expect(refused(signer, "/media/videos/01ABC/master.m3u8", query)?.message.contains("expired") == true)
    }

    @Test func tamperedSignedURLsAreRefused() throws {
        let clock = ManualClock()
        let signer = try signer(clock)
        let query = try signer.sign(pathPrefix: "/media/videos/01ABC/", expires: clock.now.addingTimeInterval(600))
        let path = "/media/videos/01ABC/master.m3u8"
        let signature = try #require(query.first { $0.name == "signature" }?.value)
        var flipped = Array(signature)
        flipped[5] = flipped[5] == "A" ? "B" : "A"
        let tampered: [[URLQueryItem]] = [
            replacing("expires", with: String(Int(clock.now.timeIntervalSince1970) + 86_400), in: query),   // extended
            replacing("prefix", with: "/media/videos/", in: query),                                      // widened
            replacing("prefix", with: "/media/videos/01ABD/", in: query),
            replacing("signature", with: String(flipped), in: query),
            replacing("signature", with: String(signature.dropLast()), in: query),
            replacing("signature", with: signature + "=", in: query),
            replacing("signature", with: "", in: query),
            replacing("signature", with: nil, in: query),
            replacing("kid", with: "unknown", in: query),
            replacing("expires", with: "-1", in: query),
            replacing("expires", with: "1e12", in: query),
            replacing("expires", with: String(repeating: "9", count: 40), in: query),
            query.filter { $0.name != "signature" },
            query.filter { $0.name != "expires" },
            query + [URLQueryItem(name: "prefix", value: "/media/videos/01ABC/")],  // repeated
            [],
        ]
        for items in tampered {
            #expect(refused(signer, path, items)?.code == .forbidden, "\(items)")
        }
        // Another key does not accept them; listed as previous, it does.
        let otherKey = try SigningKey(bytes: Array(repeating: 1, count: 32))
        #expect(refused(PlaybackURLSigner(key: otherKey, now: clock.source), path, query)?.code == .forbidden)
        let rotated = PlaybackURLSigner(key: otherKey, previousKeys: [try SigningKey(bytes: Array(repeating: 42, count: 32))], now: clock.source)
        #expect(refused(rotated, path, query) == nil)
        // Signing refuses what it must not sign.
        #expect(throws: VideoStackError.self) { try signer.sign(pathPrefix: "/media/videos/01ABC", expires: clock.now.addingTimeInterval(60)) }
        #expect(throws: VideoStackError.self) { try signer.sign(pathPrefix: "/media/../", expires: clock.now.addingTimeInterval(60)) }
        #expect(throws: VideoStackError.self) { try signer.sign(pathPrefix: "/media/videos/01ABC/", expires: clock.now.addingTimeInterval(-1)) }
        #expect(throws: VideoStackError.self) { try signer.sign(pathPrefix: "/media/videos/01ABC/", expires: clock.now.addingTimeInterval(8 * 86_400)) }
    }

    @Test func grantsFollowVisibilityAndStatus() async throws {
        try await PlatformFixture.with { fixture in
            try await fixture.catalog.register(User(username: "ada", email: "ada@example.com"))
            let playback = try PlaybackAuthorizer(catalog: fixture.catalog, signer: try signer(fixture.clock), now: fixture.clock.source)
            let open = Video(owner: "ada", title: "Open", status: .ready, visibility: .public)
            let unlisted = Video(owner: "ada", title: "Link only", status: .ready, visibility: .unlisted)
            let secret = Video(owner: "ada", title: "Mine", status: .ready, visibility: .private)
            let processing = Video(owner: "ada", title: "Soon", status: .processing, visibility: .public)
            for video in [open, unlisted, secret, processing] { try await fixture.catalog.create(video) }

            // Public and ready: plain URLs for anyone, checked with one store read.
            let plain = try await playback.grant(for: open.id, viewer: nil)
            #expect(plain.isPublic && plain.pathPrefix == "/media/videos/\(open.id)/" && plain.expires == nil)
            try await playback.authorize(path: "/media/videos/\(open.id)/master.m3u8", query: [])
            // Unlisted: anyone with the id gets a signed grant; plain URLs do not play.
            let link = try await playback.grant(for: unlisted.id, viewer: nil)
            #expect(!link.isPublic && link.expires == fixture.clock.now.addingTimeInterval(4 * 3600))
            try await playback.authorize(path: "/media/videos/\(unlisted.id)/720p/index.m3u8", query: link.query)
            #expect(await thrownError { try await playback.authorize(path: "/media/videos/\(unlisted.id)/master.m3u8", query: []) }?.code == .forbidden)
            // A grant for one video does not open another.
            #expect(await thrownError { try await playback.authorize(path: "/media/videos/\(secret.id)/master.m3u8", query: link.query) }?.code == .forbidden)
            // Private and processing: the owner only; to anyone else they do not exist.
            for video in [secret, processing] {
                #expect(await thrownError { try await playback.grant(for: video.id, viewer: nil) }?.code == .notFound)
                #expect(await thrownError { try await playback.grant(for: video.id, viewer: grace) }?.code == .notFound)
                #expect(await thrownError { try await playback.authorize(path: "/media/videos/\(video.id)/master.m3u8", query: []) }?.code == .notFound)
                let own = try await playback.grant(for: video.id, viewer: ada)
                #expect(!own.isPublic)
                try await playback.authorize(path: "/media/videos/\(video.id)/master.m3u8", query: own.query)
            }
            let admin = try await playback.grant(for: secret.id, viewer: AuthenticatedUser(username: "root", role: .admin, sessionFamily: "x"))
            #expect(!admin.isPublic)
            // The same rule for pages and metadata.
            #expect(PlaybackAuthorizer.mayView(open, viewer: nil) && PlaybackAuthorizer.mayView(unlisted, viewer: grace))
            #expect(!PlaybackAuthorizer.mayView(secret, viewer: grace) && !PlaybackAuthorizer.mayView(processing, viewer: nil))
            #expect(PlaybackAuthorizer.mayView(secret, viewer: ada) && PlaybackAuthorizer.mayView(processing, viewer: ada))
            // The signature expires with the grant.
            fixture.clock.advance(4 * 3600)
            #expect(await thrownError { try await playback.authorize(path: "/media/videos/\(unlisted.id)/master.m3u8", query: link.query) }?.message.contains("expired") == true)
            // Outside the media tree, or no such video.
            for path in ["/etc/passwd", "/media/videos/", "/media/videos/not-an-id/master.m3u8", "/media/videos/\(VideoID())/master.m3u8", "/media/videos/\(open.id)"] {
                #expect(await thrownError { try await playback.authorize(path: path, query: []) }?.code == .notFound, "\(path)")
            }
            #expect(await thrownError { try await playback.authorize(path: "/media/videos/\(open.id)/../\(secret.id)/master.m3u8", query: []) } != nil)
        }
    }

    @Test func playlistURIsCarryTheGrantsQuery() throws {
        let clock = ManualClock()
        let query = try signer(clock).sign(pathPrefix: "/media/videos/01ABC/", expires: clock.now.addingTimeInterval(60))
        let grant = PlaybackGrant(pathPrefix: "/media/videos/01ABC/", query: query, expires: clock.now.addingTimeInterval(60))
        let uri = grant.appendingQuery(to: "720p/index.m3u8")
        let components = try #require(URLComponents(string: "https://cdn.example" + "/media/videos/01ABC/" + uri))
        #expect(components.path == "/media/videos/01ABC/720p/index.m3u8")
        #expect(Set(components.queryItems ?? []) == Set(query))
        #expect(grant.appendingQuery(to: "seg.m4s?x=1").hasPrefix("seg.m4s?x=1&prefix="))
        #expect(PlaybackGrant(pathPrefix: "/", query: [], expires: nil).appendingQuery(to: "a.m3u8") == "a.m3u8")
    }
}
