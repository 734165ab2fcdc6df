import Foundation
import SingleTableStore
import Testing
import VideoCore
import VideoStackAWS

// The hooks `ItemStoreConformanceTests.swift` needs: that file is a link to the embedded store's
// suite (Tests/SingleTableStoreTests/ConformanceTests.swift), so the very same tests run here
// against DynamoDB on two emulators.

/// The backends the conformance suite runs against in this target.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case dynamoDBMoto
    case dynamoDBMinistack

    var testDescription: String { rawValue }

    /// A fresh, empty DynamoDB table (with its stream) on an emulator started for this test.
    func withStore<T>(schema: TableSchema = .conformance, _ body: (any ItemStore) async throws -> T) async throws -> T {
        try await (self == .dynamoDBMoto ? Emulator.moto : .ministack).run { endpoint in
            let store = try await DynamoDBItemStore(client: Emulator.client(endpoint: endpoint), tableName: "conformance", schema: schema,
                                                    configuration: DynamoDBStoreConfiguration(createsTable: true))
            return try await body(store)
        }
    }
}

extension TableSchema {
    /// PK/SK strings, a string GSI, a numeric-sort GSI and a keys-only GSI (as the embedded suite's).
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
