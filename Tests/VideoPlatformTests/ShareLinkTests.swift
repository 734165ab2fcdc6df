import Foundation
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite struct ShareLinkTests {
    let ada = AuthenticatedUser(username: "ada", role: .member, sessionFamily: "s1")
    let grace = AuthenticatedUser(username: "grace", role: .member, sessionFamily: "s2")

    func registered(_ fixture: PlatformFixture) async throws {
        try await fixture.catalog.register(User(username: "ada", email: "ada@example.com"))
        try await fixture.catalog.register(User(username: "grace", email: "grace@example.com"))
    }

    /// Ada and Grace, a ready video of Ada's, and Grace's link to it.
    func sharedVideo(_ fixture: PlatformFixture, visibility: Visibility) async throws -> (ShareLinks, Video, ShareLink) {
        try await registered(fixture)
        let links = try ShareLinks(catalog: fixture.catalog, now: fixture.clock.source)
        let video = Video(owner: "ada", title: "Engines", status: .ready, visibility: visibility)
        try await fixture.catalog.create(video)
        return (links, video, try await links.create(for: video.id, by: grace))
    }

    @Test func codesAreLongBase62AndUnique() {
        let alphabet = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var seen = Set<String>()
        var counts: [Character: Int] = [:]
        for _ in 0..<20_000 {
            let code = ShareLinks.generateCode()
            #expect(code.count == 10 && code.allSatisfy(alphabet.contains))
            seen.insert(code)
            for c in code { counts[c, default: 0] += 1 }
        }
        #expect(seen.count == 20_000)
        // 200,000 characters over 62 symbols: each appears about 3,226 times; a biased draw
        // (modulo without rejection) would put the first eight far above the rest.
        #expect(counts.count == 62 && counts.values.allSatisfy { (2_700...3_800).contains($0) })
        #expect(ShareLinks.generateCode(length: 8).count == 8)
    }

    @Test func linksResolveAndCountClicks() async throws {
        try await PlatformFixture.with { fixture in
            let (links, video, link) = try await sharedVideo(fixture, visibility: .unlisted)
            #expect(link.creator == "grace" && link.clicks == 0)
            let stored = try #require(try await fixture.store.getItem(key: ["PK": .s("SHARE#\(link.code)"), "SK": .s("SHARE#\(link.code)")]))
            #expect(stored["videoID"] == .s(video.id.description))
            for expected in 1...3 {
                let (resolved, resolvedVideo) = try await links.resolve(link.code)
                #expect(resolved.clicks == Int64(expected) && resolvedVideo.id == video.id)
            }
            #expect(try await links.link(link.code)?.clicks == 3)
            // Concurrent clicks are all counted (atomic ADD).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 { group.addTask { _ = try await links.resolve(link.code) } }
                try await group.waitForAll()
            }
            #expect(try await links.link(link.code)?.clicks == 23)
            // Many links to one video, all distinct.
            var codes = Set<String>()
            for _ in 0..<50 { codes.insert(try await links.create(for: video.id, by: ada).code) }
            #expect(codes.count == 50 && !codes.contains(link.code))
        }
    }

    @Test func linksToDeletedOrPrivateVideosStopResolving() async throws {
        try await PlatformFixture.with { fixture in
            let (links, shared, link) = try await sharedVideo(fixture, visibility: .public)
            let video = shared
            _ = try await links.resolve(link.code)

            try await fixture.catalog.updateMetadata(video.id, VideoMetadataChanges(visibility: .private))
            #expect(await thrownError { try await links.resolve(link.code) }?.code == .notFound)
            #expect(await thrownError { try await links.resolve(link.code, viewer: ada) }?.code == .notFound)
            #expect(try await links.link(link.code)?.clicks == 1)  // refusals are not clicks
            try await fixture.catalog.updateMetadata(video.id, VideoMetadataChanges(visibility: .unlisted))
            _ = try await links.resolve(link.code)

            try await fixture.catalog.deleteVideo(video.id)
            #expect(await thrownError { try await links.resolve(link.code) }?.code == .notFound)
            #expect(await thrownError { try await links.create(for: video.id, by: ada) }?.code == .notFound)
        }
    }

    @Test func unfinishedAndPrivateVideosAreSharedOnlyByTheirOwner() async throws {
        try await PlatformFixture.with { fixture in
            try await registered(fixture)
            let links = try ShareLinks(catalog: fixture.catalog, now: fixture.clock.source)
            let processing = Video(owner: "ada", title: "Soon", status: .processing, visibility: .public)
            let secret = Video(owner: "ada", title: "Mine", status: .ready, visibility: .private)
            try await fixture.catalog.create(processing)
            try await fixture.catalog.create(secret)
            #expect(await thrownError { try await links.create(for: processing.id, by: grace) }?.code == .notFound)
            #expect(await thrownError { try await links.create(for: secret.id, by: grace) }?.code == .notFound)
            let early = try await links.create(for: processing.id, by: ada)
            // Until it is ready, the link resolves for its owner alone.
            _ = try await links.resolve(early.code, viewer: ada)
            #expect(await thrownError { try await links.resolve(early.code, viewer: grace) }?.code == .notFound)
            #expect(await thrownError { try await links.resolve(early.code) }?.code == .notFound)
            // Only the creator, the owner or an admin deletes a link.
            #expect(await thrownError { try await links.delete(early.code, by: grace) }?.code == .forbidden)
            try await links.delete(early.code, by: AuthenticatedUser(username: "root", role: .admin, sessionFamily: "s3"))
            #expect(try await links.link(early.code) == nil)
        }
    }

    @Test func hostileCodesAreRefused() async throws {
        try await PlatformFixture.with { fixture in
            let links = try ShareLinks(catalog: fixture.catalog)
            for code in ["", "short", String(repeating: "A", count: 100_000), "ABCDEFGH#", "ABCDE/../FG", "ABCDEFGH\u{0}", "ÄBCDEFGHIJ", "ABCD EFGH"] {
                #expect(await thrownError { try await links.resolve(code) }?.code == .invalidInput)
            }
            #expect(await thrownError { try await links.resolve("AAAAAAAAAA") }?.code == .notFound)
            #expect(await thrownError { try ShareLinks(catalog: fixture.catalog, configuration: ShareLinkConfiguration(codeLength: 6)) }?.code == .invalidInput)
        }
    }
}
