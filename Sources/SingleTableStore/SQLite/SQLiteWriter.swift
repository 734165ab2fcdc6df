internal import Foundation
internal import VideoCore

/// The writer thread's state: its connection and the logic of every write. Each write runs
/// inside a savepoint of a group-commit transaction opened by ``SQLiteItemStore``.
final class SQLiteWriter {
    let connection: SQLiteConnection
    let layout: TableLayout
    private var writesSinceTrim = 0
    let retention: Duration?
    /// The wall clock that dates changes and decides which are past the retention window.
    private let clock: @Sendable () -> Date

    init(connection: SQLiteConnection, layout: TableLayout, retention: Duration?, clock: @escaping @Sendable () -> Date) {
        self.connection = connection
        self.layout = layout
        self.retention = retention
        self.clock = clock
    }

    // MARK: Reading inside the transaction

    /// The current item and its stored bytes.
    func current(_ key: TableLayout.PrimaryKey) throws -> (item: Item, bytes: [UInt8])? {
        try connection.withStoredItem(key) { blob in (try ItemCodec.decode(blob), Array(blob)) }
    }

    // MARK: Writing

    /// Replaces (or removes, when `new` is nil) one item: row, index entries and change record.
    ///
    /// The change record goes first: its sequence number, which SQLite's AUTOINCREMENT never
    /// hands out twice in a file (whichever process writes, whatever was trimmed), becomes the
    /// stored item's write id, so ids cost no counter of their own.
    func write(key: TableLayout.PrimaryKey, old: (item: Item, bytes: [UInt8])?, new: Item?) throws {
        var stored: [UInt8]? = nil
        if let new {
            let encoded = ItemCodec.encode(new, writeID: 0)
            // A write that changes nothing leaves no trace, as in DynamoDB Streams.
            if let old, ItemCodec.body(of: old.bytes) == ItemCodec.body(of: encoded) { return }
            stored = encoded
        } else if old == nil {
            return  // Deleting nothing changes nothing and records no change.
        }

        let record = try connection.statement("INSERT INTO changes (at, kind, key, old, new) VALUES (?, ?, ?, ?, ?)")
        let kind: Int64 = old == nil ? 0 : (new == nil ? 2 : 1)
        try record.bind(1, clock().timeIntervalSince1970)
        try record.bind(2, kind)
        try record.bind(3, copying: ItemCodec.encode(layout.keyItem(of: new ?? old!.item)))
        if let old { try record.bind(4, copying: old.bytes) }
        if let stored { try record.bind(5, copying: stored) }
        _ = try record.step()
        record.reset()
        writesSinceTrim += 1

        if var stored {
            ItemCodec.setWriteID(UInt64(connection.lastInsertRowID), in: &stored)
            let upsert = try connection.statement("INSERT OR REPLACE INTO items (pk, sk, item) VALUES (?, ?, ?)")
            defer { upsert.reset() }
            try key.pk.withUnsafeBytes { pk in
                try key.sk.withUnsafeBytes { sk in
                    try stored.withUnsafeBytes { data in
                        try upsert.bind(1, pk)
                        try upsert.bind(2, sk)
                        try upsert.bind(3, data)
                        _ = try upsert.step()
                    }
                }
            }
        } else {
            let delete = try connection.statement("DELETE FROM items WHERE pk = ? AND sk = ?")
            defer { delete.reset() }
            try delete.bind(1, copying: key.pk)
            try delete.bind(2, copying: key.sk)
            _ = try delete.step()
        }

        for index in layout.schema.indexes {
            let before = try old.flatMap { try layout.indexKey(of: $0.item, in: index) }
            let after = try new.flatMap { try layout.indexKey(of: $0, in: index) }
            guard before != after else { continue }
            let id = layout.indexIDs[index.name]!
            if let before {
                let delete = try connection.statement("DELETE FROM index_entries WHERE idx = ? AND ipk = ? AND isk = ? AND pk = ? AND sk = ?")
                defer { delete.reset() }
                try bindEntry(delete, id, before, key)
                _ = try delete.step()
            }
            if let after {
                let insert = try connection.statement("INSERT INTO index_entries (idx, ipk, isk, pk, sk) VALUES (?, ?, ?, ?, ?)")
                defer { insert.reset() }
                try bindEntry(insert, id, after, key)
                _ = try insert.step()
            }
        }
    }

