// bench-store: SingleTableStore (SQLite backend) against the raw SQLite C API doing the
// equivalent statements on the same file layout, in the same run.
//
// Prints `RATIO store_<op> <ours/raw throughput> (…)`; above 1 means VideoStack is ahead.
// Both sides use WAL with synchronous=NORMAL, so the figures measure the code path, not fsync.
// Reads are headlined as one task on the store's read executor against one raw thread (the same
// parallelism, no thread hop on either side); the details show the other ways to call the store.
// Writes are headlined as one task against one raw thread too; the store does more per write
// than the raw upsert (it reads the old item and appends the change feed record), and the
// details show 16 concurrent tasks, whose writes share group commits.
// The machines are shared and noisy: every variant runs in several short rounds, interleaved
// with the others, and the median round counts.
import CSQLite
import Foundation
import SingleTableStore
import Synchronization

let itemCount = 20_000
let partitions = 500  // 40 items per partition, so a 20-item query reads half of one
let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 1.5
let rounds = 5
let concurrency = 16
/// BENCH_ONLY=get|query|put|transact runs one operation (for profiling).
let only = ProcessInfo.processInfo.environment["BENCH_ONLY"]
func enabled(_ name: String) -> Bool { only == nil || only == name }

func sampleItem(_ i: Int) -> Item {
    [
        "PK": .s("USER#user\(i % partitions)"), "SK": .s("#VIDEO#\(String(format: "%08d", i))"),
        "title": .s("A video about \(i) things, filmed in the mountains"), "owner": .s("user\(i % partitions)"),
        "status": "ready", "visibility": "public", "views": .int(Int64(i * 7)), "duration": .n(Number(floatLiteral: 93.5)),
        "createdAt": .int(1_700_000_000 + Int64(i)), "tags": ["travel", "mountains", "hiking"],
        "description": .s(String(repeating: "Some description text. ", count: 8)),
    ]
}

/// One way of doing an operation; `run` does a batch and returns how many operations it did.
/// With an `executor`, each whole round runs on it (one hop per round, as a server handler that
/// prefers the store's read executor stays there), not each batch.
struct Variant {
    let label: String
    var executor: (any TaskExecutor)? = nil
    let run: @Sendable () async throws -> Int
}

/// Runs every variant in `rounds` interleaved rounds of `seconds / rounds` each (after a warm-up)
/// and returns the median operations per second of each.
func compare(_ title: String, _ allVariants: [Variant]) async throws -> [Double] {
    print(title)
    // BENCH_VARIANT=N runs only the N-th variant (for profiling); the ratio is then meaningless.
    let variants = ProcessInfo.processInfo.environment["BENCH_VARIANT"].flatMap(Int.init).map { [allVariants[$0], allVariants[$0]] } ?? allVariants
    var samples = [[Double]](repeating: [], count: variants.count)
    for variant in variants { for _ in 0..<20 { _ = try await variant.run() } }
    for _ in 0..<rounds {
        for (index, variant) in variants.enumerated() {
            let run = variant.run
            let rate = try await withTaskExecutorPreference(variant.executor) {
                let start = ContinuousClock.now
                var operations = 0
                while ContinuousClock.now - start < .seconds(seconds / Double(rounds)) {
                    operations += try await run()
                }
                let elapsed = ContinuousClock.now - start
                return Double(operations) / (elapsed / .seconds(1))
            }
            samples[index].append(rate)
        }
    }
    let medians = samples.map { $0.sorted()[$0.count / 2] }
    for (variant, median) in zip(variants, medians) { print("  \(variant.label): \(Int(median)) ops/s (median of \(rounds))") }
    return medians
}

/// `body` from `concurrency` tasks at once, `perTask` times each.
func concurrently(_ perTask: Int, _ body: @escaping @Sendable () async throws -> Void) async throws -> Int {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask { for _ in 0..<perTask { try await body() } }
        }
        try await group.waitForAll()
    }
    return concurrency * perTask
}

