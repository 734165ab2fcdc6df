import SingleTableStore
import Testing
import VideoCore

// What the conformance suite (ConformanceTests.swift) needs besides its backends: the schema it
// runs on and its assertion helpers. Linked into VideoStackAWSTests with the suite itself, so both
// targets share one copy; each target defines its own `Backend`.

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