    private func bindEntry(_ statement: SQLiteStatement, _ id: Int64, _ entry: TableLayout.IndexKey, _ key: TableLayout.PrimaryKey) throws {
        try statement.bind(1, id)
        try statement.bind(2, copying: entry.ipk)
        try statement.bind(3, copying: entry.isk)
        try statement.bind(4, copying: key.pk)
        try statement.bind(5, copying: key.sk)
    }

    /// How many change records are written between two trims of the feed.
    static let trimInterval = 1000

    /// Drops changes older than the retention window, every ``trimInterval`` changes (inside
    /// the current transaction).
    /// - Returns: how many changes it dropped.
    func trimChangesIfDue() throws -> Int {
        guard let retention, writesSinceTrim >= Self.trimInterval else { return 0 }
        writesSinceTrim = 0
        let cutoff = clock().timeIntervalSince1970 - retention / .seconds(1)
        // The oldest changes go first: walk from the start of the feed to the first change still
        // inside the window (the walk visits only what is about to be deleted, so `at` needs no index).
        let oldest = try connection.statement("SELECT min(seq), max(seq) FROM changes")
        let bounds = try oldest.step() && !oldest.isNull(0) ? (first: oldest.int64(0), last: oldest.int64(1)) : nil
        oldest.reset()
        guard let bounds else { return 0 }
        let kept = try connection.statement("SELECT seq FROM changes WHERE at >= ? ORDER BY seq LIMIT 1")
        try kept.bind(1, cutoff)
        let firstKept = try kept.step() ? kept.int64(0) : nil
        kept.reset()
        let trimmedThrough = firstKept.map { $0 - 1 } ?? bounds.last
        guard trimmedThrough >= bounds.first else { return 0 }
        let delete = try connection.statement("DELETE FROM changes WHERE seq <= ?")
        try delete.bind(1, trimmedThrough)
        _ = try delete.step()
        delete.reset()
        let trimmed = connection.changedRows
        let mark = try connection.statement("INSERT OR REPLACE INTO meta (name, value) VALUES ('trimmedThrough', ?)")
        try mark.bind(1, copying: Array(String(trimmedThrough).utf8))
        _ = try mark.step()
        mark.reset()
        return trimmed
    }

    // MARK: Operations

    func put(_ item: Item, condition: Condition?, returnOld: Bool) throws -> Item? {
        let key = try layout.validateForWrite(item)
        try condition?.validate()
        let old = try current(key)
        if let condition, !condition.evaluate(old?.item) {
            throw VideoStackError(.conditionFailed, "The put's condition did not hold for the item \(layout.keyItem(of: item)); nothing was written.")
        }
        try write(key: key, old: old, new: item)
        return returnOld ? old?.item : nil
    }

    func update(key keyItem: Item, actions: [UpdateAction], condition: Condition?, returnValues: ReturnValues) throws -> Item? {
        let key = try layout.primaryKey(ofKey: keyItem)
        try condition?.validate()
        let old = try current(key)
        if let condition, !condition.evaluate(old?.item) {
            throw VideoStackError(.conditionFailed, "The update's condition did not hold for the item \(keyItem); nothing was written.")
        }
        let new = try actions.apply(to: old?.item, key: keyItem, keyNames: layout.keyNames)
        _ = try layout.validateForWrite(new)
        try write(key: key, old: old, new: new)
        let touched = Set(actions.map(\.path.root))
        switch returnValues {
        case .none: return nil
        case .allOld: return old?.item
        case .allNew: return new
        case .updatedOld: return old.map { $0.item.filter { touched.contains($0.key) } }
        case .updatedNew: return new.filter { touched.contains($0.key) }
        }
    }

    func delete(key keyItem: Item, condition: Condition?, returnOld: Bool) throws -> Item? {
        let key = try layout.primaryKey(ofKey: keyItem)
        try condition?.validate()
        let old = try current(key)
        if let condition, !condition.evaluate(old?.item) {
            throw VideoStackError(.conditionFailed, "The delete's condition did not hold for the item \(keyItem); nothing was deleted.")
        }
        try write(key: key, old: old, new: nil)
        return returnOld ? old?.item : nil
    }

