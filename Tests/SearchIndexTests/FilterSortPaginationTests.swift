import Foundation
import Testing
import VideoCore
@testable import SearchIndex
import TestSupport

@Suite("Filters, sorts and pagination")
struct FilterSortPaginationTests {
    static func catalog() throws -> SearchIndex {
        let index = SearchIndex()
        try index.upsert([
            doc("a", "drone footage", uploader: "alice", duration: 30, uploadedAt: 1_000, views: 10, ratingSum: 5, ratingCount: 1),
            doc("b", "drone racing", uploader: "bob", duration: 600, uploadedAt: 3_000, views: 5_000, ratingSum: 40, ratingCount: 10),
            doc("c", "drone repair", uploader: "alice", duration: 1_200, uploadedAt: 2_000, views: 900, ratingSum: 90, ratingCount: 20),
            doc("d", "drone secret", uploader: "alice", visibility: .private),
            doc("e", "drone upload", uploader: "bob", status: .processing),
            doc("f", "drone unlisted", uploader: "carol", visibility: .unlisted),
        ])
        return index
    }

    @Test("by default only public, ready videos are found")
    func defaultVisibility() throws {
        let index = try Self.catalog()
        #expect(Set(try index.ids("drone ")) == ["a", "b", "c"])
        let all = SearchFilter(visibilities: Set(Visibility.allCases), statuses: Set(VideoStatus.allCases))
        #expect(Set(try index.ids("drone ", filter: all)) == ["a", "b", "c", "d", "e", "f"])
        #expect(try index.ids("drone ", filter: SearchFilter(visibilities: [.private])) == ["d"])
    }

    @Test("uploader, duration and date filters")
    func filters() throws {
        let index = try Self.catalog()
        #expect(Set(try index.ids("drone ", filter: SearchFilter(uploader: "alice"))) == ["a", "c"])
        #expect(try index.ids("drone ", filter: SearchFilter(uploader: "nobody")) == [])
        #expect(Set(try index.ids("drone ", filter: SearchFilter(duration: .seconds(60)...Duration.seconds(1_200)))) == ["b", "c"])
        let range = Date(timeIntervalSince1970: 1_500)...Date(timeIntervalSince1970: 3_000)
        #expect(Set(try index.ids("drone ", filter: SearchFilter(uploadedAt: range))) == ["b", "c"])
        #expect(try index.ids("drone ", filter: SearchFilter(uploader: "alice", duration: .zero...Duration.seconds(100))) == ["a"])
    }

    @Test("sorts: newest, most viewed, top rated; empty text browses")
    func sorts() throws {
        let index = try Self.catalog()
        #expect(try index.ids("drone ", sort: .newest) == ["b", "c", "a"])
        #expect(try index.ids("drone ", sort: .mostViewed) == ["b", "c", "a"])
        #expect(try index.ids("drone ", sort: .topRated) == ["c", "b", "a"])
        #expect(try index.ids("", sort: .newest) == ["b", "c", "a"])
        #expect(try index.ids("   ", sort: .mostViewed, limit: 1) == ["b"])
    }

