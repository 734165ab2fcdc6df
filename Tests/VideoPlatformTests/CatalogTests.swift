import Foundation
import Logging
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
            let store = try await SQLiteItemStore(url: directory.appendingPathComponent("catalog.sqlite"), schema: .singleTable, logger: logger)
            defer { store.close() }
            return try await body(try Catalog(store: store, logger: logger), store)
        }
    }

    let logger: Logger = {
        var logger = Logger(label: "CatalogTests")
        logger.logLevel = .warning
        return logger
    }()

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

            try await catalog.transition(video.id, to: .processing, from: .uploading, duration: .seconds(42))
            // A second worker that still believes it is uploading loses.
            #expect(await code { try await catalog.transition(video.id, to: .processing, from: .uploading) } == .conflict)
            // The collection entry follows the video in the same transaction.
            let summary = try #require(try await catalog.videos(of: "ada", limit: 20).videos.first { $0.id == made[3] })
            #expect(summary.status == .processing && summary.duration == .seconds(42))
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
                try await catalog.submit(review)
                made.append(review.id)
            }
            let first = try await catalog.reviews(of: video.id, limit: 4)
            #expect(first.reviews.map(\.id) == Array(made.reversed().prefix(4)))
            let second = try await catalog.reviews(of: video.id, limit: 4, after: first.next)
            #expect(second.reviews.map(\.id) == Array(made.reversed().dropFirst(4)))
            let stored = try #require(try await catalog.video(video.id))
            #expect(stored.ratingCount == 7 && stored.ratingSum == (0..<7).map { Int64(1 + $0 % 5) }.reduce(0, +))
            #expect(await code { try await catalog.submit(try Review(videoID: VideoID(), author: "ada", rating: 3)) } == .notFound)
            // A review needs a registered author; the refused one leaves the totals alone.
            #expect(await code { try await catalog.submit(try Review(videoID: video.id, author: "nobody", rating: 3)) } == .notFound)
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
                (Video(owner: "ada", title: "ok", duration: .seconds(-1)), .invalidInput),
                (Video(owner: "ada", title: "ok", progress: .nan), .invalidInput),
                (Video(owner: "ada", title: "ok", failureReason: String(repeating: "r", count: 2001)), .limitExceeded),
                (Video(owner: "ADA#VIDEO#x", title: "ok"), .invalidInput),
                (Video(owner: String(repeating: "o", count: 3000), title: "ok"), .invalidInput),
            ]
            for (video, expected) in bad {
                #expect(await code { try await catalog.create(video) } == expected, "\(video.title.prefix(20)) / \(video.owner.prefix(20))")
            }
            #expect(try await catalog.videos(of: "ada").videos.isEmpty)
            // A registered-looking owner who does not exist is not found; a good video goes in.
            #expect(await code { try await catalog.create(Video(owner: "ghost", title: "ok")) } == .notFound)
            let video = Video(owner: "ada", title: "Café ☕️ — 100 characters is the limit", description: "line one\nline two\ttabbed")
            try await catalog.create(video)
            #expect(await code { try await catalog.create(video) } == .conflict)
            // Metadata updates check each field they change, and need one.
            #expect(await code { try await catalog.updateMetadata(video.id, VideoMetadataChanges(title: "")) } == .invalidInput)
            #expect(await code { try await catalog.updateMetadata(video.id, VideoMetadataChanges(description: String(repeating: "d", count: 5001))) } == .limitExceeded)
            #expect(await code { try await catalog.updateMetadata(video.id, VideoMetadataChanges(tags: ["ok", "bad\u{1}"])) } == .invalidInput)
            #expect(await code { try await catalog.updateMetadata(video.id, VideoMetadataChanges()) } == .invalidInput)
            #expect(await code { try await catalog.updateMetadata(VideoID(), VideoMetadataChanges(title: "new")) } == .notFound)
            // Transitions check the fields that go with them.
            #expect(await code { try await catalog.transition(video.id, to: .failed) } == .invalidInput)
            #expect(await code { try await catalog.transition(video.id, to: .failed, failureReason: "  ") } == .invalidInput)
            #expect(await code { try await catalog.transition(video.id, to: .failed, failureReason: "nul\u{0}") } == .invalidInput)
            #expect(await code { try await catalog.transition(video.id, to: .processing, failureReason: "why") } == .invalidInput)
            #expect(await code { try await catalog.transition(video.id, to: .processing, duration: .seconds(-3)) } == .invalidInput)
            #expect(await code { try await catalog.transition(VideoID(), to: .processing) } == .notFound)
            #expect(await code { try await catalog.updateProgress(video.id, 1.5) } == .invalidInput)
            #expect(await code { try await catalog.updateProgress(video.id, .nan) } == .invalidInput)
            let unchanged = try #require(try await catalog.video(video.id))
            #expect(unchanged.title == "Café ☕️ — 100 characters is the limit" && unchanged.status == .uploading && unchanged.updatedAt == video.updatedAt)

            // Reviews changed after init, views that go backwards, a forged page token.
            var review = try Review(videoID: video.id, author: "ada", rating: 5)
            review.rating = 9
            #expect(await code { try await catalog.submit(review) } == .invalidInput)
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
            // Durations no span can hold: negative, beyond any video, not a number.
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            let video = Video(owner: "ada", title: "Stored")
            try await catalog.create(video)
            for bad: AttributeValue in [.n(Number(-1)), .n(try Number(parsing: "1e30")), "93.5"] {
                try await store.updateItem(key: ["PK": .s("VIDEO#\(video.id)"), "SK": .s("VIDEO#\(video.id)")], actions: [.set("duration", .value(bad))])
                #expect(await code { try await catalog.video(video.id) } == .corrupt, "\(bad)")
            }
            // A reviewer item that lost its fields is reported, not used for the totals.
            try await catalog.register(User(username: "bob", email: "bob@example.com"))
            try await store.putItem(["PK": .s("VIDEO#\(id)"), "SK": "REVBY#bob", "reviewID": 5])
            #expect(await code { try await catalog.submit(try Review(videoID: id, author: "bob", rating: 4)) } == .corrupt)
        }
    }

    // MARK: Writes that change only what they mean to

    @Test func concurrentReviewsAndViewsRacingMetadataUpdatesEndWithExactTotals() async throws {
        try await withCatalog { catalog in
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            let video = Video(owner: "ada", title: "Busy", tags: ["start"])
            try await catalog.create(video)
            let reviewers = 12
            for i in 0..<reviewers { try await catalog.register(User(username: "viewer\(i)", email: "viewer\(i)@example.com")) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<reviewers {
                    group.addTask {
                        // Each reviewer changes their mind once: the totals keep only the second rating.
                        try await catalog.submit(try Review(videoID: video.id, author: "viewer\(i)", rating: 1 + i % 5))
                        try await catalog.submit(try Review(videoID: video.id, author: "viewer\(i)", rating: 5 - i % 5))
                    }
                }
                for _ in 0..<10 {
                    group.addTask { for _ in 0..<5 { try await catalog.recordViews(video.id, count: 2) } }
                }
                for i in 0..<10 {
                    group.addTask { try await catalog.updateMetadata(video.id, VideoMetadataChanges(title: "Title \(i)", tags: ["tag\(i)"])) }
                }
                group.addTask {
                    try await catalog.transition(video.id, to: .processing)
                    try await catalog.updateProgress(video.id, 0.5)
                    try await catalog.transition(video.id, to: .ready, duration: .seconds(12))
                }
                try await group.waitForAll()
            }
            let stored = try #require(try await catalog.video(video.id))
            #expect(stored.views == 100)
            #expect(stored.ratingCount == Int64(reviewers))
            let expectedSum: Int64 = (0..<reviewers).map { Int64(5 - $0 % 5) }.reduce(0, +)
            #expect(stored.ratingSum == expectedSum)
            #expect(stored.status == .ready && stored.duration == .seconds(12) && stored.progress == nil)
            // Title and tags of one update are written together; the entry shows the same title.
            let suffix = try #require(stored.title.split(separator: " ").last)
            #expect(stored.tags == ["tag\(suffix)"])
            let summary = try #require(try await catalog.videos(of: "ada").videos.first)
            #expect(summary.title == stored.title && summary.status == .ready && summary.duration == .seconds(12))
            #expect(try await catalog.reviews(of: video.id, limit: 100).reviews.count == reviewers)
        }
    }

    @Test func illegalStatusTransitionsAreRefusedByTheStoreWrite() async throws {
        try await withCatalog { catalog in
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            let video = Video(owner: "ada", title: "Lifecycle")
            try await catalog.create(video)
            // Not declared anywhere: refused before any write.
            #expect(await code { try await catalog.transition(video.id, to: .uploading) } == .invalidInput)
            #expect(await code { try await catalog.transition(video.id, to: .ready, from: .uploading) } == .invalidInput)
            // Declared, but not from the status the video is in.
            #expect(await code { try await catalog.transition(video.id, to: .ready) } == .conflict)
            #expect(await code { try await catalog.transition(video.id, to: .live) } == .conflict)

            // Ten workers race to start processing: the store's conditional write lets one through.
            let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        do {
                            try await catalog.transition(video.id, to: .processing)
                            return true
                        } catch let error as VideoStackError where error.code == .conflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(winners == 1)
            // Finishing and failing race: exactly one of them happens.
            async let finished = code { try await catalog.transition(video.id, to: .ready, renditions: [Rendition(name: "360p", width: 640, height: 360, videoBitRate: 800_000)]) }
            async let failed = code { try await catalog.transition(video.id, to: .failed, failureReason: "the encoder ran out of memory") }
            let outcomes = await [finished, failed]
            #expect(outcomes.filter { $0 == nil }.count == 1 && outcomes.contains(.conflict), "\(outcomes)")
            let settled = try #require(try await catalog.video(video.id))
            #expect(settled.status == .ready ? settled.renditions.count == 1 && settled.failureReason == nil
                                             : settled.status == .failed && settled.renditions.isEmpty && settled.failureReason != nil)
            // A ready video never moves back; the refusal leaves it as it was.
            if settled.status == .ready {
                let refused = await code { try await catalog.transition(video.id, to: .processing) }
                #expect(refused == .conflict)
                #expect(try await catalog.video(video.id)?.status == .ready)
                #expect(try await catalog.videos(of: "ada").videos.first?.status == .ready)
            }
        }
    }

    @Test func transitionsWriteTheFieldsThatGoWithTheStatus() async throws {
        try await withCatalog { catalog in
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            let video = Video(owner: "ada", title: "Fields")
            try await catalog.create(video)
            #expect(await code { try await catalog.updateProgress(video.id, 0.1) } == .conflict, "only while processing")

            var stored = try await catalog.transition(video.id, to: .processing, duration: .milliseconds(93_500))
            #expect(stored.status == .processing && stored.progress == 0 && stored.duration == .milliseconds(93_500))
            #expect(stored.updatedAt > video.updatedAt)
            try await catalog.updateProgress(video.id, 0.25)
            #expect(try await catalog.video(video.id)?.progress == 0.25)

            stored = try await catalog.transition(video.id, to: .failed, failureReason: "the source is damaged at 00:31")
            #expect(stored.status == .failed && stored.progress == nil && stored.failureReason == "the source is damaged at 00:31")
            // A retry clears the reason and starts the progress again.
            stored = try await catalog.transition(video.id, to: .processing, from: .failed)
            #expect(stored.failureReason == nil && stored.progress == 0 && stored.duration == .milliseconds(93_500))
            let ladder = [Rendition(name: "720p", width: 1280, height: 720, videoBitRate: 2_800_000, codecs: "avc1.64001f,mp4a.40.2"),
                          Rendition(name: "360p", width: 640, height: 360, videoBitRate: 800_000)]
            stored = try await catalog.transition(video.id, to: .ready, renditions: ladder)
            #expect(stored.status == .ready && stored.renditions == ladder && stored.progress == nil && stored.status.isPlayable)
            let summary = try #require(try await catalog.videos(of: "ada").videos.first)
            #expect(summary.status == .ready && summary.duration == .milliseconds(93_500))
        }
    }

    @Test func metadataUpdatesChangeOnlyTheirFields() async throws {
        try await withCatalog { catalog in
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            try await catalog.register(User(username: "bob", email: "bob@example.com"))
            let video = Video(owner: "ada", title: "Before", description: "old", tags: ["a"])
            try await catalog.create(video)
            try await catalog.recordViews(video.id, count: 7)
            try await catalog.submit(try Review(videoID: video.id, author: "bob", rating: 4))

            let updated = try await catalog.updateMetadata(video.id, VideoMetadataChanges(description: "new\ntext"))
            #expect(updated.title == "Before" && updated.description == "new\ntext" && updated.tags == ["a"] && updated.visibility == .public)
            #expect(updated.views == 7 && updated.ratingSum == 4 && updated.ratingCount == 1, "counters are never written from a copy")
            try await catalog.updateMetadata(video.id, VideoMetadataChanges(title: "After", tags: [], visibility: .unlisted))
            let stored = try #require(try await catalog.video(video.id))
            #expect(stored.title == "After" && stored.tags.isEmpty && stored.visibility == .unlisted && stored.description == "new\ntext")
            #expect(stored.owner == "ada" && stored.createdAt == video.createdAt && stored.status == .uploading)
            let summary = try #require(try await catalog.videos(of: "ada").videos.first)
            #expect(summary.title == "After" && summary.visibility == .unlisted)
        }
    }

    // MARK: Reviews

    @Test func oneReviewPerUserAndReplacementsKeepTheAverageExact() async throws {
        try await withCatalog { catalog in
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            try await catalog.register(User(username: "bob", email: "bob@example.com"))
            let video = Video(owner: "ada", title: "Rated twice")
            try await catalog.create(video)
            let first = try Review(videoID: video.id, author: "bob", rating: 2, text: "meh")
            #expect(try await catalog.submit(first) == false)
            let second = try Review(videoID: video.id, author: "bob", rating: 5, text: "grew on me")
            #expect(try await catalog.submit(second) == true)
            var stored = try #require(try await catalog.video(video.id))
            #expect(stored.ratingCount == 1 && stored.ratingSum == 5)
            #expect(try await catalog.reviews(of: video.id).reviews.map(\.id) == [second.id])
            #expect(try await catalog.review(of: video.id, by: "Bob")?.text == "grew on me")
            // Editing the same review (same id) changes the text and the rating in place.
            var edited = second
            edited.rating = 3
            edited.text = "on reflection"
            #expect(try await catalog.submit(edited) == true)
            #expect(try await catalog.reviews(of: video.id).reviews.map(\.text) == ["on reflection"])
            #expect(try await catalog.video(video.id)?.ratingSum == 3)
            // Another user cannot take over a review id.
            #expect(await code { try await catalog.submit(try Review(id: edited.id, videoID: video.id, author: "ada", rating: 1)) } == .conflict)

            // Many replacements by the same two users at once: the totals hold one rating each.
            let ratings = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for i in 0..<16 {
                    let author = i % 2 == 0 ? "ada" : "bob"
                    group.addTask {
                        let rating = 1 + i % 5
                        try await catalog.submit(try Review(videoID: video.id, author: author, rating: rating))
                        return (author, rating)
                    }
                }
                return try await group.reduce(into: [String: Int]()) { $0[$1.0, default: 0] += 1 }
            }
            #expect(ratings.values.reduce(0, +) == 16)
            stored = try #require(try await catalog.video(video.id))
            let kept = try await [catalog.review(of: video.id, by: "ada"), catalog.review(of: video.id, by: "bob")].compactMap { $0 }
            #expect(kept.count == 2)
            #expect(stored.ratingCount == 2 && stored.ratingSum == Int64(kept.map(\.rating).reduce(0, +)))
            #expect(try await catalog.reviews(of: video.id).reviews.count == 2)

            // Deleting a review takes its rating out.
            #expect(try await catalog.deleteReview(of: video.id, by: "bob") == true)
            #expect(try await catalog.deleteReview(of: video.id, by: "bob") == false)
            #expect(try await catalog.review(of: video.id, by: "bob") == nil)
            stored = try #require(try await catalog.video(video.id))
            #expect(stored.ratingCount == 1 && stored.ratingSum == Int64(kept.first { $0.author == "ada" }!.rating))
            #expect(stored.averageRating == Double(stored.ratingSum))
        }
    }

    // MARK: Deleting

    @Test func deletingAVideoRemovesItsCollectionEntryAndReviews() async throws {
        try await withCatalogAndStore { catalog, store in
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            let keep = Video(owner: "ada", title: "Keep")
            let doomed = Video(owner: "ada", title: "Doomed")
            try await catalog.create(keep)
            try await catalog.create(doomed)
            for i in 0..<30 {
                try await catalog.register(User(username: "viewer\(i)", email: "viewer\(i)@example.com"))
                try await catalog.submit(try Review(videoID: doomed.id, author: "viewer\(i)", rating: 4))
            }
            try await catalog.submit(try Review(videoID: keep.id, author: "viewer0", rating: 5))
            try await catalog.deleteVideo(doomed.id)
            #expect(try await catalog.video(doomed.id) == nil)
            #expect(try await catalog.videos(of: "ada").videos.map(\.id) == [keep.id])
            // Nothing is left in the video's partition: no reviews, no reviewer items.
            #expect(try await store.query(Query(partitionKey: .s("VIDEO#\(doomed.id)"))).items.isEmpty)
            #expect(await code { try await catalog.submit(try Review(videoID: doomed.id, author: "viewer1", rating: 3)) } == .notFound)
            #expect(await code { try await catalog.deleteVideo(doomed.id) } == .notFound)
            // The other video is untouched.
            #expect(try await catalog.video(keep.id)?.ratingCount == 1)
            #expect(try await catalog.reviews(of: keep.id).reviews.count == 1)

            // What an interrupted deletion left behind goes on the next call.
            try await store.putItem(["PK": .s("VIDEO#\(doomed.id)"), "SK": "REV#leftover", "type": "review"])
            #expect(await code { try await catalog.deleteVideo(doomed.id) } == .notFound)
            #expect(try await store.query(Query(partitionKey: .s("VIDEO#\(doomed.id)"))).items.isEmpty)
        }
    }

    @Test func theCatalogRunsOnTheStoreInMemory() async throws {
        let store = try await SQLiteItemStore.inMemory(schema: .singleTable, logger: logger)
        defer { store.close() }
        let catalog = try Catalog(store: store, logger: logger)
        try await catalog.register(User(username: "ada", email: "ada@example.com"))
        let video = Video(owner: "ada", title: "In memory")
        try await catalog.create(video)
        try await catalog.transition(video.id, to: .processing)
        #expect(try await catalog.videos(of: "ada").videos.first?.status == .processing)
        #expect(await code { try Catalog(store: try await SQLiteItemStore.inMemory(schema: TableSchema(partitionKey: KeyAttribute("id")))) } == .invalidInput)
    }
}
