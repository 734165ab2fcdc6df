import Foundation
import Logging
import Testing
import TestSupport
import SingleTableStore
import VideoCore
import VideoPlatform
@testable import SearchIndex
import TestSupport

@Suite("Following the store's change feed")
struct FollowerTests {
    func makeCatalog(_ directory: TemporaryDirectory, configuration: SQLiteStoreConfiguration = SQLiteStoreConfiguration()) async throws -> (SQLiteItemStore, Catalog) {
        let store = try await openStore(in: directory.url, configuration: configuration)
        let catalog = try Catalog(store: store)
        try await catalog.register(User(username: "ann", email: "ann@example.com", displayName: "Ann"))
        return (store, catalog)
    }

    func follower(_ index: SearchIndex, _ store: any ItemStore, pollInterval: Duration = .milliseconds(100), logger: Logger = .quiet) -> SearchFeedFollower {
        SearchFeedFollower(index: index, store: store, mapping: CatalogSearchMapping(),
                           configuration: SearchFeedFollowerConfiguration(pollInterval: pollInterval), logger: logger)
    }

    @Test("rebuild indexes existing videos; catch-up applies ready, private, views and deletes")
    func rebuildAndCatchUp() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (store, catalog) = try await makeCatalog(directory)
        defer { store.close() }
        var first = Video(owner: "ann", title: "Sourdough starter basics", description: "flour and water")
        first.status = .ready
        try await catalog.create(first)
        let index = SearchIndex()
        let follower = follower(index, store)
        var cursor = try await follower.rebuild()
        #expect(try index.ids("sourdough ") == [first.id.description])

        // A new upload is not searchable until it is ready.
        let second = Video(owner: "ann", title: "Sourdough scoring patterns")
        try await catalog.create(second)
        cursor = try await follower.catchUp(after: cursor)
        #expect(try index.ids("scoring ") == [])
        try await catalog.transition(second.id, to: .processing)
        try await catalog.transition(second.id, to: .ready)
        cursor = try await follower.catchUp(after: cursor)
        #expect(try index.ids("scoring ") == [second.id.description])

        // Views flow into the stored document; making it private hides it.
        try await catalog.recordViews(second.id, count: 42)
        cursor = try await follower.catchUp(after: cursor)
        #expect(index.document(id: second.id.description)?.views == 42)
        try await catalog.updateMetadata(second.id, VideoMetadataChanges(visibility: .private))
        cursor = try await follower.catchUp(after: cursor)
        #expect(try index.ids("scoring ") == [])

