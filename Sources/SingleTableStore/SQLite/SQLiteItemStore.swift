public import Foundation
public import Logging
internal import Synchronization
internal import VideoCore

/// The embedded ``ItemStore``: one SQLite file in WAL mode (or a database in memory, for tests).
///
/// - One writer thread owns the only writing connection. Writes queue up and are committed in
///   groups: each write runs in its own savepoint (so a failed condition undoes only that write)
///   and one commit (one fsync with ``SQLiteStoreConfiguration/Durability/full``) acknowledges the
///   whole group. Writes are therefore serialized, which makes conditions and counters exact.
/// - Reader threads, each with its own connection, serve gets, queries, scans and the change
///   feed concurrently with the writer; WAL gives each read a consistent snapshot.
/// - No SQLite call ever runs on Swift's cooperative thread pool.
/// - An SQLite failure throws a `VideoStackError` whose cause is an ``SQLiteError``: the
///   ``SQLiteResultCode`` (catch it by pattern, `catch SQLiteResultCode.busy`) and the statement.
///
/// ```swift
/// let store = try await SQLiteItemStore(url: URL(fileURLWithPath: "videostack.sqlite"), schema: .singleTable, logger: logger)
/// try await store.putItem(["PK": "USER#ada", "SK": "USER#ada", "email": "ada@example.com"])
/// ```
public final class SQLiteItemStore: ItemStore {
    public let schema: TableSchema
    /// The database file; nil for a store in memory (``inMemory(schema:configuration:logger:)``).
    public let url: URL?
    private let location: SQLiteLocation
    private let writer: BlockingThreadPool<SQLiteWriter>
    private let readers: BlockingThreadPool<SQLiteReader>
    private let pending = Mutex<[PendingWrite]>([])
    private let logger: Logger
    private let layout: TableLayout

    /// Opens (creating if needed) the database file at `url`, migrating its schema to this version
    /// and bringing its secondary indexes in line with `schema` (new indexes are backfilled).
    ///
    /// - Parameters:
    ///   - url: a file URL; the file is created if missing, its directory must exist.
    ///   - schema: the table's keys and secondary indexes.
    ///   - configuration: readers, durability, change retention, busy timeout, clock and caches.
    ///   - logger: where the store reports migrations, index builds, trimming and failed
    ///     commits; the task's logger by default.
    /// - Throws: `invalidInput` for a URL that is not a file URL or a file created with other
    ///   key attributes, `corrupt` if it is not an SQLite database, `unsupported` if a newer
    ///   VideoStack wrote it, `io` if it cannot be opened.
    public convenience init(url: URL, schema: TableSchema, configuration: SQLiteStoreConfiguration = .init(), logger: Logger = Logger.current) async throws {
        guard url.isFileURL else {
            throw VideoStackError(.invalidInput, "An SQLite item store needs a file URL; got '\(url.absoluteString.prefix(200))'. Use URL(fileURLWithPath:).")
        }
        try self.init(location: .file(path: url.path), url: url, schema: schema, configuration: configuration, logger: logger)
    }

    /// A new, empty store that lives in memory until it is closed: for tests and tools.
    ///
    /// It runs the same code as a file store, with a writer thread and reader threads on
    /// connections of their own to one database that only this store can reach. The one
    /// difference: memory has no WAL, so reads wait while a group of writes commits instead of
    /// reading the previous snapshot (what they return is the same).
    public static func inMemory(schema: TableSchema, configuration: SQLiteStoreConfiguration = .init(), logger: Logger = Logger.current) async throws -> SQLiteItemStore {
        try SQLiteItemStore(location: .memory(name: "videostack-\(UUID().uuidString)"), url: nil, schema: schema,
                            configuration: configuration, logger: logger)
    }