/// `body` on 2 threads, each with its own raw connection, `perThread` times each. Blocks the
/// calling thread, which is acceptable in a benchmark and keeps the reference free of Swift
/// concurrency.
func onTwoThreads(_ perThread: Int, _ body: @escaping @Sendable (Raw) -> Void) -> Int {
    DispatchQueue.concurrentPerform(iterations: 2) { lane in
        let connection = rawConnections[lane]
        for _ in 0..<perThread { body(connection) }
    }
    return 2 * perThread
}

nonisolated(unsafe) var results: [String] = []

// Every write changes the item (a write that changes nothing is skipped by the store).
let writeCounter = Atomic<Int64>(0)
@Sendable func changedItem(_ i: Int) -> Item {
    var item = items[i]
    item["views"] = .int(writeCounter.add(1, ordering: .relaxed).newValue)
    return item
}
@Sendable func changedRawItem(_ i: Int) -> [UInt8] {
    var bytes = rawItems[i]
    withUnsafeBytes(of: writeCounter.add(1, ordering: .relaxed).newValue) { bytes.replaceSubrange(0..<8, with: $0) }
    return bytes
}

/// Records the `RATIO` line of one operation: ours (the first figure) over the raw reference (the
/// second), with every variant's figure as the details.
func ratio(_ name: String, _ figures: [Double], labels: [String]) {
    // figures[0] is ours (the headline), figures[1] the 1-thread raw reference; the rest are details.
    let details = zip(labels, figures).map { "\($0) \(Int($1)) ops/s" }.joined(separator: "; ")
    results.append(String(format: "RATIO %@ %.2f (", name, figures[0] / figures[1]) + details + ")")
}

// MARK: Raw SQLite reference

final class Raw: @unchecked Sendable {
    // @unchecked Sendable: each instance is used by one thread at a time.
    var db: OpaquePointer?
    var statements: [String: OpaquePointer] = [:]

    init(path: String) {
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384")
        exec("CREATE TABLE IF NOT EXISTS items (pk BLOB NOT NULL, sk BLOB NOT NULL, item BLOB NOT NULL, PRIMARY KEY (pk, sk)) WITHOUT ROWID")
    }

    func exec(_ sql: String) { sqlite3_exec(db, sql, nil, nil, nil) }

    func statement(_ sql: String) -> OpaquePointer {
        if let s = statements[sql] { return s }
        var s: OpaquePointer?
        sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        statements[sql] = s!
        return s!
    }

    func bind(_ s: OpaquePointer, _ i: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = sqlite3_bind_blob(s, i, $0.baseAddress, Int32($0.count), videostack_sqlite_transient()) }
    }

    func put(_ pk: [UInt8], _ sk: [UInt8], _ value: [UInt8]) {
        let s = statement("INSERT OR REPLACE INTO items (pk, sk, item) VALUES (?, ?, ?)")
        bind(s, 1, pk); bind(s, 2, sk); bind(s, 3, value)
        sqlite3_step(s)
        sqlite3_reset(s)
    }

    func get(_ pk: [UInt8], _ sk: [UInt8]) -> [UInt8]? {
        let s = statement("SELECT item FROM items WHERE pk = ? AND sk = ?")
        defer { sqlite3_reset(s) }
        bind(s, 1, pk); bind(s, 2, sk)
        guard sqlite3_step(s) == SQLITE_ROW else { return nil }
        return Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(s, 0), count: Int(sqlite3_column_bytes(s, 0))))
    }

    func query(_ pk: [UInt8], limit: Int) -> [[UInt8]] {
        let s = statement("SELECT item FROM items WHERE pk = ? ORDER BY sk LIMIT ?")
        defer { sqlite3_reset(s) }
        bind(s, 1, pk)
        sqlite3_bind_int64(s, 2, Int64(limit))
        var rows: [[UInt8]] = []
        while sqlite3_step(s) == SQLITE_ROW {
            rows.append(Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(s, 0), count: Int(sqlite3_column_bytes(s, 0)))))
        }
        return rows
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close_v2(db)
    }
}

