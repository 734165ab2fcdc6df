import Foundation
@testable import SingleTableStore
import Testing
import TestSupport
import VideoCore

/// The query page cache must answer exactly what the rows say, whoever changed them.
@Suite("Query page cache")
struct PageCacheTests {
    /// Every page of `query`, in order, with the tokens and counts that came with it.
    private struct Pages: Equatable {
        var items: [[Item]] = []
        var scanned: [Int] = []
        var tokens: [String?] = []
    }

    private func allPages(_ store: SQLiteItemStore, _ query: Query) async throws -> Pages {
        var pages = Pages()
        var query = query
        repeat {
            let page = try await store.query(query)
            pages.items.append(page.items)
            pages.scanned.append(page.scannedCount)
            pages.tokens.append(page.nextToken?.text)
            query.startToken = page.nextToken
        } while query.startToken != nil && pages.items.count < 100
        return pages
    }

    @Test func pagesAreNeverStaleWhileAnotherConnectionWrites() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("pages.sqlite")
            let cached = try await SQLiteItemStore(url: url, schema: .conformance, configuration: .init(readerCount: 1, durability: .normal), logger: testLogger)
            // The reference: the same file with both caches off. It also does the writes, through its own connection.
            let plain = try await SQLiteItemStore(url: url, schema: .conformance,
                                                  configuration: .init(readerCount: 1, durability: .normal, decodedItemCacheMiB: 0), logger: testLogger)
            defer { cached.close(); plain.close() }
            let queries = [
                Query(partitionKey: "p", limit: 5),
                Query(partitionKey: "p", ascending: false, limit: 7),
                Query(partitionKey: "p", sortKey: .beginsWith("s1"), limit: 3),
                Query(partitionKey: "p", sortKey: .between("s05", "s25"), ascending: false, limit: 4),
                Query(partitionKey: "p", limit: 6, filter: .greater("n", 50)),
                Query(index: "byScore", partitionKey: "g", limit: 4),
                Query(index: "keysOnly", partitionKey: "k", ascending: false, limit: 5),
            ]
            // The same operations on every run, so a failure reproduces.
            var generator = SeededGenerator(seed: 0x5EED_CAC4E)
            for round in 0..<120 {
                let sk = AttributeValue.s(String(format: "s%02d", generator.below(30)))
                switch generator.below(5) {
                case 0, 1:
                    try await plain.putItem(["PK": "p", "SK": sk, "n": .int(Int64(generator.below(100))), "group": "g",
                                             "score": .int(Int64(generator.below(10))), "kind": "k", "round": .int(Int64(round))])
                case 2:
                    try await plain.deleteItem(key: ["PK": "p", "SK": sk])
                case 3:
                    // Leaves the indexes: the item stays in the table, out of byScore and keysOnly.
                    try await plain.updateItem(key: ["PK": "p", "SK": sk], actions: [.remove("group"), .remove("kind"), .add("n", 1)])
                default:
                    try await plain.updateItem(key: ["PK": "p", "SK": sk], actions: [.add("n", 7), .set("round", .value(.int(Int64(round))))])
                }
                for query in queries {
                    let expected = try await allPages(plain, query)
                    // The second read of each page is answered from the page cache when nothing changed.
                    for _ in 0..<2 {
                        let got = try await allPages(cached, query)
                        #expect(got == expected, "round \(round), query \(query)")
                    }
                }
            }
            let counts = try await cached.pageCacheCounts()
            // Without the cache there are no hits; with it, at least every second read of an unchanged page is one.
            #expect(counts.hits > counts.misses / 2, "hits \(counts.hits), misses \(counts.misses)")
        }
    }

    @Test func theCacheIsOffWithTheDecodedItemCache() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteItemStore(url: directory.appendingPathComponent("off.sqlite"), schema: .singleTable,
                                                  configuration: .init(readerCount: 1, decodedItemCacheMiB: 0), logger: testLogger)
            defer { store.close() }
            for i in 0..<5 { try await store.putItem(["PK": "p", "SK": .s("s\(i)")]) }
            for _ in 0..<3 { #expect(try await store.query(Query(partitionKey: "p", limit: 2)).items.count == 2) }
            let counts = try await store.pageCacheCounts()
            #expect(counts.hits == 0 && counts.misses == 0)
        }
    }

    @Test func scansAreNotRemembered() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteItemStore(url: directory.appendingPathComponent("scan.sqlite"), schema: .singleTable,
                                                  configuration: .init(readerCount: 1), logger: testLogger)
            defer { store.close() }
            for i in 0..<5 { try await store.putItem(["PK": .s("p\(i)"), "SK": "s"]) }
            for _ in 0..<3 { #expect(try await store.scan(Scan(limit: 2)).items.count == 2) }
            let counts = try await store.pageCacheCounts()
            #expect(counts.hits == 0 && counts.misses == 0)
        }
    }
}
