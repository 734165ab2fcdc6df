// bench-store: SingleTableStore (SQLite backend) against the raw SQLite C API doing the
// equivalent statements on the same file layout, in the same run.
//
// Prints `RATIO store_<op> <ours/raw throughput> (…)`; above 1 means VideoStack is ahead.
// Both sides use WAL with synchronous=NORMAL, so the figures measure the code path, not fsync.
import CSQLite
import Foundation
import SingleTableStore
import Synchronization

let itemCount = 20_000
let partitions = 500  // 40 items per partition, so a 20-item query reads half of one
let seconds = Double(ProcessInfo.processInfo.environment["BENCH_SECONDS"] ?? "") ?? 2.0
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

/// Runs `body` repeatedly for about `seconds`; returns operations per second.
func measure(_ label: String, _ body: () async throws -> Int) async throws -> Double {
    // Warm up caches and statement caches first.
    for _ in 0..<200 { _ = try await body() }
    let start = ContinuousClock.now
    var operations = 0
    while ContinuousClock.now - start < .seconds(seconds) {
        operations += try await body()
    }
    let elapsed = ContinuousClock.now - start
    let perSecond = Double(operations) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    print("  \(label): \(Int(perSecond)) ops/s")
    return perSecond
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

print("bench-store: \(itemCount) items in \(partitions) partitions, ~\(Int(seconds)) s per measurement, WAL + synchronous=NORMAL on both sides")
let store = try await SQLiteItemStore(path: directory.appendingPathComponent("ours.sqlite").path, schema: .singleTable,
                                      configuration: .init(readerCount: 2, durability: .normal))
for start in stride(from: 0, to: itemCount, by: 25) {
    try await store.batchWrite((start..<min(start + 25, itemCount)).map { .put(sampleItem($0)) })
}
// The same file through a second store with the decoded-item cache off, to show what it buys.
let uncachedStore = try await SQLiteItemStore(path: directory.appendingPathComponent("ours.sqlite").path, schema: .singleTable,
                                              configuration: .init(readerCount: 2, durability: .normal, decodedItemCacheMiB: 0))
let rawPath = directory.appendingPathComponent("raw.sqlite").path
let raw = Raw(path: rawPath)
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

func ratio(_ name: String, _ ours: Double, _ sequential: Double, _ reference: Double, parallelReference: Double? = nil, uncached: Double? = nil) {
    var line = String(format: "RATIO %@ %.2f (VideoStack %d ops/s with %d concurrent tasks, %d ops/s from 1 task [%.2f]",
                      name, ours / reference, Int(ours), concurrency, Int(sequential), sequential / reference)
    if let uncached {
        line += String(format: ", %d ops/s with %d tasks and the decoded-item cache off [%.2f]", Int(uncached), concurrency, uncached / reference)
    }
    line += String(format: "; raw SQLite C API %d ops/s on 1 thread", Int(reference))
    if let parallelReference {
        line += String(format: ", %d ops/s on 2 threads with 2 connections [%.2f]", Int(parallelReference), ours / parallelReference)
    }
    results.append(line + ")")
}

/// The raw reference on 2 threads, each with its own connection, for about `seconds`.
func measureRawParallel(_ label: String, _ body: @escaping @Sendable (Raw) -> Void) -> Double {
    let counts = Mutex<[Int]>([0, 0])
    let start = ContinuousClock.now
    DispatchQueue.concurrentPerform(iterations: 2) { lane in
        let connection = Raw(path: rawPath)
        for _ in 0..<200 { body(connection) }
        var done = 0
        while ContinuousClock.now - start < .seconds(seconds) {
            for _ in 0..<64 { body(connection) }
            done += 64
        }
        counts.withLock { $0[lane] = done }
    }
    let elapsed = ContinuousClock.now - start
    let perSecond = Double(counts.withLock { $0.reduce(0, +) }) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    print("  \(label): \(Int(perSecond)) ops/s")
    return perSecond
}

nonisolated(unsafe) var results: [String] = []

// MARK: get
if enabled("get") {
print("get (one item by key):")
let rawGet = try await measure("raw C API, 1 thread") {
    let key = keys[randomIndex()]
    _ = raw.get(key.pk, key.sk)
    return 1
}
let rawGetParallel = measureRawParallel("raw C API, 2 threads") { raw in
    let key = keys[Int.random(in: 0..<itemCount)]
    _ = raw.get(key.pk, key.sk)
}
let oursGetSequential = try await measure("VideoStack, 1 task") {
    _ = try await store.getItem(key: keys[randomIndex()].item)
    return 1
}
let oursGet = try await measure("VideoStack, \(concurrency) tasks") {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var local = SystemRandomNumberGenerator()
                for _ in 0..<50 {
                    _ = try await store.getItem(key: keys[Int.random(in: 0..<itemCount, using: &local)].item)
                }
            }
        }
        try await group.waitForAll()
    }
    return concurrency * 50
}
let oursGetUncached = try await measure("VideoStack, \(concurrency) tasks, decoded-item cache off") {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var local = SystemRandomNumberGenerator()
                for _ in 0..<50 { _ = try await uncachedStore.getItem(key: keys[Int.random(in: 0..<itemCount, using: &local)].item) }
            }
        }
        try await group.waitForAll()
    }
    return concurrency * 50
}
ratio("store_get", oursGet, oursGetSequential, rawGet, parallelReference: rawGetParallel, uncached: oursGetUncached)
}

