import Foundation
@testable import SingleTableStore
import Synchronization
import Testing
import TestSupport
import VideoCore

/// Behaviour specific to the SQLite backend: files, reopening, migrations, crashes.
@Suite("SQLiteItemStore")
struct SQLiteItemStoreTests {
    @Test func crashSafetyUnderSIGKILL() async throws {
        let writer = try Self.executable("StoreCrashWriter")
        // The kill points come from a seed, printed so that a failing run can be replayed.
        let seed = ProcessInfo.processInfo.environment["VIDEOSTACK_CRASH_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        print("crashSafetyUnderSIGKILL: seed \(seed) (VIDEOSTACK_CRASH_SEED=\(seed) replays its kill points)")
        var generator = SeededGenerator(seed: seed)
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("crash.sqlite").path
            var acknowledged = Set<Int>()
            var killPoints = 0
            for round in 0..<15 {
                // Killed after a number of acknowledged writes, not after a time: every round
                // crashes the writer in the middle of its work, however fast the machine is.
                let killAfter = 1 + generator.below(40)
                killPoints += killAfter
                let errors = directory.appendingPathComponent("writer-\(round).err")
                let (reason, acks) = try await onOwnThread { () throws -> (Process.TerminationReason, [Int]) in
                    let process = Process()
                    process.executableURL = writer
                    process.arguments = [path, String(round * 1_000_000)]
                    let output = Pipe()
                    process.standardOutput = output
                    _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
                    process.standardError = try FileHandle(forWritingTo: errors)
                    try process.run()
                    var acks: [Int] = []
                    var pending = Data()
                    var killed = false
                    // Read until the pipe closes, which it does when the writer dies.
                    while case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty {
                        pending.append(chunk)
                        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                            let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                            pending.removeSubrange(pending.startIndex...newline)
                            if line.hasPrefix("ACK "), let n = Int(line.dropFirst(4)) { acks.append(n) }
                        }
                        if !killed && acks.count >= killAfter {
                            kill(process.processIdentifier, SIGKILL)
                            killed = true
                        }
                    }
                    process.waitUntilExit()
                    return (process.terminationReason, acks)
                }
                let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
                #expect(reason == .uncaughtSignal, "the writer ended by itself after \(acks.count) writes: \(stderr.prefix(500))")
                acknowledged.formUnion(acks)
            }
            #expect(acknowledged.count >= killPoints)

            let store = try await SQLiteItemStore(url: URL(fileURLWithPath: path), schema: .singleTable, logger: testLogger)
            defer { store.close() }
            #expect(try await store.integrityCheck() == ["ok"])
            var aKeys = Set<Int>()
            var bKeys = Set<Int>()
            var token: PageToken?
            repeat {
                let page = try await store.scan(Scan(limit: 500, startToken: token))
                for item in page.items {
                    guard let pk = item["PK"]?.string, let n = item["n"]?.int64 else { continue }
                    if pk.hasPrefix("A#") { aKeys.insert(Int(n)) } else if pk.hasPrefix("B#") { bKeys.insert(Int(n)) }
                }
                token = page.nextToken
            } while token != nil
            // Every acknowledged write survived; no transaction is half applied.
            #expect(acknowledged.isSubset(of: aKeys), "lost acknowledged writes: \(acknowledged.subtracting(aKeys).sorted().prefix(10))")
            #expect(aKeys == bKeys, "half-applied transactions: \(aKeys.symmetricDifference(bKeys).sorted().prefix(10))")
            let counter = try await store.getItem(key: ["PK": "counter", "SK": "x"])?["pairs"]?.int64
            #expect(counter == Int64(aKeys.count))
            // The index agrees with the table.
            var indexed = 0
            token = nil
            repeat {
                let page = try await store.query(Query(index: "GSI1", partitionKey: "pairs", limit: 1000, startToken: token))
                indexed += page.items.count
                token = page.nextToken
            } while token != nil
            #expect(indexed == bKeys.count)
        }
    }

    @Test func reopeningKeepsDataAndAddsNewIndexesWithBackfill() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("s.sqlite")
            let plain = TableSchema(partitionKey: KeyAttribute("PK"), sortKey: KeyAttribute("SK"))
            do {
                let store = try await SQLiteItemStore(url: url, schema: plain, logger: testLogger)
                for i in 0..<10 { try await store.putItem(["PK": .s("p\(i)"), "SK": "s", "color": i % 2 == 0 ? "red" : "blue"]) }
                store.close()
            }
            let indexed = TableSchema(partitionKey: KeyAttribute("PK"), sortKey: KeyAttribute("SK"),
                                      indexes: [SecondaryIndex(name: "byColor", partitionKey: KeyAttribute("color"))])
            let store = try await SQLiteItemStore(url: url, schema: indexed, logger: testLogger)
            #expect(try await store.query(Query(index: "byColor", partitionKey: "red")).items.count == 5)
            #expect(try await store.getItem(key: ["PK": "p3", "SK": "s"])?["color"] == "blue")
            store.close()
            // Opening with other key attributes is refused, not silently misread.
            await expectError(.invalidInput) {
                try await SQLiteItemStore(url: url, schema: TableSchema(partitionKey: KeyAttribute("id")), logger: testLogger)
            }
        }
    }

    @Test func damagedAndForeignFilesAreRefused() async throws {
        try await withTemporaryDirectory { directory in
            let text = directory.appendingPathComponent("notes.txt")
            try Data(String(repeating: "this is not a database\n", count: 500).utf8).write(to: text)
            let foreign = await expectError(.corrupt) { try await SQLiteItemStore(url: text, schema: .singleTable, logger: testLogger) }
            // SQLite's own code and the statement that met the file come with the error.
            #expect(foreign?.sqliteError?.resultCode == .notADatabase)
            #expect(foreign?.sqliteError?.statement?.isEmpty == false)

            let missingDirectory = directory.appendingPathComponent("no/such/dir/db.sqlite")
            let missing = await expectError(.io) { try await SQLiteItemStore(url: missingDirectory, schema: .singleTable, logger: testLogger) }
            #expect(missing?.sqliteError?.resultCode.primaryResultCode == .cantOpen)
            await expectError(.invalidInput, "not a file URL") {
                try await SQLiteItemStore(url: URL(string: "https://example.com/db.sqlite")!, schema: .singleTable, logger: testLogger)
            }

            // Damage the pages of a real database: opening or reading says so, never crashes.
            let url = directory.appendingPathComponent("damaged.sqlite")
            do {
                let store = try await SQLiteItemStore(url: url, schema: .singleTable, logger: testLogger)
                for i in 0..<300 { try await store.putItem(["PK": .s("p\(i)"), "SK": "s", "v": .s(String(repeating: "v", count: 500))]) }
                store.close()
            }
            let handle = try FileHandle(forUpdating: url)
            let size = try handle.seekToEnd()
            for offset in stride(from: UInt64(8192), to: size, by: 4096) {
                // Cells live at the end of a page; the gap near its start is free space.
                try handle.seek(toOffset: offset + 3000)
                try handle.write(contentsOf: Data(repeating: 0xA5, count: 1000))
            }
            try handle.close()
            do {
                let store = try await SQLiteItemStore(url: url, schema: .singleTable, logger: testLogger)
                defer { store.close() }
                let check = try await store.integrityCheck()
                var failedRead = false
                do { _ = try await store.scan(Scan()) } catch let error as VideoStackError {
                    failedRead = error.code == .corrupt
                }
                #expect(check != ["ok"] || failedRead)
            } catch let error as VideoStackError {
                #expect(error.code == .corrupt)
            }
        }
    }

    @Test func aLockHeldTooLongFailsWithTheBusyCodeAndTheStatement() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("busy.sqlite")
            let store = try await SQLiteItemStore(url: url, schema: .singleTable, configuration: .init(busyTimeout: .milliseconds(50)), logger: testLogger)
            defer { store.close() }
            try await store.putItem(["PK": "p", "SK": "s"])
            // Another connection (as another process would) holds the write lock throughout.
            let other = try SQLiteConnection(.file(path: url.path), mode: .writer)
            try other.execute("BEGIN IMMEDIATE")
            do {
                try await store.putItem(["PK": "p", "SK": "t"])
                Issue.record("a write succeeded while another connection held the write lock")
            } catch SQLiteResultCode.busy {
                // Caught by its SQLite code.
            }
            let error = await expectError(.io) { try await store.deleteItem(key: ["PK": "p", "SK": "s"]) }
            #expect(error?.sqliteError?.statement == "BEGIN IMMEDIATE")
            #expect(error?.message.contains("busyTimeout") == true)
            try other.execute("ROLLBACK")
            // Once the lock is free the store writes again; nothing of the failed writes was kept.
            try await store.putItem(["PK": "p", "SK": "u"])
            #expect(try await store.query(Query(partitionKey: "p")).items.compactMap { $0["SK"]?.string } == ["s", "u"])
        }
    }

    @Test func resultCodesMatchTheirExtendedCodes() {
        func failure(_ rc: Int32) -> VideoStackError {
            VideoStackError(.io, "x", cause: SQLiteError(resultCode: SQLiteResultCode(rawValue: rc), message: "m", statement: "SELECT 1"))
        }
        let shortRead = failure(10 | (2 << 8))  // SQLITE_IOERR_SHORT_READ
        #expect(SQLiteResultCode.ioError ~= shortRead)
        #expect(SQLiteResultCode(rawValue: 10 | (2 << 8)) ~= shortRead)
        #expect(!(SQLiteResultCode(rawValue: 10 | (3 << 8)) ~= shortRead), "another extended code")
        #expect(!(SQLiteResultCode.full ~= shortRead))
        #expect(!(SQLiteResultCode.ioError ~= VideoStackError(.io, "no SQLite cause")))
        #expect(SQLiteResultCode(rawValue: 10 | (2 << 8)).primaryResultCode == .ioError)
        #expect(SQLiteResultCode.busy.description.contains("locked"))
    }

    @Test func readsDoNotWaitForTheWriter() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("r.sqlite")
            let store = try await SQLiteItemStore(url: url, schema: .singleTable,
                                                  configuration: .init(readerCount: 2, durability: .normal, busyTimeout: .seconds(600)), logger: testLogger)
            defer { store.close() }
            try await store.putItem(["PK": "p", "SK": "before"])
            // Another connection holds the write lock, so the store's writer thread waits in its next commit.
            let other = try SQLiteConnection(.file(path: url.path), mode: .writer)
            try other.execute("BEGIN IMMEDIATE")
            let started = AsyncStream<Void>.makeStream()
            let finished = Atomic<Bool>(false)
            let write = Task {
                started.continuation.yield()
                try await store.putItem(["PK": "p", "SK": "during"])
                finished.store(true, ordering: .sequentiallyConsistent)
            }
            for await _ in started.stream { break }
            // Reads are served by the reader threads meanwhile, from the committed state.
            for _ in 0..<20 {
                #expect(try await store.getItem(key: ["PK": "p", "SK": "before"]) != nil)
                #expect(try await store.query(Query(partitionKey: "p")).items.count == 1)
            }
            let writeFinished = finished.load(ordering: .sequentiallyConsistent)
            #expect(!writeFinished, "the write finished while another connection held the lock")
            try other.execute("COMMIT")
            try await write.value
            #expect(try await store.query(Query(partitionKey: "p")).items.count == 2)
        }
    }

    @Test(arguments: Backend.allCases)
    func everyReadSeesACommittedPrefixOfTheWrites(_ backend: Backend) async throws {
        try await backend.withStore { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for i in 0..<300 { try await store.putItem(["PK": "p", "SK": .s(String(format: "%04d", i))]) }
                }
                for _ in 0..<4 {
                    group.addTask {
                        var last = 0
                        for _ in 0..<50 {
                            // Writes commit in order, so a consistent read sees exactly the first n of them.
                            let keys = try await store.query(Query(partitionKey: "p")).items.compactMap { $0["SK"]?.string }
                            #expect(keys == (0..<keys.count).map { String(format: "%04d", $0) })
                            #expect(keys.count >= last)
                            last = keys.count
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.query(Query(partitionKey: "p")).items.count == 300)
        }
    }

    @Test func storesInMemoryAreSeparateAndGoneWhenClosed() async throws {
        let first = try await SQLiteItemStore.inMemory(schema: .singleTable, logger: testLogger)
        let second = try await SQLiteItemStore.inMemory(schema: .singleTable, logger: testLogger)
        defer { second.close() }
        #expect(first.url == nil)
        try await first.putItem(["PK": "p", "SK": "s", "v": 1])
        #expect(try await first.getItem(key: ["PK": "p", "SK": "s"])?["v"] == 1)
        #expect(try await second.getItem(key: ["PK": "p", "SK": "s"]) == nil)
        first.close()
        await expectError(.cancelled) { try await first.getItem(key: ["PK": "p", "SK": "s"]) }
    }

    @Test func cachedItemsAreNeverStaleEvenWhenAnotherConnectionWrites() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("shared.sqlite")
            let reader = try await SQLiteItemStore(url: url, schema: .singleTable, configuration: .init(readerCount: 1), logger: testLogger)
            // Two writers on one file, as two processes would be: their write ids must not collide.
            let writers = [try await SQLiteItemStore(url: url, schema: .singleTable, logger: testLogger),
                           try await SQLiteItemStore(url: url, schema: .singleTable, logger: testLogger)]
            defer { reader.close(); writers.forEach { $0.close() } }
            for version in 1...8 {
                try await writers[version % 2].putItem(["PK": "p", "SK": "s", "version": .int(Int64(version))])
                // Read twice: the second read is a cache hit and must still be current.
                #expect(try await reader.getItem(key: ["PK": "p", "SK": "s"])?["version"] == .int(Int64(version)))
                #expect(try await reader.query(Query(partitionKey: "p")).items.first?["version"] == .int(Int64(version)))
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func changesOlderThanTheRetentionWindowAreTrimmed(_ backend: Backend) async throws {
        let clock = TestClock()
        let configuration = SQLiteStoreConfiguration(durability: .normal, changeRetention: .milliseconds(1500), clock: clock.now)
        try await backend.withStore(schema: .singleTable, configuration: configuration) { store in
            for i in 0..<5 { try await store.putItem(["PK": "early", "SK": .s("\(i)")]) }
            clock.advance(by: .seconds(1))
            for i in 0..<5 { try await store.putItem(["PK": "middle", "SK": .s("\(i)")]) }
            let before = try await store.changes(after: nil, limit: 100)
            #expect(before.count == 10)
            #expect(before.first?.date == clock.start && before.last?.date == clock.start + 1, "changes are dated by the store's clock")
            // Now the early changes are 1.6 s old, past the window, and the middle ones 0.6 s.
            clock.advance(by: .milliseconds(600))
            // The feed is trimmed every `trimInterval` changes: these writes bring it there.
            let late = SQLiteWriter.trimInterval - before.count
            for start in stride(from: 0, to: late, by: 25) {
                try await store.batchWrite((start..<min(start + 25, late)).map { .put(["PK": "late", "SK": .s("\($0)")]) })
            }
            // Reading from a trimmed change is refused; from the last trimmed one nothing is lost.
            let error = await expectError(.outOfRange) { try await store.changes(after: before[3].cursor, limit: 10) }
            #expect(error?.message.contains("retention") == true)
            let resumed = try await store.changes(after: before[4].cursor, limit: 10_000)
            let remaining = try await store.changes(after: nil, limit: 10_000)
            #expect(resumed.map(\.cursor) == remaining.map(\.cursor))
            #expect(remaining.count == 5 + late)
            #expect(remaining.first?.cursor == before[5].cursor)
            #expect(remaining.filter { $0.key["PK"] == "late" }.count == late && !remaining.contains { $0.key["PK"] == "early" })
            #expect(try await store.latestChangeCursor() == remaining.last?.cursor)
        }
    }

    @Test func truncatedAndEmptyFiles() async throws {
        try await withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("t.sqlite")
            do {
                let store = try await SQLiteItemStore(url: url, schema: .singleTable, logger: testLogger)
                for i in 0..<200 { try await store.putItem(["PK": .s("p\(i)"), "SK": "s", "v": .s(String(repeating: "v", count: 800))]) }
                store.close()
            }
            let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
            let handle = try FileHandle(forWritingTo: url)
            try handle.truncate(atOffset: UInt64(size / 3))
            try handle.close()
            // Opening may succeed (the header survives); reading what was cut off must fail cleanly.
            do {
                let store = try await SQLiteItemStore(url: url, schema: .singleTable, logger: testLogger)
                defer { store.close() }
                var failed = false
                do {
                    var token: PageToken?
                    repeat {
                        let page = try await store.scan(Scan(limit: 50, startToken: token))
                        token = page.nextToken
                    } while token != nil
                } catch let error as VideoStackError {
                    failed = [.corrupt, .io].contains(error.code)
                }
                let check = try await store.integrityCheck()
                #expect(failed || check != ["ok"])
            } catch let error as VideoStackError {
                #expect([.corrupt, .io].contains(error.code))
            }
            // A zero-byte file is an empty database: it opens and works.
            let empty = directory.appendingPathComponent("empty.sqlite")
            #expect(FileManager.default.createFile(atPath: empty.path, contents: Data()))
            let store = try await SQLiteItemStore(url: empty, schema: .singleTable, logger: testLogger)
            try await store.putItem(["PK": "p", "SK": "s"])
            #expect(try await store.getItem(key: ["PK": "p", "SK": "s"]) != nil)
            store.close()
        }
    }

    @Test func readsOnTheReadExecutorRunInlineOnReaderThreads() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteItemStore(url: directory.appendingPathComponent("e.sqlite"), schema: .singleTable, logger: testLogger)
            defer { store.close() }
            try await withTaskExecutorPreference(store.readExecutor) {
                // The body may begin on the caller's thread before its first hop (seen under load),
                // so the thread is checked in the child tasks, which start on the executor.
                try await store.putItem(["PK": "p", "SK": "s", "v": 1])
                #expect(try await store.getItem(key: ["PK": "p", "SK": "s"])?["v"] == 1)
                #expect(try await store.query(Query(partitionKey: "p")).items.count == 1)
                // Child tasks given the same preference read concurrently on reader threads.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask(executorPreference: store.readExecutor) {
                            // Swift does not promise the first line runs on the preferred executor
                            // (it did not once under load); the reads below work either way.
                            withKnownIssue("executor preference honoured late", isIntermittent: true) {
                                #expect(currentThreadName().hasPrefix("reader-"))
                            }
                            let item = try await store.getItem(key: ["PK": "p", "SK": "s"])
                            #expect(item != nil)
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test(arguments: Backend.allCases)
    func closedStoreRefusesWork(_ backend: Backend) async throws {
        try await withTemporaryDirectory { directory in
            let store = try await backend.open(in: directory, schema: .singleTable)
            store.close()
            await expectError(.cancelled) { try await store.putItem(["PK": "p", "SK": "s"]) }
            await expectError(.cancelled) { try await store.getItem(key: ["PK": "p", "SK": "s"]) }
        }
    }

    /// The path of an executable built alongside the tests.
    static func executable(_ name: String) throws -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        // swift test runs the tests from a helper; fall back to the build folder of the package.
        for configuration in ["debug", "release"] {
            let candidate = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/\(configuration)/\(name)")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw VideoStackError(.notFound, "The test helper '\(name)' was not built; run `swift build --build-tests` first.")
    }
}

/// The name of the thread running the caller, as the kernel knows it.
func currentThreadName() -> String { Thread.current.name ?? "" }
