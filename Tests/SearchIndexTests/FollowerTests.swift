import Foundation
import Testing
import SingleTableStore
import VideoCore
import VideoPlatform
@testable import SearchIndex
import TestSupport

@Suite("Following the store's change feed")
struct FollowerTests {
    func makeCatalog(_ directory: TemporaryDirectory) async throws -> (SQLiteItemStore, Catalog) {
        let store = try await SQLiteItemStore(url: directory.url.appendingPathComponent("catalog.sqlite"), schema: .singleTable)
        let catalog = try Catalog(store: store)
        try await catalog.register(User(username: "ann", email: "ann@example.com", displayName: "Ann"))
        return (store, catalog)
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
        let follower = SearchFeedFollower(index: index, store: store)
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

    @Test("follow applies changes as they are committed until cancelled")
    func follow() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let (store, catalog) = try await makeCatalog(directory)
        defer { store.close() }
        let index = SearchIndex()
        let follower = SearchFeedFollower(index: index, store: store, pollInterval: .milliseconds(20))
        let start = try await follower.rebuild()
        let task = Task { try await follower.follow(after: start) }
        var video = Video(owner: "ann", title: "Telescope collimation")
        video.status = .ready
        try await catalog.create(video)
        // Wait for the follower (no time limit asserted; the loop only guards against a hang).
        var found = false
        for _ in 0..<500 where !found {
            found = try index.ids("telescope ") == [video.id.description]
            if !found { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(found)
        task.cancel()
        try await task.value
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
        let follower = SearchFeedFollower(index: index, store: store)
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

        let loaded = try SearchIndex.loadSnapshot(from: url)
        #expect(loaded.feedPosition == cursor?.text)
        #expect(try loaded.ids("dawn ") == [video.id.description])
        let resumed = SearchFeedFollower(index: loaded, store: store)
        _ = try await resumed.catchUp(after: resumed.resumePosition)
        #expect(try loaded.ids("dawn ") == [])
        #expect(try loaded.ids("dusk ") == [video.id.description])
        #expect(try loaded.ids("lighthouse ") == [other.id.description])
    }
}
