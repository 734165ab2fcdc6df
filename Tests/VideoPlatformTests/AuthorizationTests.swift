import Foundation
import Logging
import SearchIndex
import Testing
import TestSupport
import VideoCore
import VideoPlatform

/// Who may do what to whose video, through the platform's operations: the owner, another
/// member, an admin and a signed-out viewer, on public, unlisted, private and processing videos.
@Suite struct AuthorizationTests {
    let logger = Logger(label: "test.authz", factory: { _ in SwiftLogNoOpLogHandler() })

    struct People {
        let ada: AuthenticatedUser, bob: AuthenticatedUser, root: AuthenticatedUser
    }

    func withPlatform(_ body: (Platform, People) async throws -> Void) async throws {
        try await withTemporaryDirectory(prefix: "authz") { directory in
            var configuration = PlatformConfiguration(dataDirectory: directory.appendingPathComponent("data"))
            configuration.accounts.passwordHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 1)
            let platform = try await Platform(configuration: configuration, logger: logger)
            defer { platform.close() }
            func user(_ name: String, _ password: String) async throws -> AuthenticatedUser {
                try await platform.accounts.signUp(username: name, email: "\(name)@example.com", password: password, displayName: name)
                let tokens = try await platform.accounts.signIn(email: "\(name)@example.com", password: password)
                return try await platform.accounts.authenticate(accessToken: tokens.accessToken)
            }
            let ada = try await user("ada", "Vq8-zr-Lumen-42x")
            let bob = try await user("bob", "Kp4-zr-Harbor-77q")
            _ = try await user("root", "Zt6-qm-Beacon-19w")
            try await platform.accounts.setRole(.admin, for: "root")
            let root = try await platform.accounts.authenticate(accessToken: try await platform.accounts.signIn(email: "root@example.com", password: "Zt6-qm-Beacon-19w").accessToken)
            try await body(platform, People(ada: ada, bob: bob, root: root))
        }
    }

    func readyVideo(_ platform: Platform, owner: String, visibility: Visibility, title: String = "A video") async throws -> VideoID {
        let video = Video(owner: owner, title: title, visibility: visibility)
        try await platform.catalog.create(video)
        try await platform.catalog.transition(video.id, to: .processing, from: .uploading)
        try await platform.catalog.transition(video.id, to: .ready, from: .processing, duration: .seconds(10))
        return video.id
    }

    @Test func theMatrix() async throws {
        try await withPlatform { platform, people in
            let open = try await readyVideo(platform, owner: "ada", visibility: .public)
            let unlisted = try await readyVideo(platform, owner: "ada", visibility: .unlisted)
            let secret = try await readyVideo(platform, owner: "ada", visibility: .private)
            let processing = Video(owner: "ada", title: "Still processing")
            try await platform.catalog.create(processing)
            try await platform.catalog.transition(processing.id, to: .processing, from: .uploading)

            // Reading.
            for (viewer, expected) in [(nil, [true, true, false, false]), (people.bob, [true, true, false, false]),
                                       (people.ada, [true, true, true, true]), (people.root, [true, true, true, true])] as [(AuthenticatedUser?, [Bool])] {
                var seen: [Bool] = []
                for id in [open, unlisted, secret, processing.id] { seen.append(try await platform.video(id, viewer: viewer) != nil) }
                #expect(seen == expected, "viewer \(viewer?.username ?? "anonymous")")
            }

            // Changing and deleting: another member cannot, and cannot even tell a private video exists.
            let rename = VideoMetadataChanges(title: "Renamed")
            #expect(await errorCode { try await platform.updateVideo(open, rename, by: people.bob) } == .forbidden)
            #expect(await errorCode { try await platform.updateVideo(secret, rename, by: people.bob) } == .notFound)
            #expect(await errorCode { try await platform.deleteVideo(open, by: people.bob) } == .forbidden)
            #expect(await errorCode { try await platform.deleteVideo(secret, by: people.bob) } == .notFound)
            #expect(try await platform.catalog.video(open)?.title == "A video")
            #expect(try await platform.updateVideo(open, rename, by: people.ada).title == "Renamed")
            #expect(try await platform.updateVideo(secret, VideoMetadataChanges(visibility: .unlisted), by: people.root).visibility == .unlisted)
            try await platform.deleteVideo(unlisted, by: people.root)
            #expect(try await platform.catalog.video(unlisted) == nil)

            // Reviews: one per user (a second replaces the first), only on videos the reviewer
            // may see, only once ready.
            #expect(try await platform.submitReview(of: open, rating: 2, comment: "meh", by: people.bob).replaced == false)
            #expect(try await platform.submitReview(of: open, rating: 5, comment: "grew on me", by: people.bob).replaced == true)
            let video = try #require(try await platform.catalog.video(open))
            #expect(video.ratingCount == 1 && video.ratingSum == 5)
            #expect(try await platform.catalog.reviews(of: open).reviews.count == 1)
            #expect(await errorCode { _ = try await platform.submitReview(of: processing.id, rating: 4, comment: "", by: people.bob) } == .notFound)
            #expect(await errorCode { _ = try await platform.submitReview(of: processing.id, rating: 4, comment: "", by: people.ada) } == .conflict)
            #expect(await errorCode { _ = try await platform.submitReview(of: open, rating: 6, comment: "", by: people.bob) } == .invalidInput)
            #expect(await errorCode { _ = try await platform.submitReview(of: open, rating: 3, comment: String(repeating: "é", count: 5_001), by: people.bob) } == .limitExceeded)

            // Views of what one may not see are refused like the video does not exist.
            #expect(await errorCode { _ = try await platform.recordView(of: processing.id, viewer: "bob", as: people.bob) } == .notFound)
            #expect(try await platform.recordView(of: open, viewer: "bob", as: people.bob))
        }
    }

    @Test func searchShowsOthersPublicReadyVideosAndOwnersTheirOwn() async throws {
        try await withPlatform { platform, people in
            _ = try await readyVideo(platform, owner: "ada", visibility: .public, title: "Harbor lights public")
            _ = try await readyVideo(platform, owner: "ada", visibility: .private, title: "Harbor lights private")
            let draft = Video(owner: "ada", title: "Harbor lights draft")
            try await platform.catalog.create(draft)
            _ = try await platform.follower.rebuild()
            func titles(_ viewer: AuthenticatedUser?) throws -> Set<String> {
                Set(try platform.searchVideos(SearchQuery("harbor"), viewer: viewer).hits.map(\.title.text))
            }
            #expect(try titles(nil) == ["Harbor lights public"])
            #expect(try titles(people.bob) == ["Harbor lights public"])
            #expect(try titles(people.ada) == ["Harbor lights public", "Harbor lights private", "Harbor lights draft"])
        }
    }
}
