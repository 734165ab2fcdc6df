import Foundation
import Logging
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite struct ViewCounterTests {
    func withVideos<T>(_ count: Int = 1, clock: ManualClock = ManualClock(),
                       _ body: (ViewCounter, [VideoID], SQLiteItemStore) async throws -> T) async throws -> T {
        try await withTemporaryDirectory(prefix: "views") { directory in
            let store = try await PlatformTestStore.open(directory)
            defer { store.close() }
            let catalog = try Catalog(store: store)
            try await catalog.register(User(username: "ada", email: "ada@example.com"))
            var ids: [VideoID] = []
            for i in 0..<count {
                let video = Video(owner: "ada", title: "Clip \(i)")
                try await catalog.create(video)
                ids.append(video.id)
            }
            let counter = try ViewCounter(store: store, now: { clock.now })
            return try await body(counter, ids, store)
        }
    }

    @Test func sixtyFourConcurrentViewersEndAtTheExactTotal() async throws {
        try await withVideos { counter, ids, _ async throws in
            let video = ids[0]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for viewer in 0..<64 {
                    group.addTask { () async throws in
                        // Each viewer also retries its view: the repeats must not count.
                        #expect(try await counter.record(video, viewer: "viewer-\(viewer)"))
                        #expect(try await counter.record(video, viewer: "viewer-\(viewer)") == false)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await counter.count(video) == 64)
        }
    }

    @Test func aViewerCountsOncePerWindow() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 3600 * 500_000))
        try await withVideos(clock: clock) { counter, ids, _ async throws in
            #expect(try await counter.record(ids[0], viewer: "ada"))
            clock.advance(by: 3599)
            #expect(try await counter.record(ids[0], viewer: "ada") == false)
            clock.advance(by: 1)
            #expect(try await counter.record(ids[0], viewer: "ada"))
            #expect(try await counter.record(ids[0], viewer: "grace"))
            #expect(try await counter.count(ids[0]) == 3)
        }
    }

    @Test func rollUpWritesTheSumIntoTheVideoItem() async throws {
        try await withVideos(3) { counter, ids, store async throws in
            for (index, video) in ids.enumerated() {
                for viewer in 0...(index * 5) { try await counter.record(video, viewer: "v\(viewer)") }
            }
            #expect(try await counter.rollUp() == 3)
            for (index, video) in ids.enumerated() {
                let item = try await store.getItem(key: ["PK": .s("VIDEO#\(video)"), "SK": .s("VIDEO#\(video)")])
                #expect(item?["views"]?.int64 == Int64(index * 5 + 1))
            }
            let counts = try await counter.counts(ids)
            #expect(counts.values.sorted() == [1, 6, 11])
            #expect(try await counter.rollUp() == 0)  // nothing viewed since
        }
    }

    @Test func expiredViewMarkersAreSwept() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 3600 * 500_000 + 100))
        try await withVideos(clock: clock) { counter, ids, store async throws in
            for viewer in 0..<30 { try await counter.record(ids[0], viewer: "v\(viewer)") }
            let sweeper = ExpirySweeper(store: store, logger: .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), now: { clock.now })
            #expect(try await sweeper.sweep() == 0)  // not due yet
            clock.advance(by: 3600)
            #expect(try await sweeper.sweep() == 30)
            #expect(try await sweeper.sweep() == 0)
            let left = try await store.scan(Scan(filter: .equal("type", "viewSeen")))
            #expect(left.items.isEmpty)
            #expect(try await counter.count(ids[0]) == 30)  // the counts stay
        }
    }

    @Test func badInputIsRefused() async throws {
        try await withVideos { counter, ids, _ async throws in
            #expect(await errorCode { try await counter.record(VideoID(), viewer: "ada") } == .notFound)
            #expect(await errorCode { try await counter.record(ids[0], viewer: "") } == .invalidInput)
            #expect(await errorCode { try await counter.record(ids[0], viewer: String(repeating: "x", count: 300)) } == .invalidInput)
            #expect(try await counter.record(ids[0], viewer: "héllo #1 ☃\u{0}") == true)  // any bytes are a fine key
            #expect(try await counter.count(ids[0]) == 1)
            #expect(throws: VideoStackError.self) { _ = try ViewCounter(store: counter.store, configuration: ViewConfiguration(shards: 0)) }
        }
    }
}