    private init(location: SQLiteLocation, url: URL?, schema: TableSchema, configuration: SQLiteStoreConfiguration, logger: Logger) throws {
        try schema.validate()
        self.schema = schema
        self.url = url
        self.location = location
        self.logger = logger
        let synchronous = configuration.durability == .full ? "FULL" : "NORMAL"
        let cache = configuration.cacheSizeKiB
        let mmap = configuration.mmapSizeMiB << 20
        let cacheBudget = configuration.decodedItemCacheMiB << 20
        let retention = configuration.changeRetention
        let busyTimeout = configuration.busyTimeout
        let clock = configuration.clock
        // The writer opens first: it creates the file, runs migrations and learns the index ids.
        let layoutBox = Mutex<TableLayout?>(nil)
        writer = try BlockingThreadPool(name: "SQLiteItemStore.writer", threads: 1) { _ in
            let connection = try SQLiteConnection(location, mode: .writer, busyTimeout: busyTimeout)
            try connection.execute("PRAGMA synchronous = \(synchronous); PRAGMA cache_size = -\(cache); PRAGMA wal_autocheckpoint = 4000; PRAGMA mmap_size = \(mmap)")
            let migration = try Migrations.run(on: connection)
            let created = migration?.from == 0
            if let migration {
                // A new file is no news; an existing one changing its format is.
                logger.log(level: created ? .debug : .info, created ? "created the database" : "migrated the database schema",
                           metadata: ["database": "\(location)", "from": "\(migration.from)", "to": "\(migration.to)"])
            }
            let reconciled = try Migrations.reconcile(schema: schema, on: connection)
            if !created && (!reconciled.built.isEmpty || !reconciled.dropped.isEmpty) {
                logger.info("brought the secondary indexes in line with the schema", metadata: [
                    "database": "\(location)", "built": "\(reconciled.built)", "dropped": "\(reconciled.dropped)",
                    "itemsScanned": "\(reconciled.itemsScanned)",
                ])
            }
            let layout = TableLayout(schema: schema, indexIDs: reconciled.indexIDs)
            layoutBox.withLock { $0 = layout }
            return SQLiteWriter(connection: connection, layout: layout, retention: retention, clock: clock)
        }
        let layout = layoutBox.withLock { $0 }!
        self.layout = layout
        do {
            readers = try BlockingThreadPool(name: "SQLiteItemStore.reader", threads: max(1, configuration.readerCount)) { _ in
                let connection = try SQLiteConnection(location, mode: .reader, busyTimeout: busyTimeout)
                // Memory-mapped reads skip a pread and a copy for every page.
                try connection.execute("PRAGMA cache_size = -\(cache); PRAGMA mmap_size = \(mmap)")
                return SQLiteReader(connection: connection, layout: layout, cache: DecodedItemCache(budget: cacheBudget),
                                    pageCache: PageCache(budget: cacheBudget / 4))
            }
        } catch {
            writer.shutdown()
            throw error
        }
        logger.debug("opened item store", metadata: ["database": "\(location)", "indexes": "\(schema.indexes.map(\.name))"])
    }

    /// The executor of the store's reader threads.
    ///
    /// Code that runs under `withTaskExecutorPreference(store.readExecutor) { … }` executes on
    /// those threads, and its reads (gets, queries, scans, the change feed) then run inline
    /// with the thread's own connection instead of hopping to a reader and back: the lowest
    /// latency the store offers, with SQLite still kept off Swift's cooperative pool. Writes
    /// still go to the writer thread.
    public var readExecutor: any TaskExecutor { readers }

    /// ``readExecutor``.
    public var preferredReadExecutor: (any TaskExecutor)? { readers }

    /// Finishes queued work and closes every connection. Later calls fail with `cancelled`.
    public func close() {
        readers.shutdown()
        writer.shutdown()
    }

    deinit {
        close()
    }

    // MARK: Group commit

    /// A queued write. Only the writer thread touches `outcome` before `finish` runs.
    private final class PendingWrite: @unchecked Sendable {
        // @unchecked Sendable: `execute` runs on the writer thread, then `finish` on the same
        // thread (or on the enqueuing thread when the pool refused the job and execute never ran).
        let execute: (SQLiteWriter) -> Bool
        let finish: ((any Error)?) -> Void

        init(execute: @escaping (SQLiteWriter) -> Bool, finish: @escaping ((any Error)?) -> Void) {
            self.execute = execute
            self.finish = finish
        }
    }