/// The raw side stores the same bytes our store keeps for an item (a JSON rendering of the
/// same attributes, of similar size), so both move the same amount of data.
func rawBytes(_ item: Item) -> [UInt8] {
    Array(item.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "|").utf8)
}

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-store-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

print("bench-store: \(itemCount) items in \(partitions) partitions, \(rounds) rounds of \(seconds / Double(rounds)) s per variant, WAL + synchronous=NORMAL on both sides")
let store = try await SQLiteItemStore(url: directory.appendingPathComponent("ours.sqlite"), schema: .singleTable,
                                      configuration: .init(readerCount: 2, durability: .normal))
for start in stride(from: 0, to: itemCount, by: 25) {
    try await store.batchWrite((start..<min(start + 25, itemCount)).map { .put(sampleItem($0)) })
}
// The same file through a second store with the decoded-item cache off, to show what it buys.
let uncachedStore = try await SQLiteItemStore(url: directory.appendingPathComponent("ours.sqlite"), schema: .singleTable,
                                              configuration: .init(readerCount: 2, durability: .normal, decodedItemCacheMiB: 0))
let rawPath = directory.appendingPathComponent("raw.sqlite").path
let raw = Raw(path: rawPath)
let rawConnections = [Raw(path: rawPath), Raw(path: rawPath)]
raw.exec("BEGIN")
for i in 0..<itemCount {
    let item = sampleItem(i)
    raw.put(Array(item["PK"]!.string!.utf8), Array(item["SK"]!.string!.utf8), rawBytes(item))
}

raw.exec("COMMIT")

func randomIndex() -> Int { Int.random(in: 0..<itemCount) }

// Keys are made once, so both sides measure the store, not string formatting.
struct Key: Sendable { let item: Item; let pk: [UInt8]; let sk: [UInt8] }
let keys: [Key] = (0..<itemCount).map { i in
    let item = sampleItem(i)
    return Key(item: ["PK": item["PK"]!, "SK": item["SK"]!], pk: Array(item["PK"]!.string!.utf8), sk: Array(item["SK"]!.string!.utf8))
}
let items: [Item] = (0..<itemCount).map(sampleItem)
let rawItems: [[UInt8]] = items.map(rawBytes)
let partitionKeys: [(value: AttributeValue, bytes: [UInt8])] = (0..<partitions).map { ("USER#user\($0)" as String).withValue }

extension String {
    var withValue: (value: AttributeValue, bytes: [UInt8]) { (.s(self), Array(utf8)) }
}

// MARK: get
if enabled("get") {
    let f = try await compare("get (one item by key):", [
        Variant(label: "VideoStack, 1 task on the read executor", executor: store.readExecutor) { for _ in 0..<200 { _ = try await store.getItem(key: keys[randomIndex()].item) }; return 200 },
        Variant(label: "raw C API, 1 thread") { for _ in 0..<200 { let k = keys[randomIndex()]; _ = raw.get(k.pk, k.sk) }; return 200 },
        Variant(label: "raw C API, 2 threads") { onTwoThreads(200) { let k = keys[randomIndex()]; _ = $0.get(k.pk, k.sk) } },
        Variant(label: "VideoStack, 1 task") { for _ in 0..<50 { _ = try await store.getItem(key: keys[randomIndex()].item) }; return 50 },
        Variant(label: "VideoStack, \(concurrency) tasks") { try await concurrently(25) { _ = try await store.getItem(key: keys[randomIndex()].item) } },
        Variant(label: "VideoStack, 1 task on the read executor, decoded-item cache off", executor: uncachedStore.readExecutor) { for _ in 0..<200 { _ = try await uncachedStore.getItem(key: keys[randomIndex()].item) }; return 200 },
    ])
    ratio("store_get", f, labels: ["VideoStack from 1 task on the store's read executor", "raw C API on 1 thread", "raw C API on 2 threads",
                                   "VideoStack from 1 task on the cooperative pool (2 thread hops per read)", "VideoStack with \(concurrency) tasks on the cooperative pool",
                                   "VideoStack from 1 task on the read executor with the decoded-item cache off"])
}

