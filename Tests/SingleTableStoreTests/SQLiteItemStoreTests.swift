import Foundation
import SingleTableStore
import Testing
import TestSupport
import VideoCore

/// Behaviour specific to the SQLite backend: files, reopening, migrations, crashes.
@Suite("SQLiteItemStore")
struct SQLiteItemStoreTests {
    @Test func crashSafetyUnderSIGKILL() async throws {
        let writer = try Self.executable("StoreCrashWriter")
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("crash.sqlite").path
            var acknowledged = Set<Int>()
            var generator = SystemRandomNumberGenerator()
            for round in 0..<15 {
                let pause = Double.random(in: 0.15...0.6, using: &generator)
                let (reason, text) = try await onOwnThread {
                    let process = Process()
                    process.executableURL = writer
                    process.arguments = [path, String(round * 1_000_000)]
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = FileHandle.nullDevice
                    try process.run()
                    // Let it get going, then kill it at a random moment.
                    Thread.sleep(forTimeInterval: pause)
                    kill(process.processIdentifier, SIGKILL)
                    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    process.waitUntilExit()
                    return (process.terminationReason, text)
                }
                #expect(reason == .uncaughtSignal)
                for line in text.split(separator: "\n") where line.hasPrefix("ACK ") {
                    if let n = Int(line.dropFirst(4)) { acknowledged.insert(n) }
                }
            }
            #expect(acknowledged.count > 15, "the writer made too little progress to test anything")

            let store = try await SQLiteItemStore(path: path, schema: .singleTable)
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
            let path = directory.appendingPathComponent("s.sqlite").path
            let plain = TableSchema(partitionKey: KeyAttribute("PK"), sortKey: KeyAttribute("SK"))
            do {
                let store = try await SQLiteItemStore(path: path, schema: plain)
                for i in 0..<10 { try await store.putItem(["PK": .s("p\(i)"), "SK": "s", "color": i % 2 == 0 ? "red" : "blue"]) }
                store.close()
            }
            let indexed = TableSchema(partitionKey: KeyAttribute("PK"), sortKey: KeyAttribute("SK"),
                                      indexes: [SecondaryIndex(name: "byColor", partitionKey: KeyAttribute("color"))])
            let store = try await SQLiteItemStore(path: path, schema: indexed)
            #expect(try await store.query(Query(index: "byColor", partitionKey: "red")).items.count == 5)
            #expect(try await store.getItem(key: ["PK": "p3", "SK": "s"])?["color"] == "blue")
            store.close()
            // Opening with other key attributes is refused, not silently misread.
            await expectError(.invalidInput) {
                try await SQLiteItemStore(path: path, schema: TableSchema(partitionKey: KeyAttribute("id")))
            }
        }
    }

    @Test func damagedAndForeignFilesAreRefused() async throws {
        try await withTemporaryDirectory { directory in
            let text = directory.appendingPathComponent("notes.txt").path
            try Data(String(repeating: "this is not a database\n", count: 500).utf8).write(to: URL(fileURLWithPath: text))
            await expectError(.corrupt) { try await SQLiteItemStore(path: text, schema: .singleTable) }

            let missingDirectory = directory.appendingPathComponent("no/such/dir/db.sqlite").path
            await expectError(.io) { try await SQLiteItemStore(path: missingDirectory, schema: .singleTable) }

            // Damage the pages of a real database: opening or reading says so, never crashes.
            let path = directory.appendingPathComponent("damaged.sqlite").path
            do {
                let store = try await SQLiteItemStore(path: path, schema: .singleTable)
                for i in 0..<300 { try await store.putItem(["PK": .s("p\(i)"), "SK": "s", "v": .s(String(repeating: "v", count: 500))]) }
                store.close()
            }
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            let size = try handle.seekToEnd()
            for offset in stride(from: UInt64(8192), to: size, by: 4096) {
                // Cells live at the end of a page; the gap near its start is free space.
                try handle.seek(toOffset: offset + 3000)
                try handle.write(contentsOf: Data(repeating: 0xA5, count: 1000))
            }
            try handle.close()
            do {
                let store = try await SQLiteItemStore(path: path, schema: .singleTable)
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

    @Test func readsRunWhileWritesCommit() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteItemStore(path: directory.appendingPathComponent("c.sqlite").path, schema: .singleTable,
                                                  configuration: .init(readerCount: 3, durability: .normal))
            defer { store.close() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for i in 0..<300 { try await store.putItem(["PK": "p", "SK": .s(String(format: "%04d", i))]) }
                }
                for _ in 0..<4 {
                    group.addTask {
                        var last = 0
                        for _ in 0..<50 {
                            // Each read sees a consistent, growing prefix of the writes.
                            let count = try await store.query(Query(partitionKey: "p")).items.count
                            #expect(count >= last)
                            last = count
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.query(Query(partitionKey: "p")).items.count == 300)
        }
    }

    @Test func cachedItemsAreNeverStaleEvenWhenAnotherConnectionWrites() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("shared.sqlite").path
            let reader = try await SQLiteItemStore(path: path, schema: .singleTable, configuration: .init(readerCount: 1))
            // Two writers on one file, as two processes would be: their write ids must not collide.
            let writers = [try await SQLiteItemStore(path: path, schema: .singleTable), try await SQLiteItemStore(path: path, schema: .singleTable)]
            defer { reader.close(); writers.forEach { $0.close() } }
            for version in 1...8 {
                try await writers[version % 2].putItem(["PK": "p", "SK": "s", "version": .int(Int64(version))])
                // Read twice: the second read is a cache hit and must still be current.
                #expect(try await reader.getItem(key: ["PK": "p", "SK": "s"])?["version"] == .int(Int64(version)))
                #expect(try await reader.query(Query(partitionKey: "p")).items.first?["version"] == .int(Int64(version)))
            }
        }
    }

    @Test func changesOlderThanTheRetentionWindowAreTrimmed() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteItemStore(path: directory.appendingPathComponent("feed.sqlite").path, schema: .singleTable,
                                                  configuration: .init(durability: .normal, changeRetention: .milliseconds(1500)))
            defer { store.close() }
            for i in 0..<5 { try await store.putItem(["PK": "early", "SK": .s("\(i)")]) }
            let early = try await store.changes(after: nil, limit: 10)
            #expect(early.count == 5)
            try await Task.sleep(for: .seconds(1.8))
            // Trimming runs every 1,000 writes, inside a commit.
            for batch in 0..<40 {
                try await store.batchWrite((0..<25).map { .put(["PK": "late", "SK": .s("\(batch)-\($0)")]) })
            }
            // The early changes are gone: a cursor into them is refused, and reading from the start
            // begins after them, with the newest changes (how many of the late ones are old enough
            // to go as well depends on how busy the machine was).
            let error = await expectError(.outOfRange) { try await store.changes(after: early[0].cursor, limit: 10) }
            #expect(error?.message.contains("retention") == true)
            let remaining = try await store.changes(after: nil, limit: 10_000)
            #expect(!remaining.isEmpty && remaining.count <= 1_000 && remaining.allSatisfy { $0.key["PK"] == "late" })
            let sequence = remaining.compactMap { Int($0.cursor.text) }
            #expect(sequence == Array((sequence.first ?? 0)..<(sequence.first ?? 0) + remaining.count), "a contiguous suffix of the feed")
            #expect(try await store.latestChangeCursor() == remaining.last?.cursor)
        }
    }

    @Test func truncatedAndEmptyFiles() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("t.sqlite").path
            do {
                let store = try await SQLiteItemStore(path: path, schema: .singleTable)
                for i in 0..<200 { try await store.putItem(["PK": .s("p\(i)"), "SK": "s", "v": .s(String(repeating: "v", count: 800))]) }
                store.close()
            }
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: UInt64(size / 3))
            try handle.close()
            // Opening may succeed (the header survives); reading what was cut off must fail cleanly.
            do {
                let store = try await SQLiteItemStore(path: path, schema: .singleTable)
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
            let empty = directory.appendingPathComponent("empty.sqlite").path
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            let store = try await SQLiteItemStore(path: empty, schema: .singleTable)
            try await store.putItem(["PK": "p", "SK": "s"])
            #expect(try await store.getItem(key: ["PK": "p", "SK": "s"]) != nil)
            store.close()
        }
    }

    @Test func readsOnTheReadExecutorRunInlineOnReaderThreads() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteItemStore(path: directory.appendingPathComponent("e.sqlite").path, schema: .singleTable)
            defer { store.close() }
            try await withTaskExecutorPreference(store.readExecutor) {
                #expect(currentThreadName().hasPrefix("reader-"))
                try await store.putItem(["PK": "p", "SK": "s", "v": 1])
                #expect(try await store.getItem(key: ["PK": "p", "SK": "s"])?["v"] == 1)
                #expect(try await store.query(Query(partitionKey: "p")).items.count == 1)
                // Child tasks given the same preference read concurrently on reader threads.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask(executorPreference: store.readExecutor) {
                            let item = try await store.getItem(key: ["PK": "p", "SK": "s"])
                            #expect(item != nil)
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test func closedStoreRefusesWork() async throws {
        try await withTemporaryDirectory { directory in
            let store = try await SQLiteItemStore(path: directory.appendingPathComponent("x.sqlite").path, schema: .singleTable)
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
