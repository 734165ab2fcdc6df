import Foundation
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite struct CatalogTests {
    func withCatalog<T>(_ body: (Catalog) async throws -> T) async throws -> T {
        try await withCatalogAndStore { catalog, _ in try await body(catalog) }
    }

    func withCatalogAndStore<T>(_ body: (Catalog, SQLiteItemStore) async throws -> T) async throws -> T {
        try await withTemporaryDirectory(prefix: "catalog") { directory in
            let store = try await SQLiteItemStore(path: directory.appendingPathComponent("catalog.sqlite").path, schema: .singleTable)
            defer { store.close() }
            return try await body(try Catalog(store: store), store)
        }
    }

    func code<T>(_ body: () async throws -> T) async -> VideoStackError.Code? {
        do { _ = try await body(); return nil } catch let error as VideoStackError { return error.code } catch { return nil }
    }

    @Test func registrationIsUniqueOnUsernameAndEmail() async throws {
        try await withCatalog { catalog in
            try await catalog.register(User(username: "Ada", email: "ada@example.com"))
            #expect(try await catalog.user(named: "ada")?.email == "ada@example.com")
            #expect(try await catalog.user(email: "ADA@example.com")?.username == "ada")
            #expect(try await catalog.user(email: "nobody@example.com") == nil)

            // Same username, other email: refused, and the email stays free.
            do {
                try await catalog.register(User(username: "ada", email: "other@example.com"))
                Issue.record("duplicate username accepted")
            } catch let error as VideoStackError {
                #expect(error.code == .conflict && error.message.contains("username"))
            }
            #expect(try await catalog.user(email: "other@example.com") == nil)
            // Same email, other username: refused, and the username stays free.
            do {
                try await catalog.register(User(username: "grace", email: "Ada@Example.com"))
                Issue.record("duplicate email accepted")
            } catch let error as VideoStackError {
                #expect(error.code == .conflict && error.message.contains("email"))
            }
            #expect(try await catalog.user(named: "grace") == nil)
            try await catalog.register(User(username: "grace", email: "grace@example.com"))
            #expect(await code { try await catalog.register(User(username: "x", email: "y@z.io")) } == .invalidInput)
            #expect(await code { try await catalog.register(User(username: "valid", email: "not-an-email")) } == .invalidInput)
        }
    }

    @Test func concurrentRegistrationsOfOneEmailLetExactlyOneWin() async throws {
        try await withCatalog { catalog in
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        do {
                            try await catalog.register(User(username: "user\(i)", email: "same@example.com"))
                            return true
                        } catch let error as VideoStackError where error.code == .conflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
        }
    }

    @Test func videosListNewestFirstWithPagination() async throws {
        try await withCatalog { catalog in
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            try await catalog.register(User(username: "bob", email: "bob@example.com"))
            var made: [VideoID] = []
            for i in 0..<12 {
                let video = Video(owner: "ada", title: "Video \(i)")
                try await catalog.create(video)
                made.append(video.id)
            }
            try await catalog.create(Video(owner: "bob", title: "Bob's"))
            #expect(await code { try await catalog.create(Video(owner: "nobody", title: "x")) } == .notFound)

            var listed: [VideoID] = []
            var token: PageToken?
            repeat {
                let page = try await catalog.videos(of: "ada", limit: 5, after: token)
                listed += page.videos.map(\.id)
                token = page.next
            } while token != nil
            #expect(listed == made.reversed())
            let video = try #require(try await catalog.video(made[3]))
            #expect(video.title == "Video 3" && video.status == .uploading)

            var updated = video
            updated.status = .processing
            try await catalog.update(updated, expectedStatus: .uploading)
            // A second writer holding the stale status loses.
            #expect(await code { try await catalog.update(updated, expectedStatus: .uploading) } == .conditionFailed)
            #expect(try await catalog.videos(of: "ada", limit: 20).videos.first { $0.id == made[3] }?.status == .processing)
        }
    }

    @Test func reviewsNewestFirstAndRatingTotals() async throws {
        try await withCatalog { catalog in
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            let video = Video(owner: "ada", title: "Rated")
            try await catalog.create(video)
            var made: [ReviewID] = []
            for i in 0..<7 {
                try await catalog.register(User(username: "viewer\(i)", email: "viewer\(i)@example.com"))
                let review = try Review(videoID: video.id, author: "viewer\(i)", rating: 1 + i % 5, text: "take \(i)")
                try await catalog.add(review)
                made.append(review.id)
            }
            let first = try await catalog.reviews(of: video.id, limit: 4)
            #expect(first.reviews.map(\.id) == Array(made.reversed().prefix(4)))
            let second = try await catalog.reviews(of: video.id, limit: 4, after: first.next)
            #expect(second.reviews.map(\.id) == Array(made.reversed().dropFirst(4)))
            let stored = try #require(try await catalog.video(video.id))
            #expect(stored.ratingCount == 7 && stored.ratingSum == (0..<7).map { Int64(1 + $0 % 5) }.reduce(0, +))
            #expect(await code { try await catalog.add(try Review(videoID: VideoID(), author: "ada", rating: 3)) } == .notFound)
            // A review needs a registered author; the refused one leaves the totals alone.
            #expect(await code { try await catalog.add(try Review(videoID: video.id, author: "nobody", rating: 3)) } == .notFound)
            #expect(try await catalog.video(video.id)?.ratingCount == 7)
            try await catalog.recordViews(video.id, count: 3)
            #expect(try await catalog.video(video.id)?.views == 3)
        }
    }

    @Test func hostileInputGetsClearErrorsAndChangesNothing() async throws {
        try await withCatalog { catalog in
            // Usernames that could break out of their key, or are simply not names.
            for name in ["", "ab", String(repeating: "a", count: 33), "ada#VIDEO#x", "a da", "adä", "ada\u{0}", "../ada", String(repeating: "x", count: 5000)] {
                #expect(await code { try await catalog.register(User(username: name, email: "a@example.com")) } == .invalidInput, "\(name.prefix(20))")
                #expect(try await catalog.user(named: name) == nil)
                #expect(try await catalog.videos(of: name).videos.isEmpty)
            }
            for email in ["", "no-at-sign", "@example.com", "a@b", "a b@example.com", "a@@example.com", String(repeating: "a", count: 300) + "@example.com"] {
                #expect(await code { try await catalog.register(User(username: "ada", email: email)) } == .invalidInput, "\(email.prefix(20))")
            }
            try await catalog.register(User(username: "ada", email: "ada@example.com"))

            // Videos: empty, oversized and control-character text, a bogus owner.
            let bad: [(Video, VideoStackError.Code)] = [
                (Video(owner: "ada", title: "   "), .invalidInput),
                (Video(owner: "ada", title: String(repeating: "t", count: 101)), .limitExceeded),
                (Video(owner: "ada", title: "line\nbreak"), .invalidInput),
                (Video(owner: "ada", title: "ok", description: String(repeating: "d", count: 5001)), .limitExceeded),
                (Video(owner: "ada", title: "ok", description: "bell\u{7}"), .invalidInput),
                (Video(owner: "ada", title: "ok", tags: Array(repeating: "tag", count: 51)), .limitExceeded),
                (Video(owner: "ada", title: "ok", tags: [""]), .invalidInput),
                (Video(owner: "ada", title: "ok", duration: .nan), .invalidInput),
                (Video(owner: "ADA#VIDEO#x", title: "ok"), .invalidInput),
                (Video(owner: String(repeating: "o", count: 3000), title: "ok"), .invalidInput),
            ]
            for (video, expected) in bad {
                #expect(await code { try await catalog.create(video) } == expected, "\(video.title.prefix(20)) / \(video.owner.prefix(20))")
            }
            #expect(try await catalog.videos(of: "ada").videos.isEmpty)
            // A registered-looking owner who does not exist is not found; a good video goes in.
            #expect(await code { try await catalog.create(Video(owner: "ghost", title: "ok")) } == .notFound)
            var video = Video(owner: "ada", title: "Café ☕️ — 100 characters is the limit", description: "line one\nline two\ttabbed")
            try await catalog.create(video)
            #expect(await code { try await catalog.create(video) } == .conflict)
            video.title = ""
            #expect(await code { try await catalog.update(video) } == .invalidInput)
            #expect(try await catalog.video(video.id)?.title == "Café ☕️ — 100 characters is the limit")

            // Reviews changed after init, views that go backwards, a forged page token.
            var review = try Review(videoID: video.id, author: "ada", rating: 5)
            review.rating = 9
            #expect(await code { try await catalog.add(review) } == .invalidInput)
            #expect(await code { try await catalog.recordViews(video.id, count: -5) } == .invalidInput)
            #expect(await code { try await catalog.videos(of: "ada", after: PageToken("forged")) } == .invalidInput)
            let stored = try #require(try await catalog.video(video.id))
            #expect(stored.ratingCount == 0 && stored.views == 0)
        }
    }

    @Test func damagedStoredItemsAreReportedNotTrusted() async throws {
        try await withCatalogAndStore { catalog, store in
            let id = VideoID()
            // Written by something else: an unknown status, a title of the wrong type.
            try await store.putItem(["PK": .s("VIDEO#\(id)"), "SK": .s("VIDEO#\(id)"), "id": .s("\(id)"), "owner": "ada",
                                     "title": .int(7), "status": "exploded"])
            #expect(await code { try await catalog.video(id) } == .corrupt)
        }
    }
}
