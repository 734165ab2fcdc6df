internal import Foundation
internal import VideoCore

/// Versioned schema migrations of the SQLite file, tracked in `PRAGMA user_version`.
/// Append new steps; never edit a released one.
enum Migrations {
    static let steps: [String] = [
        // 1: items, secondary index entries, the change feed, and metadata.
        """
        CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
        CREATE TABLE items (pk BLOB NOT NULL, sk BLOB NOT NULL, item BLOB NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID;
        CREATE TABLE indexes (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, definition BLOB NOT NULL);
        CREATE TABLE index_entries (idx INTEGER NOT NULL, ipk BLOB NOT NULL, isk BLOB NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL,
            PRIMARY KEY (idx, ipk, isk, pk, sk)) WITHOUT ROWID;
        CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, kind INTEGER NOT NULL,
            key BLOB NOT NULL, old BLOB, new BLOB);
        CREATE INDEX changes_at ON changes (at);
        """,
        // 2: write ids are the change feed's sequence numbers: carry the old counter over so no
        // id is handed out twice, and drop the index on change times (trimming walks from the
        // oldest change instead).
        """
        INSERT INTO sqlite_sequence (name, seq) SELECT 'changes', 0
            WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'changes') AND EXISTS (SELECT 1 FROM meta WHERE name = 'writeCounter');
        UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT CAST(CAST(value AS TEXT) AS INTEGER) FROM meta WHERE name = 'writeCounter'), 0))
            WHERE name = 'changes';
        DELETE FROM meta WHERE name = 'writeCounter';
        DROP INDEX changes_at;
        """,
    ]

    /// Brings the file to the newest version, inside one transaction.
    /// - Returns: the versions it migrated from and to; nil when the file was up to date.
    @discardableResult
    static func run(on connection: SQLiteConnection) throws -> (from: Int, to: Int)? {
        let statement = try connection.statement("PRAGMA user_version")
        defer { statement.reset() }
        _ = try statement.step()
        let current = Int(statement.int64(0))
        statement.reset()
        guard current <= steps.count else {
            throw VideoStackError(.unsupported, "The database \(connection.location) has schema version \(current), newer than this VideoStack knows (\(steps.count)). Upgrade VideoStack to open it.")
        }
        guard current < steps.count else { return nil }
        try connection.execute("BEGIN IMMEDIATE")
        do {
            for version in current..<steps.count {
                try connection.execute(steps[version])
            }
            try connection.execute("PRAGMA user_version = \(steps.count)")
            try connection.execute("COMMIT")
            return (current, steps.count)
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// What ``reconcile(schema:on:)`` found and did.
    struct Reconciliation {
        /// Row id of each index of the schema.
        var indexIDs: [String: Int64]
        /// Indexes that were new or redefined, and so were filled from every item.
        var built: [String] = []
        /// Indexes of the file that the schema no longer has, whose entries were deleted.
        var dropped: [String] = []
        /// Items read to fill the built indexes.
        var itemsScanned = 0
    }

    /// Stores the schema on first open; on later opens checks the key attributes and brings the
    /// secondary indexes in line with `schema` (new ones are backfilled, dropped ones removed).
    static func reconcile(schema: TableSchema, on connection: SQLiteConnection) throws -> Reconciliation {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try connection.execute("BEGIN IMMEDIATE")
        do {
            let read = try connection.statement("SELECT value FROM meta WHERE name = 'keys'")
            let stored: [KeyAttribute]? = try read.step() ? try JSONDecoder().decode([KeyAttribute].self, from: Data(read.bytes(0))) : nil
            read.reset()
            let keys = [schema.partitionKey] + (schema.sortKey.map { [$0] } ?? [])
            if let stored {
                guard stored == keys else {
                    throw VideoStackError(.invalidInput, "The database \(connection.location) was created with keys \(stored.map { "\($0.name) (\($0.type.rawValue))" }.joined(separator: ", ")), not \(keys.map { "\($0.name) (\($0.type.rawValue))" }.joined(separator: ", ")). Open it with its original key schema.")
                }
            } else {
                let write = try connection.statement("INSERT INTO meta (name, value) VALUES ('keys', ?)")
                try write.bind(1, copying: Array(try encoder.encode(keys)))
                _ = try write.step()
                write.reset()
            }

            var existing: [String: (id: Int64, definition: [UInt8])] = [:]
            let list = try connection.statement("SELECT id, name, definition FROM indexes")
            while try list.step() {
                existing[list.text(1)] = (list.int64(0), list.bytes(2))
            }
            list.reset()

            var ids: [String: Int64] = [:]
            var rebuild: [SecondaryIndex] = []
            for index in schema.indexes {
                let definition = Array(try encoder.encode(index))
                if let found = existing.removeValue(forKey: index.name) {
                    ids[index.name] = found.id
                    if found.definition != definition {
                        try deleteEntries(of: found.id, on: connection)
                        let update = try connection.statement("UPDATE indexes SET definition = ? WHERE id = ?")
                        try update.bind(1, copying: definition)
                        try update.bind(2, found.id)
                        _ = try update.step()
                        update.reset()
                        rebuild.append(index)
                    }
                } else {
                    let insert = try connection.statement("INSERT INTO indexes (name, definition) VALUES (?, ?)")
                    try insert.bind(1, index.name)
                    try insert.bind(2, copying: definition)
                    _ = try insert.step()
                    insert.reset()
                    ids[index.name] = connection.lastInsertRowID
                    rebuild.append(index)
                }
            }
            for dropped in existing.values {
                try deleteEntries(of: dropped.id, on: connection)
                let delete = try connection.statement("DELETE FROM indexes WHERE id = ?")
                try delete.bind(1, dropped.id)
                _ = try delete.step()
                delete.reset()
            }
            var result = Reconciliation(indexIDs: ids, built: rebuild.map(\.name), dropped: existing.keys.sorted())
            if !rebuild.isEmpty {
                result.itemsScanned = try backfill(rebuild, layout: TableLayout(schema: schema, indexIDs: ids), on: connection)
            }
            try connection.execute("COMMIT")
            return result
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    private static func deleteEntries(of id: Int64, on connection: SQLiteConnection) throws {
        let delete = try connection.statement("DELETE FROM index_entries WHERE idx = ?")
        try delete.bind(1, id)
        _ = try delete.step()
        delete.reset()
    }

    /// Adds every existing item to newly defined indexes; returns how many items it read.
    private static func backfill(_ indexes: [SecondaryIndex], layout: TableLayout, on connection: SQLiteConnection) throws -> Int {
        let scan = try connection.statement("SELECT pk, sk, item FROM items")
        let insert = try connection.statement("INSERT OR IGNORE INTO index_entries (idx, ipk, isk, pk, sk) VALUES (?, ?, ?, ?, ?)")
        defer { scan.reset(); insert.reset() }
        var scanned = 0
        while try scan.step() {
            scanned += 1
            let item = try ItemCodec.decode(scan.blob(2))
            for index in indexes {
                guard let key = try? layout.indexKey(of: item, in: index) else { continue }
                try insert.bind(1, layout.indexIDs[index.name]!)
                try insert.bind(2, copying: key.ipk)
                try insert.bind(3, copying: key.isk)
                try insert.bind(4, copying: scan.bytes(0))
                try insert.bind(5, copying: scan.bytes(1))
                _ = try insert.step()
                insert.reset()
            }
        }
        return scanned
    }
}