    @Test("cursor pagination visits every match exactly once")
    func pagination() throws {
        let index = SearchIndex()
        try index.upsert((0..<57).map { doc("v\($0)", "tutorial part \($0)", description: $0 % 3 == 0 ? "tutorial" : "", views: Int64($0 * 37 % 11)) })
        var seen: [String] = []
        var cursor: String? = nil
        var pages = 0
        repeat {
            let page = try index.search(SearchQuery("tutorial ", limit: 10, cursor: cursor))
            seen += page.hits.map(\.id)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 20
        #expect(pages == 6)
        #expect(seen.count == 57)
        #expect(Set(seen).count == 57)
        // The concatenated pages equal one big page.
        #expect(seen == (try index.ids("tutorial ", limit: 100)))
    }

    @Test("pages stay stable while documents are added and removed between them")
    func paginationUnderUpdates() throws {
        let index = SearchIndex()
        try index.upsert((0..<40).map { doc("v\($0)", "guitar lesson \($0)", views: Int64($0 * 13 % 17)) })
        let first = try index.search(SearchQuery("guitar ", limit: 15))
        // Changes between pages: new matches (some would rank first), removals of unseen documents.
        try index.upsert((0..<30).map { doc("new\($0)", "guitar guitar", views: 1_000_000) })
        let unseen = Set((0..<40).map { "v\($0)" }).subtracting(first.hits.map(\.id))
        let removed = Array(unseen.sorted().prefix(5))
        try index.delete(ids: removed)
        var seen = first.hits.map(\.id)
        var cursor = first.nextCursor
        while let next = cursor {
            let page = try index.search(SearchQuery("guitar ", limit: 15, cursor: next))
            seen += page.hits.map(\.id)
            cursor = page.nextCursor
        }
        let original = Set((0..<40).map { "v\($0)" })
        // Every original document not removed appears exactly once; none is skipped or repeated.
        let seenOriginal = seen.filter { original.contains($0) }
        #expect(seenOriginal.count == Set(seenOriginal).count)
        #expect(Set(seenOriginal) == original.subtracting(removed))
    }

    @Test("pages walk through every tier without repeating a document")
    func paginationAcrossTiers() throws {
        let index = SearchIndex()
        var documents: [SearchDocument] = []
        for n in 0..<12 { documents.append(doc("both\(n)", "alpha beta \(n)", views: Int64(n))) }
        for n in 0..<12 { documents.append(doc("split\(n)", "alpha \(n)", description: "beta", views: Int64(n * 3))) }
        for n in 0..<12 { documents.append(doc("first\(n)", "alpha only \(n)", views: Int64(n * 7))) }
        for n in 0..<5 { documents.append(doc("second\(n)", "beta only \(n)")) }
        try index.upsert(documents)
        var seen: [SearchHit] = []
        var cursor: String? = nil
        repeat {
            let page = try index.search(SearchQuery("alpha beta ", limit: 5, cursor: cursor))
            seen += page.hits
            cursor = page.nextCursor
        } while cursor != nil && seen.count < 100
        #expect(seen.count == 36)
        #expect(Set(seen.map(\.id)).count == 36)
        #expect(seen.map(\.tier) == Array(repeating: 0, count: 12) + Array(repeating: 1, count: 12) + Array(repeating: 4, count: 12))
        #expect(Set(seen.filter { $0.tier == 4 }.map(\.id)) == Set((0..<12).map { "first\($0)" }))
    }

    @Test("pages of a corrected query walk the as-typed tiers, then the corrected ones, each document once", arguments: ["kitten", "kitten tour "])
    func paginationAcrossCorrectedTiers(text: String) throws {
        let index = SearchIndex(configuration: SearchIndexConfiguration(typoThreshold: 100))
        var documents: [SearchDocument] = []
        for n in 0..<6 {
            documents.append(doc("title\(n)", "kitten tour \(n)", views: Int64(n)))
            documents.append(doc("description\(n)", "walk \(n)", description: "kitten tour", views: Int64(n * 5)))
            documents.append(doc("typoTitle\(n)", "mitten tour \(n)", views: 1_000_000))
            documents.append(doc("typoDescription\(n)", "stroll \(n)", description: "mitten tour", views: Int64(n)))
            documents.append(doc("dropped\(n)", "kitten \(n)", views: Int64(n)))
        }
        try index.upsert(documents)
        var seen: [SearchHit] = []
        var cursor: String? = nil
        repeat {
            let page = try index.search(SearchQuery(text, limit: 5, cursor: cursor))
            seen += page.hits
            cursor = page.nextCursor
        } while cursor != nil && seen.count < 100
        #expect(Set(seen.map(\.id)).count == seen.count)
        // (tier, the documents that belong to it)
        let expected: [(Int, [String])] = text == "kitten"
            ? [(0, ["title", "dropped"]), (1, ["description"]), (2, ["typoTitle"]), (3, ["typoDescription"])]
            : [(0, ["title"]), (1, ["description"]), (2, ["typoTitle"]), (3, ["typoDescription"]), (4, ["dropped"])]
        #expect(seen.map(\.tier) == expected.flatMap { tier, kinds in Array(repeating: tier, count: 6 * kinds.count) })
        for (tier, kinds) in expected {
            let ids = Set(seen.filter { $0.tier == tier }.map(\.id))
            #expect(ids == Set(kinds.flatMap { kind in (0..<6).map { "\(kind)\($0)" } }), "tier \(tier)")
        }
    }

    @Test("a cursor is bound to its query")
    func cursorMismatch() throws {
        let index = SearchIndex()
        try index.upsert((0..<5).map { doc("v\($0)", "kayak trip \($0)") })
        let page = try index.search(SearchQuery("kayak ", limit: 2))
        let cursor = try #require(page.nextCursor)
        do {
            _ = try index.search(SearchQuery("trip ", limit: 2, cursor: cursor))
            Issue.record("a cursor of another query was accepted")
        } catch let error as VideoStackError {
            #expect(error.code == .invalidCursor)
        }
        var damaged = cursor
        damaged.removeLast(3)
        #expect(throws: VideoStackError.self) { try index.search(SearchQuery("kayak ", limit: 2, cursor: damaged)) }
    }
}

@Suite("Updates, deletes and snapshots")
struct UpdateTests {
    @Test("update replaces, delete removes, both incrementally")
    func updateAndDelete() throws {
        let index = SearchIndex()
        try index.upsert([doc("a", "old title"), doc("b", "other video")])
        #expect(try index.ids("old ") == ["a"])
        try index.upsert([doc("a", "new title")])
        #expect(try index.ids("old ") == [])
        #expect(try index.ids("new ") == ["a"])
        #expect(index.count == 2)
        try index.delete(ids: ["a", "missing"])
        #expect(try index.ids("new ") == [])
        #expect(index.document(id: "a") == nil)
        #expect(index.count == 1)
        // Within one batch, the last change to an id wins.
        try index.apply([.upsert(doc("c", "first")), .delete(id: "c"), .upsert(doc("c", "second"))])
        #expect(try index.ids("second ") == ["c"])
        #expect(try index.ids("first ") == [])
        try index.add(contentsOf: [doc("d", "dup one"), doc("d", "dup two")])
        #expect(try index.ids("dup ") == ["d"])
        #expect(index.document(id: "d")?.title == "dup two")
    }