    private final class Outcome<T>: @unchecked Sendable {
        // @unchecked Sendable: written by `execute` and read by `finish`, in that order, on one thread.
        var result: Result<T, any Error>?
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteWriter) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Outcome<T>()
            let pendingWrite = PendingWrite(
                execute: { writer in
                    let result = Result { try body(writer) }
                    outcome.result = result
                    if case .success = result { return true }
                    return false
                },
                finish: { failure in
                    // A failed commit (or a closed store) fails every write that had succeeded.
                    switch (outcome.result, failure) {
                    case (let result?, nil): continuation.resume(with: result)
                    case (.failure(let error)?, _): continuation.resume(throwing: error)
                    case (_, let failure?): continuation.resume(throwing: failure)
                    case (nil, nil): continuation.resume(throwing: VideoStackError(.internal, "A write finished without running."))
                    }
                })
            pending.withLock { $0.append(pendingWrite) }
            let accepted = writer.submit { [weak self] writer in self?.flush(writer) }
            if !accepted {
                let orphans = pending.withLock { queue -> [PendingWrite] in
                    defer { queue.removeAll() }
                    return queue
                }
                let closed = VideoStackError(.cancelled, "The store \(location) is closed.")
                for orphan in orphans { orphan.finish(closed) }
            }
        }
    }

    /// Commits every queued write in one transaction. Runs on the writer thread.
    private func flush(_ writer: SQLiteWriter) {
        let batch = pending.withLock { queue -> [PendingWrite] in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        guard !batch.isEmpty else { return }
        let connection = writer.connection
        var failure: (any Error)?
        do {
            try connection.run("BEGIN IMMEDIATE")
            for write in batch {
                try connection.run("SAVEPOINT w")
                if !write.execute(writer) {
                    // A failed write undoes only its own savepoint.
                    try connection.run("ROLLBACK TO w")
                }
                try connection.run("RELEASE w")
            }
            let trimmed = try writer.trimChangesIfDue()
            try connection.run("COMMIT")
            if trimmed > 0 {
                logger.debug("trimmed the change feed to its retention window", metadata: ["database": "\(location)", "changes": "\(trimmed)"])
            }
        } catch {
            failure = error
            try? connection.run("ROLLBACK")
            logger.error("commit failed; the writes of this group are reported as failed", metadata: [
                "database": "\(location)", "writes": "\(batch.count)", "error": "\(error)",
            ])
        }
        for write in batch { write.finish(failure) }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteReader) throws -> T) async throws -> T {
        try await readers.run(body)
    }

    // MARK: ItemStore

    @discardableResult
    public func putItem(_ item: Item, condition: Condition?, returnOld: Bool) async throws -> Item? {
        try await write { try $0.put(item, condition: condition, returnOld: returnOld) }
    }

    public func getItem(key: Item) async throws -> Item? {
        let primary = try layout.primaryKey(ofKey: key)
        // The hottest reads skip building a job when they already run on a reader thread.
        if let reader = readers.currentContext { return try reader.get(primary) }
        return try await read { try $0.get(primary) }
    }

    @discardableResult
    public func updateItem(key: Item, actions: [UpdateAction], condition: Condition?, returnValues: ReturnValues) async throws -> Item? {
        try await write { try $0.update(key: key, actions: actions, condition: condition, returnValues: returnValues) }
    }

    @discardableResult
    public func deleteItem(key: Item, condition: Condition?, returnOld: Bool) async throws -> Item? {
        try await write { try $0.delete(key: key, condition: condition, returnOld: returnOld) }
    }

    public func query(_ query: Query) async throws -> Page {
        if let reader = readers.currentContext { return try reader.query(query) }
        return try await read { try $0.query(query) }
    }

    public func scan(_ scan: Scan) async throws -> Page {
        try await read { try $0.scan(scan) }
    }

    public func batchGet(keys: [Item]) async throws -> [Item] {
        guard (1...StoreLimits.maximumBatchGetKeys).contains(keys.count) else {
            throw VideoStackError(.limitExceeded, "A batch get takes 1 to \(StoreLimits.maximumBatchGetKeys) keys; got \(keys.count).")
        }
        return try await read { reader in
            let primaries = try keys.map { try reader.layout.primaryKey(ofKey: $0) }
            guard Set(primaries).count == primaries.count else {
                throw VideoStackError(.invalidInput, "A batch get names the same key twice; each key may appear once.")
            }
            return try reader.batchGet(primaries)
        }
    }

    public func batchWrite(_ requests: [WriteRequest]) async throws {
        try await write { try $0.batchWrite(requests) }
    }

    public func transactWrite(_ actions: [TransactAction]) async throws {
        try await write { try $0.transact(actions) }
    }

    public func changes(after cursor: ChangeCursor?, limit: Int) async throws -> [Change] {
        try await read { try $0.changes(after: cursor, limit: limit) }
    }

    public func latestChangeCursor() async throws -> ChangeCursor? {
        try await read { try $0.latestChangeCursor() }
    }

    /// The page cache counters of the reader that runs this call (tests open one reader).
    func pageCacheCounts() async throws -> (hits: Int, misses: Int) {
        try await read { ($0.pageCache.hits, $0.pageCache.misses) }
    }

    /// Runs SQLite's `PRAGMA integrity_check` and returns its findings (`["ok"]` when healthy).
    public func integrityCheck() async throws -> [String] {
        try await read { reader in
            let statement = try reader.connection.statement("PRAGMA integrity_check")
            defer { statement.reset() }
            var rows: [String] = []
            while try statement.step() { rows.append(statement.text(0)) }
            return rows
        }
    }
}