        // Deleting the item removes the document.
        try await store.deleteItem(key: ["PK": .s("VIDEO#\(first.id)"), "SK": .s("VIDEO#\(first.id)")])
        cursor = try await follower.catchUp(after: cursor)
        #expect(index.document(id: first.id.description) == nil)
        #expect(try index.ids("sourdough ") == [])
        // Users and collection entries never become documents.
        #expect(index.count == 1)
    }

    @Test("follow applies changes as they are committed until cancelled", .timeLimit(.minutes(5)))
    func follow() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (store, catalog) = try await makeCatalog(directory)
        defer { store.close() }
        let index = SearchIndex()
        let follower = follower(index, store, pollInterval: .milliseconds(20))
        let start = try await follower.rebuild()
        let (batches, applied) = AsyncStream.makeStream(of: ChangeCursor.self)
        let task = Task { try await follower.follow(after: start) { applied.yield($0) } }
        var video = Video(owner: "ann", title: "Telescope collimation")
        video.status = .ready
        try await catalog.create(video)
        // Every applied batch is an event; the video's batch makes it searchable (no sleeps here).
        var found = false
        for await _ in batches {
            found = try index.ids("telescope ") == [video.id.description]
            if found { break }
        }
        #expect(found)
        task.cancel()
        try await task.value  // a cancelled follower returns normally
    }

    @Test("a follower whose feed position was trimmed rebuilds from a scan and says so in the log")
    func trimmedFeedRebuilds() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        // A zero retention window: the store drops every recorded change at its next trim
        // (it trims once per 1,000 changes).
        let (store, catalog) = try await makeCatalog(directory, configuration: SQLiteStoreConfiguration(durability: .normal, changeRetention: .zero))
        defer { store.close() }
        var first = Video(owner: "ann", title: "Glacier survey")
        first.status = .ready
        try await catalog.create(first)
        let recorder = LogRecorder()
        let index = SearchIndex(logger: recorder.logger())
        let follower = follower(index, store, logger: recorder.logger())
        let stale = try await follower.rebuild()
        #expect(try index.ids("glacier ") == [first.id.description])

        // While the follower is away, a video is published and the feed is trimmed past it.
        var second = Video(owner: "ann", title: "Glacier retreat timelapse")
        second.status = .ready
        try await catalog.create(second)
        for batch in 0..<41 {
            try await store.batchWrite((0..<25).map { .put(["PK": .s("NOTE#\(batch)-\($0)"), "SK": .s("NOTE"), "text": .s("filler")]) })
        }
        await #expect(throws: VideoStackError.self) { try await store.changes(after: stale, limit: 10) }

        let position = try await follower.catchUp(after: stale)
        #expect(Set(try index.ids("glacier ")) == [first.id.description, second.id.description])
        #expect(position != stale)
        #expect(index.feedPosition == position?.text)
        let warnings = recorder.records.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.contains("trimmed") == true)
        let rebuilds = recorder.records.filter { $0.message.contains("rebuilt the index") }
        #expect(rebuilds.count == 2)
        #expect(rebuilds.last?.metadata["documents"] == "2")
    }

    @Test("a video item that cannot be read stops the follower with a corrupt error")
    func unreadableVideoItem() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (store, _) = try await makeCatalog(directory)
        defer { store.close() }
        let index = SearchIndex()
        let follower = follower(index, store)
        let cursor = try await follower.rebuild()
        try await store.putItem(["PK": .s("VIDEO#broken"), "SK": .s("VIDEO#broken"), "title": .int(12)])
        await #expect { _ = try await follower.catchUp(after: cursor) } throws: { ($0 as? VideoStackError)?.code == .corrupt }
        #expect(index.feedPosition == cursor?.text)  // the batch with the bad item was not applied
        await #expect { _ = try await follower.rebuild() } throws: { ($0 as? VideoStackError)?.code == .corrupt }
    }

    @Test("the follower indexes whatever its mapping makes documents of, not only the catalog's videos")
    func otherMapping() async throws {
        /// Notes in a table of their own layout: `PK` = `NOTE#<id>`, the text in `body`.
        struct NoteMapping: SearchDocumentMapping {
            func documentID(forKey key: Item) -> String? {
                guard case .s(let pk)? = key["PK"], pk.hasPrefix("NOTE#") else { return nil }
                return String(pk.dropFirst(5))
            }
            func document(for item: Item) throws -> SearchDocument? {
                guard let id = documentID(forKey: item), case .s(let body)? = item["body"] else { return nil }
                return SearchDocument(id: id, title: body)
            }
        }
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let store = try await openStore(in: directory.url)
        defer { store.close() }
        try await store.putItem(["PK": .s("NOTE#1"), "SK": .s("NOTE"), "body": .s("buy lentils")])
        try await store.putItem(["PK": .s("VIDEO#2"), "SK": .s("VIDEO#2"), "body": .s("lentil soup")])
        let index = SearchIndex()
        let follower = SearchFeedFollower(index: index, store: store, mapping: NoteMapping(), logger: .quiet)
        var cursor = try await follower.rebuild()
        #expect(try index.ids("lentil") == ["1"])
        try await store.putItem(["PK": .s("NOTE#3"), "SK": .s("NOTE"), "body": .s("lentil harvest")])
        try await store.deleteItem(key: ["PK": .s("NOTE#1"), "SK": .s("NOTE")])
        cursor = try await follower.catchUp(after: cursor)
        #expect(try index.ids("lentil") == ["3"])
    }

    @Test("a snapshot records the feed position, so a loaded index resumes where it ended")
    func resumeFromSnapshot() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (store, catalog) = try await makeCatalog(directory)
        defer { store.close() }
        var video = Video(owner: "ann", title: "Harbour seals at dawn")
        video.status = .ready
        try await catalog.create(video)
        let index = SearchIndex()
        let follower = follower(index, store)
        let cursor = try await follower.catchUp(after: try await follower.rebuild())
        #expect(index.feedPosition != nil)
        #expect(index.feedPosition == cursor?.text)
        let url = directory.url.appendingPathComponent("search.snapshot")
        try index.writeSnapshot(to: url)

        // While the index is "down", the video is renamed and another is published.
        try await catalog.updateMetadata(video.id, VideoMetadataChanges(title: "Harbour seals at dusk"))
        var other = Video(owner: "ann", title: "Lighthouse keepers")
        other.status = .ready
        try await catalog.create(other)

        let loaded = try SearchIndex.loadSnapshot(from: url, logger: .quiet)
        #expect(loaded.feedPosition == cursor?.text)
        #expect(try loaded.ids("dawn ") == [video.id.description])
        let resumed = self.follower(loaded, store)
        _ = try await resumed.catchUp(after: resumed.resumePosition)
        #expect(try loaded.ids("dawn ") == [])
        #expect(try loaded.ids("dusk ") == [video.id.description])
        #expect(try loaded.ids("lighthouse ") == [other.id.description])
    }
}