// MARK: query
if enabled("query") {
    @Sendable func ours(_ s: SQLiteItemStore) async throws {
        let page = try await s.query(Query(partitionKey: partitionKeys[randomIndex() % partitions].value, limit: 20))
        precondition(page.items.count == 20)
    }
    let f = try await compare("query (20 items of one partition):", [
        Variant(label: "VideoStack, 1 task on the read executor", executor: store.readExecutor) { for _ in 0..<100 { try await ours(store) }; return 100 },
        Variant(label: "raw C API, 1 thread") { for _ in 0..<100 { _ = raw.query(partitionKeys[randomIndex() % partitions].bytes, limit: 20) }; return 100 },
        Variant(label: "raw C API, 2 threads") { onTwoThreads(100) { _ = $0.query(partitionKeys[randomIndex() % partitions].bytes, limit: 20) } },
        Variant(label: "VideoStack, 1 task") { for _ in 0..<20 { try await ours(store) }; return 20 },
        Variant(label: "VideoStack, \(concurrency) tasks") { try await concurrently(10) { try await ours(store) } },
        Variant(label: "VideoStack, 1 task on the read executor, decoded-item cache off", executor: uncachedStore.readExecutor) { for _ in 0..<100 { try await ours(uncachedStore) }; return 100 },
    ])
    ratio("store_query", f, labels: ["VideoStack from 1 task on the store's read executor", "raw C API on 1 thread", "raw C API on 2 threads",
                                     "VideoStack from 1 task on the cooperative pool (2 thread hops per query)", "VideoStack with \(concurrency) tasks on the cooperative pool",
                                     "VideoStack from 1 task on the read executor with the decoded-item cache off"])
}

// MARK: put
if enabled("put") {
    let f = try await compare("put (replace one item):", [
        Variant(label: "VideoStack, 1 task") { for _ in 0..<20 { try await store.putItem(changedItem(randomIndex())) }; return 20 },
        Variant(label: "raw C API, 1 thread") { for _ in 0..<100 { let i = randomIndex(); raw.put(keys[i].pk, keys[i].sk, changedRawItem(i)) }; return 100 },
        Variant(label: "VideoStack, \(concurrency) tasks") { try await concurrently(10) { try await store.putItem(changedItem(randomIndex())) } },
    ])
    ratio("store_put", f, labels: ["VideoStack from 1 task (read of the old item, upsert, change record; one commit each)",
                                   "raw C API on 1 thread (one autocommit INSERT OR REPLACE)",
                                   "VideoStack with \(concurrency) tasks (writes share group commits)"])
}

// MARK: transact
if enabled("transact") {
    @Sendable func pair() -> (Int, Int) {
        let a = randomIndex()
        return (a, (a + 1 + randomIndex() % (itemCount - 1)) % itemCount)
    }
    let f = try await compare("transaction (2 puts, all or nothing):", [
        Variant(label: "VideoStack, 1 task") { for _ in 0..<10 { let (a, b) = pair(); try await store.transactWrite([.put(changedItem(a)), .put(changedItem(b))]) }; return 10 },
        Variant(label: "raw C API, 1 thread") {
            for _ in 0..<50 {
                let (a, b) = pair()
                raw.exec("BEGIN IMMEDIATE")
                raw.put(keys[a].pk, keys[a].sk, changedRawItem(a))
                raw.put(keys[b].pk, keys[b].sk, changedRawItem(b))
                raw.exec("COMMIT")
            }
            return 50
        },
        Variant(label: "VideoStack, \(concurrency) tasks") { try await concurrently(5) { let (a, b) = pair(); try await store.transactWrite([.put(changedItem(a)), .put(changedItem(b))]) } },
    ])
    ratio("store_transact", f, labels: ["VideoStack from 1 task", "raw C API on 1 thread (BEGIN, 2 upserts, COMMIT)",
                                        "VideoStack with \(concurrency) tasks (transactions share group commits)"])
}

store.close()
uncachedStore.close()
for line in results { print(line) }
