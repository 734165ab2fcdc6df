import Foundation
import SingleTableStore
import Testing
import VideoCore
import VideoPlatform

@Suite struct CatalogTests {
    func withCatalog<T>(_ body: (Catalog) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteItemStore(path: directory.appendingPathComponent("catalog.sqlite").path, schema: .singleTable)
        defer { store.close() }
        return try await body(try Catalog(store: store))
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
            #expect(await code { try await catalog.add(try Review(videoID: VideoID(), author: "x", rating: 3)) } == .notFound)
            try await catalog.recordViews(video.id, count: 3)
            #expect(try await catalog.video(video.id)?.views == 3)
        }
    }
}