    @Test("many small batches merge into few segments and keep every live document")
    func merging() throws {
        let index = SearchIndex()
        for batch in 0..<64 {
            try index.upsert((0..<10).map { doc("v\(batch * 10 + $0)", "clip number \(batch * 10 + $0) zebra") })
            if batch % 4 == 0 { try index.delete(ids: ["v\(batch * 10)"]) }
        }
        let stats = index.statistics
        #expect(stats.documents == 640 - 16)
        #expect(stats.segments <= 10)
        #expect(try index.search(SearchQuery("zebra ", limit: 1000)).hits.count == 624)
        #expect(try index.search(SearchQuery("clip 330 ")).hits.first.map { [$0.id, "\($0.tier)"] } == ["v330", "0"])
        #expect(try index.search(SearchQuery("clip 320 ")).hits.allSatisfy { $0.id != "v320" && $0.tier == 4 })
    }

    @Test("a snapshot round-trips: same results, deletes kept")
    func snapshot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let url = directory.url.appendingPathComponent("index.snapshot")
        let index = SearchIndex()
        try index.upsert([doc("a", "Café racer", description: "a build", tags: ["moto"], uploader: "zoë", views: 7)])
        try index.upsert([doc("b", "racer two"), doc("c", "gone racer")])
        try index.delete(ids: ["c"])
        try index.writeSnapshot(to: url)
        let loaded = try SearchIndex.loadSnapshot(from: url, logger: .quiet)
        #expect(loaded.count == 2)
        #expect(try loaded.ids("racer ") == (try index.ids("racer ")))
        #expect(loaded.document(id: "a") == index.document(id: "a"))
        #expect(try loaded.ids("racer ", filter: SearchFilter(uploader: "zoë")) == ["a"])
        #expect(loaded.document(id: "c") == nil)
        // The loaded index keeps working incrementally.
        try loaded.upsert([doc("d", "racer three")])
        #expect(try loaded.ids("three ") == ["d"])
    }

    @Test("damaged, truncated and missing snapshots are refused with typed errors")
    func damagedSnapshot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let url = directory.url.appendingPathComponent("index.snapshot")
        let index = SearchIndex()
        try index.upsert((0..<50).map { doc("v\($0)", "title \($0)") })
        try index.writeSnapshot(to: url)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: url)
        #expect { try SearchIndex.loadSnapshot(from: url, logger: .quiet) } throws: { ($0 as? VideoStackError)?.code == .corrupt }
        try index.writeSnapshot(to: url)
        try Data(try Data(contentsOf: url).prefix(100)).write(to: url)
        #expect { try SearchIndex.loadSnapshot(from: url, logger: .quiet) } throws: { ($0 as? VideoStackError)?.code == .corrupt }
        try Data("not a snapshot at all, just some text".utf8).write(to: url)
        #expect { try SearchIndex.loadSnapshot(from: url, logger: .quiet) } throws: { ($0 as? VideoStackError)?.code == .corrupt }
        let missing = directory.url.appendingPathComponent("missing.snapshot")
        #expect { try SearchIndex.loadSnapshot(from: missing, logger: .quiet) } throws: { ($0 as? VideoStackError)?.code == .notFound }
    }
}

@Suite("Concurrency")
struct ConcurrencyTests {
    @Test("searches run concurrently with updates and always see whole batches")
    func concurrentSearchesDuringUpdates() async throws {
        let index = SearchIndex()
        try index.upsert((0..<200).map { doc("base\($0)", "river delta \($0)") })
        // Each batch adds a pair of documents; a reader must never see one without the other.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for batch in 0..<150 {
                    try index.apply([.upsert(doc("p\(batch)a", "paired item \(batch)")),
                                     .upsert(doc("p\(batch)b", "paired item \(batch)"))])
                    if batch % 10 == 0 { try index.delete(ids: ["base\(batch)"]) }
                }
            }
            for _ in 0..<3 {
                group.addTask {
                    for _ in 0..<150 {
                        let hits = try index.search(SearchQuery("paired ", limit: 1000)).hits.map(\.id)
                        let a = Set(hits.filter { $0.hasSuffix("a") }.map { $0.dropLast() })
                        let b = Set(hits.filter { $0.hasSuffix("b") }.map { $0.dropLast() })
                        #expect(a == b)
                        _ = try index.search(SearchQuery("river delt", limit: 5))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try index.search(SearchQuery("paired ", limit: 1000)).hits.count == 300)
        #expect(index.count == 200 - 15 + 300)
    }
}
