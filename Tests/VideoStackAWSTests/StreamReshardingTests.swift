import Foundation
import Logging
import SingleTableStore
import Testing
import VideoCore
@testable import VideoStackAWS

/// The change feed across a shard split, which no emulator performs: a scripted DynamoDB Streams
/// endpoint answers with a closed parent shard and two open children, and the feed must come out
/// whole, once, in sequence order, resuming inside any shard.
@Suite("DynamoDB Streams resharding")
struct StreamReshardingTests {
    static let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/videos/stream/2026-03-01T00:00:00.000"

    static func json(_ text: String) -> ScriptedServer.Reply {
        .respond(status: 200, headers: [("Content-Type", "application/x-amz-json-1.0")], body: text)
    }

    static func record(_ sequence: String, _ kind: String, _ pk: String, old: Int?, new: Int?) -> String {
        let key = #"{"PK":{"S":"\#(pk)"}}"#
        func image(_ v: Int?) -> String { v.map { #"{"PK":{"S":"\#(pk)"},"v":{"N":"\#($0)"}}"# } ?? "null" }
        return #"{"eventName":"\#(kind)","dynamodb":{"SequenceNumber":"\#(sequence)","ApproximateCreationDateTime":1772356530,"Keys":\#(key),"OldImage":\#(image(old)),"NewImage":\#(image(new))}}"#
    }

    static let describe = json(#"""
    {"StreamDescription":{"StreamArn":"\#(arn)","Shards":[
      {"ShardId":"shardId-00000000000000000001-aaaaaaaa","SequenceNumberRange":{"StartingSequenceNumber":"100","EndingSequenceNumber":"300"}},
      {"ShardId":"shardId-00000000000000000002-bbbbbbbb","ParentShardId":"shardId-00000000000000000001-aaaaaaaa","SequenceNumberRange":{"StartingSequenceNumber":"400"}},
      {"ShardId":"shardId-00000000000000000003-cccccccc","ParentShardId":"shardId-00000000000000000001-aaaaaaaa","SequenceNumberRange":{"StartingSequenceNumber":"410"}}]}}
    """#)

    /// The answers for one full read: parent (closed, two records), then each child.
    static var fullRead: [ScriptedServer.Reply] {
        [
            describe,
            json(#"{"ShardIterator":"it-1"}"#),
            json(#"{"Records":[\#(record("100", "INSERT", "a", old: nil, new: 1)),\#(record("300", "MODIFY", "a", old: 1, new: 2))]}"#),
            json(#"{"ShardIterator":"it-2"}"#),
            // A put that changed nothing: AWS writes no record for it, and neither does the feed.
            json(#"{"Records":[\#(record("400", "MODIFY", "b", old: 5, new: 5)),\#(record("500", "REMOVE", "a", old: 2, new: nil))],"NextShardIterator":"it-2b"}"#),
            json(#"{"Records":[],"NextShardIterator":"it-2c"}"#),
            json(#"{"ShardIterator":"it-3"}"#),
            json(#"{"Records":[\#(record("450", "INSERT", "c", old: nil, new: 7))],"NextShardIterator":"it-3b"}"#),
            json(#"{"Records":[],"NextShardIterator":"it-3c"}"#),
        ]
    }

    func reader(_ server: ScriptedServer) -> DynamoDBStreamReader {
        DynamoDBStreamReader(client: Emulator.client(endpoint: server.endpoint, retry: AWSRetryStrategy(maxAttempts: 1)), streamARN: Self.arn)
    }

    @Test func changesAcrossASplitComeOutOnceInOrder() async throws {
        try await ScriptedServer.with(Self.fullRead) { server in
        let changes = try await reader(server).changes(after: nil, limit: 100)
        #expect(changes.map(\.kind) == [.insert, .modify, .insert, .remove])
        #expect(changes.map { $0.key["PK"] } == ["a", "a", "c", "a"])
        #expect(changes[1].oldImage?["v"] == 1 && changes[1].newImage?["v"] == 2)
        #expect(zip(changes, changes.dropFirst()).allSatisfy { $0.cursor < $1.cursor })
        // The second child's record resumes there, after its sequence number.
        let position = try StreamPosition(cursor: changes[2].cursor)
        #expect(position.shard == "shardId-00000000000000000003-cccccccc" && position.sequence == "450")
        // Every call went to the Streams API, signed for dynamodb.
        let targets = server.received.compactMap { $0.headers.first { $0.0.lowercased() == "x-amz-target" }?.1 }
        #expect(targets.first == "DynamoDBStreams_20120810.DescribeStream")
        #expect(targets.filter { $0 == "DynamoDBStreams_20120810.GetRecords" }.count == 5)
        }
    }

    @Test func resumingInsideAChildSkipsTheClosedParent() async throws {
        try await ScriptedServer.with([
            Self.describe,
            // The parent ended at 300, before the cursor (400 in the first child): not read at all.
            Self.json(#"{"ShardIterator":"it-2"}"#),
            Self.json(#"{"Records":[\#(Self.record("500", "REMOVE", "a", old: 2, new: nil))],"NextShardIterator":"it-2b"}"#),
            Self.json(#"{"Records":[],"NextShardIterator":"it-2c"}"#),
            Self.json(#"{"ShardIterator":"it-3"}"#),
            Self.json(#"{"Records":[\#(Self.record("450", "INSERT", "c", old: nil, new: 7))],"NextShardIterator":"it-3b"}"#),
            Self.json(#"{"Records":[],"NextShardIterator":"it-3c"}"#),
        ]) { server in
        let after = StreamPosition(sequence: "400", shard: "shardId-00000000000000000002-bbbbbbbb")
        let changes = try await reader(server).changes(after: after, limit: 100)
        #expect(changes.map { $0.key["PK"] } == ["c", "a"])
        let iterators = server.received.filter { $0.headers.contains { $0.1 == "DynamoDBStreams_20120810.GetShardIterator" } }
        #expect(iterators.count == 2)
        }
    }

    @Test func damagedCursorsAndRecordsAreRefused() async throws {
        for bad in ["", "x", "123.01.shard", String(repeating: "9", count: 40) + ".00.s", String(repeating: "1", count: 40) + ".41.s", String(repeating: "1", count: 40) + ".02."] {
            #expect(throws: VideoStackError.self, "\(bad)") { try StreamPosition(cursor: ChangeCursor(bad)) }
        }
        try await ScriptedServer.with([
            Self.describe, Self.json(#"{"ShardIterator":"it-1"}"#),
            Self.json(#"{"Records":[{"eventName":"EXPLODE","dynamodb":{"SequenceNumber":"1"}}]}"#),
        ]) { server in
        let error = await #expect(throws: VideoStackError.self) { try await reader(server).changes(after: nil, limit: 10) }
        #expect(error?.code == .corrupt)
        }
    }
}
