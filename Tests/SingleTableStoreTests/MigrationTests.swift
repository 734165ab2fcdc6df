import Foundation
@testable import SingleTableStore
import Testing
import TestSupport
import VideoCore

/// Files written by an earlier schema version open, migrate and keep their guarantees.
@Suite("Schema migrations")
struct MigrationTests {
    /// The write id stored in the row of `key`, read with a connection of its own.
    private func writeID(_ path: String, pk: String, sk: String) throws -> UInt64? {
        let connection = try SQLiteConnection(.file(path: path), mode: .reader)
        return try connection.withStoredItem(.init(pk: Array(pk.utf8), sk: Array(sk.utf8))) { ItemCodec.writeID(of: $0) } ?? nil
    }

    @Test func writeIDsStayUniqueWhenTheCounterBecomesTheChangeSequence() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("old.sqlite").path
            do {
                let store = try await SQLiteItemStore(url: URL(fileURLWithPath: path), schema: .singleTable, logger: testLogger)
                for i in 0..<3 { try await store.putItem(["PK": "p", "SK": .s("old\(i)"), "v": .int(Int64(i))]) }
                store.close()
            }
            // Turn the file back into version 1, as the previous release left it: the index on
            // change times, and a write-id counter in `meta` that ran ahead of the feed (failed
            // writes used ids too).
            do {
                let connection = try SQLiteConnection(.file(path: path), mode: .writer)
                try connection.execute("""
                    CREATE INDEX changes_at ON changes (at);
                    INSERT OR REPLACE INTO meta (name, value) VALUES ('writeCounter', CAST('5000' AS BLOB));
                    PRAGMA user_version = 1;
                    """)
            }
            let store = try await SQLiteItemStore(url: URL(fileURLWithPath: path), schema: .singleTable, logger: testLogger)
            defer { store.close() }
            try await store.putItem(["PK": "p", "SK": "new", "v": 99])
            let id = try #require(try writeID(path, pk: "p", sk: "new"))
            #expect(id >= 5000, "a new write must not reuse an id the old counter handed out: got \(id)")
            // The old items read as before, and the migration left nothing of the old scheme.
            #expect(try await store.query(Query(partitionKey: "p")).items.count == 4)
            let check = try SQLiteConnection(.file(path: path), mode: .reader)
            let version = try check.statement("PRAGMA user_version")
            #expect(try version.step() && version.int64(0) == Int64(Migrations.steps.count))
            version.reset()
            let leftovers = try check.statement("SELECT count(*) FROM sqlite_master WHERE name = 'changes_at' UNION ALL SELECT count(*) FROM meta WHERE name = 'writeCounter'")
            defer { leftovers.reset() }
            while try leftovers.step() { #expect(leftovers.int64(0) == 0) }
            #expect(try await store.integrityCheck() == ["ok"])
        }
    }

    @Test func everyWriteGetsTheNextChangeSequenceNumberAsItsID() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("ids.sqlite").path
            let store = try await SQLiteItemStore(url: URL(fileURLWithPath: path), schema: .singleTable, logger: testLogger)
            defer { store.close() }
            try await store.putItem(["PK": "p", "SK": "a"])
            try await store.putItem(["PK": "p", "SK": "b"])
            try await store.putItem(["PK": "p", "SK": "a", "v": 1])
            let changes = try await store.changes(after: nil, limit: 10)
            #expect(changes.count == 3)
            let ids = [try writeID(path, pk: "p", sk: "b"), try writeID(path, pk: "p", sk: "a")]
            #expect(ids == [UInt64(changes[1].cursor.text), UInt64(changes[2].cursor.text)])
        }
    }
}
