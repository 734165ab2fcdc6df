import Foundation
import Logging
import Synchronization
import SingleTableStore
import Testing
import TestSupport
import VideoCore

/// The backends the conformance suite runs against. A DynamoDB backend adds a case here.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// An SQLite file in a temporary directory.
    case sqlite
    /// ``SQLiteItemStore/inMemory(schema:configuration:logger:)``.
    case sqliteInMemory

    var testDescription: String { rawValue }

    /// Opens a fresh, empty store of this backend (a file store in `directory`).
    func open(in directory: URL, schema: TableSchema = .conformance,
              configuration: SQLiteStoreConfiguration = .init(durability: .normal)) async throws -> SQLiteItemStore {
        switch self {
        case .sqlite:
            try await SQLiteItemStore(url: directory.appendingPathComponent("store.sqlite"), schema: schema, configuration: configuration, logger: testLogger)
        case .sqliteInMemory:
            try await SQLiteItemStore.inMemory(schema: schema, configuration: configuration, logger: testLogger)
        }
    }

    /// Opens a fresh, empty store of this backend and passes it to `body`; cleans up after.
    func withStore<T>(schema: TableSchema = .conformance, configuration: SQLiteStoreConfiguration = .init(durability: .normal),
                      _ body: (any ItemStore) async throws -> T) async throws -> T {
        try await withTemporaryDirectory { directory in
            let store = try await open(in: directory, schema: schema, configuration: configuration)
            defer { store.close() }
            let result = try await body(store)
            // Nothing the test did may leave the database damaged.
            #expect(try await store.integrityCheck() == ["ok"])
            return result
        }
    }
}

/// A wall clock that moves only when told to, for the store's ``SQLiteStoreConfiguration/clock``.
final class TestClock: Sendable {
    let start = Date(timeIntervalSince1970: 1_700_000_000)
    private let offset = Mutex<Duration>(.zero)

    /// Moves the clock forward.
    func advance(by duration: Duration) { offset.withLock { $0 += duration } }

    /// The clock's time, as the store reads it.
    var now: @Sendable () -> Date {
        { [self] in start + offset.withLock { $0 } / .seconds(1) }
    }
}

/// The stores' logger in tests: warnings and worse reach the test output.
let testLogger: Logger = {
    var logger = Logger(label: "SingleTableStoreTests")
    logger.logLevel = .warning
    return logger
}()

/// Runs blocking work (waiting for a child process, say) on a thread of its own, so it never
/// ties up a thread of Swift's cooperative pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