// MARK: query
if enabled("query") {
print("query (20 items of one partition):")
let rawQuery = try await measure("raw C API, 1 thread") {
    _ = raw.query(partitionKeys[randomIndex() % partitions].bytes, limit: 20)
    return 1
}
let rawQueryParallel = measureRawParallel("raw C API, 2 threads") { raw in
    _ = raw.query(partitionKeys[Int.random(in: 0..<partitions)].bytes, limit: 20)
}
let oursQuerySequential = try await measure("VideoStack, 1 task") {
    let page = try await store.query(Query(partitionKey: partitionKeys[randomIndex() % partitions].value, limit: 20))
    precondition(page.items.count == 20)
    return 1
}
let oursQuery = try await measure("VideoStack, \(concurrency) tasks") {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var local = SystemRandomNumberGenerator()
                for _ in 0..<20 {
                    _ = try await store.query(Query(partitionKey: partitionKeys[Int.random(in: 0..<partitions, using: &local)].value, limit: 20))
                }
            }
        }
        try await group.waitForAll()
    }
    return concurrency * 20
}
let oursQueryUncached = try await measure("VideoStack, \(concurrency) tasks, decoded-item cache off") {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var local = SystemRandomNumberGenerator()
                for _ in 0..<20 {
                    _ = try await uncachedStore.query(Query(partitionKey: partitionKeys[Int.random(in: 0..<partitions, using: &local)].value, limit: 20))
                }
            }
        }
        try await group.waitForAll()
    }
    return concurrency * 20
}
ratio("store_query", oursQuery, oursQuerySequential, rawQuery, parallelReference: rawQueryParallel, uncached: oursQueryUncached)
}

// MARK: put
if enabled("put") {
print("put (replace one item):")
let rawPut = try await measure("raw C API, 1 thread") {
    let i = randomIndex()
    raw.put(keys[i].pk, keys[i].sk, rawItems[i])
    return 1
}
let oursPutSequential = try await measure("VideoStack, 1 task") {
    try await store.putItem(items[randomIndex()])
    return 1
}
let oursPut = try await measure("VideoStack, \(concurrency) tasks") {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var local = SystemRandomNumberGenerator()
                for _ in 0..<20 { try await store.putItem(items[Int.random(in: 0..<itemCount, using: &local)]) }
            }
        }
        try await group.waitForAll()
    }
    return concurrency * 20
}
ratio("store_put", oursPut, oursPutSequential, rawPut)
}

// MARK: transact
if enabled("transact") {
print("transaction (2 puts, all or nothing):")
let rawTransact = try await measure("raw C API, 1 thread") {
    let a = randomIndex(), b = (a + 1 + randomIndex() % (itemCount - 1)) % itemCount
    raw.exec("BEGIN IMMEDIATE")
    raw.put(keys[a].pk, keys[a].sk, rawItems[a])
    raw.put(keys[b].pk, keys[b].sk, rawItems[b])
    raw.exec("COMMIT")
    return 1
}
func transactPair() async throws {
    let a = randomIndex(), b = (a + 1 + randomIndex() % (itemCount - 1)) % itemCount
    try await store.transactWrite([.put(items[a]), .put(items[b])])
}
let oursTransactSequential = try await measure("VideoStack, 1 task") {
    try await transactPair()
    return 1
}
let oursTransact = try await measure("VideoStack, \(concurrency) tasks") {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask { for _ in 0..<10 { try await transactPair() } }
        }
        try await group.waitForAll()
    }
    return concurrency * 10
}
ratio("store_transact", oursTransact, oursTransactSequential, rawTransact)
}
store.close()
uncachedStore.close()
for line in results { print(line) }