    func batchWrite(_ requests: [WriteRequest]) throws {
        guard (1...StoreLimits.maximumBatchWrites).contains(requests.count) else {
            throw VideoStackError(.limitExceeded, "A batch write takes 1 to \(StoreLimits.maximumBatchWrites) requests; got \(requests.count).")
        }
        var planned: [(TableLayout.PrimaryKey, Item?)] = []
        var seen = Set<TableLayout.PrimaryKey>()
        for request in requests {
            let (key, item): (TableLayout.PrimaryKey, Item?) = switch request {
            case .put(let item): (try layout.validateForWrite(item), item)
            case .delete(let key): (try layout.primaryKey(ofKey: key), nil)
            }
            guard seen.insert(key).inserted else {
                throw VideoStackError(.invalidInput, "A batch write names the same item twice; each item may appear once.")
            }
            planned.append((key, item))
        }
        for (key, item) in planned {
            try write(key: key, old: try current(key), new: item)
        }
    }

    func transact(_ actions: [TransactAction]) throws {
        guard (1...StoreLimits.maximumTransactionActions).contains(actions.count) else {
            throw VideoStackError(.limitExceeded, "A transaction takes 1 to \(StoreLimits.maximumTransactionActions) actions; got \(actions.count).")
        }
        // A malformed request is the caller's bug and fails as a whole, like DynamoDB's
        // ValidationException; only what depends on the items' state becomes a cancellation reason.
        var keys: [TableLayout.PrimaryKey] = []
        var seen = Set<TableLayout.PrimaryKey>()
        for action in actions {
            let key: TableLayout.PrimaryKey
            switch action {
            case .put(let item, let condition):
                key = try layout.validateForWrite(item)
                try condition?.validate()
            case .update(let k, _, let condition), .delete(let k, let condition):
                key = try layout.primaryKey(ofKey: k)
                try condition?.validate()
            case .conditionCheck(let k, let condition):
                key = try layout.primaryKey(ofKey: k)
                try condition.validate()
            }
            guard seen.insert(key).inserted else {
                throw VideoStackError(.invalidInput, "A transaction cannot include more than one action on the same item (\(layout.keyItem(of: action.keyItem))).")
            }
            keys.append(key)
        }

        // Decide every action before writing any, so the reasons cover all of them.
        var reasons: [CancellationReason] = []
        var planned: [(key: TableLayout.PrimaryKey, old: (item: Item, bytes: [UInt8])?, new: Item?)] = []
        var failed = false
        for (action, key) in zip(actions, keys) {
            let old = try current(key)
            if let condition = action.condition, !condition.evaluate(old?.item) {
                reasons.append(.conditionalCheckFailed(old?.item))
                failed = true
                continue
            }
            do {
                switch action {
                case .put(let item, _):
                    planned.append((key, old, item))
                case .update(let k, let updates, _):
                    let new = try updates.apply(to: old?.item, key: k, keyNames: layout.keyNames)
                    _ = try layout.validateForWrite(new)
                    planned.append((key, old, new))
                case .delete:
                    planned.append((key, old, nil))
                case .conditionCheck:
                    break
                }
                reasons.append(.none)
            } catch let error as VideoStackError {
                reasons.append(.validationError(error.message))
                failed = true
            }
        }
        if failed {
            let summary = reasons.enumerated().filter { $0.element != .none }.map { "action \($0.offset + 1): \($0.element)" }.joined(separator: "; ")
            throw VideoStackError(.transactionCanceled, "The transaction was cancelled and nothing was written (\(summary)).",
                                  cause: TransactionCancellation(reasons: reasons))
        }
        for step in planned {
            try write(key: step.key, old: step.old, new: step.new)
        }
    }
}

extension TransactAction {
    var condition: Condition? {
        switch self {
        case .put(_, let c), .update(_, _, let c), .delete(_, let c): c
        case .conditionCheck(_, let c): c
        }
    }

    var keyItem: Item {
        switch self {
        case .put(let item, _): item
        case .update(let k, _, _), .delete(let k, _), .conditionCheck(let k, _): k
        }
    }
}
