import Foundation
import SingleTableStore
import Testing
import TestSupport
import VideoCore

/// The backends the conformance suite runs against. A DynamoDB backend adds a case here.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite

    var testDescription: String { rawValue }

    /// Opens a fresh, empty store of this backend and passes it to `body`; cleans up after.
    func withStore<T>(schema: TableSchema = .conformance, _ body: (any ItemStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await withTemporaryDirectory { directory in
                let store = try await SQLiteItemStore(path: directory.appendingPathComponent("store.sqlite").path, schema: schema,
                                                      configuration: .init(durability: .normal))
                defer { store.close() }
                let result = try await body(store)
                // Nothing the test did may leave the file damaged.
                #expect(try await store.integrityCheck() == ["ok"])
                return result
            }
        }
    }
}

extension TableSchema {
    /// PK/SK strings, a string GSI, a numeric-sort GSI and a keys-only GSI.
    static let conformance = TableSchema(
        partitionKey: KeyAttribute("PK"), sortKey: KeyAttribute("SK"),
        indexes: [
            SecondaryIndex(name: "GSI1", partitionKey: KeyAttribute("GSI1PK"), sortKey: KeyAttribute("GSI1SK")),
            SecondaryIndex(name: "byScore", partitionKey: KeyAttribute("group"), sortKey: KeyAttribute("score", .number)),
            SecondaryIndex(name: "keysOnly", partitionKey: KeyAttribute("kind"), projection: .keysOnly),
        ])
}

/// Expects `body` to throw a ``VideoStackError`` with `code`; returns it for further checks.
@discardableResult
func expectError<T>(_ code: VideoStackError.Code, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () async throws -> T) async -> VideoStackError? {
    do {
        _ = try await body()
        Issue.record("expected a \(code) error, but the call succeeded. \(comment.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        return nil
    } catch let error as VideoStackError {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a VideoStackError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

func key(_ pk: String, _ sk: String) -> Item { ["PK": .s(pk), "SK": .s(sk)] }

/// Runs blocking work (waiting for a child process, say) on a thread of its own, so it never
/// ties up a thread of Swift's cooperative pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
