import Foundation
internal import SingleTableStore
internal import VideoCore

/// A position in a table's stream: a record's sequence number and its shard.
///
/// The cursor text is the sequence number's value zero-padded to 40 digits (so cursors compare in
/// feed order: DynamoDB's sequence numbers grow across the stream, child shards after their
/// parents), the length of the number as the service wrote it (some implementations pad it, and
/// iterators need it back verbatim), and the shard id: `<40 digits>.<length>.<shard>`.
struct StreamPosition: Hashable, Sendable {
    var sequence: String
    var shard: String

    static let width = 40

    init(sequence: String, shard: String) {
        self.sequence = sequence
        self.shard = shard
    }

    init(cursor: ChangeCursor) throws {
        let parts = cursor.text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].utf8.count == Self.width, parts[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let length = Int(parts[1]), (1...Self.width).contains(length), !parts[2].isEmpty else {
            throw VideoStackError(.invalidInput, "'\(cursor.text.prefix(80))' is not a change cursor of a DynamoDB store; pass a cursor this store returned.")
        }
        sequence = String(parts[0].suffix(length))
        shard = String(parts[2])
    }

    var cursor: ChangeCursor {
        let length = sequence.count < 10 ? "0\(sequence.count)" : "\(sequence.count)"
        return ChangeCursor(String(repeating: "0", count: max(0, Self.width - sequence.count)) + sequence + "." + length + "." + shard)
    }

    /// Numeric order of sequence numbers (decimal strings of any length, leading zeros or not).
    static func precedes(_ a: String, _ b: String) -> Bool {
        let x = a.drop { $0 == "0" }, y = b.drop { $0 == "0" }
        return x.count != y.count ? x.count < y.count : x < y
    }
}

/// Reads a DynamoDB Stream as the store's change feed: every shard (closed ones of the last 24
/// hours and open ones, across splits), merged in sequence-number order.
///
/// Each call lists the shards and reads each from the cursor's position (or its start), at most
/// `limit` records a shard, so a call costs one `DescribeStream` page plus a few `GetRecords` per
/// shard. Records that change nothing (a put of the same item) are left out, as DynamoDB
/// documents it never writes them.
struct DynamoDBStreamReader: Sendable {
    let client: AWSClient
    let streamARN: String

    struct Shard {
        var id: String
        var parent: String?
        var start: String
        var end: String?
    }

    func call(_ operation: String, _ body: [String: JSON]) async throws -> JSON {
        try await DynamoDBItemStore.call(client: client, operation, body, subject: "reading the table's stream",
                                         service: .dynamoDBStreams, target: "DynamoDBStreams_20120810")
    }

    func shards() async throws -> [Shard] {
        var shards: [Shard] = []
        var start: String?
        repeat {
            var body: [String: JSON] = ["StreamArn": .string(streamARN)]
            if let start { body["ExclusiveStartShardId"] = .string(start) }
            let description = try await call("DescribeStream", body)["StreamDescription"]
            for shard in description?["Shards"]?.array ?? [] {
                guard let id = shard["ShardId"]?.string else { continue }
                shards.append(Shard(id: id, parent: shard["ParentShardId"]?.string,
                                    start: shard["SequenceNumberRange"]?["StartingSequenceNumber"]?.string ?? "0",
                                    end: shard["SequenceNumberRange"]?["EndingSequenceNumber"]?.string))
            }
            start = description?["LastEvaluatedShardId"]?.string
        } while start != nil
        return shards
    }

    func changes(after position: StreamPosition?, limit: Int) async throws -> [Change] {
        var collected: [(String, Change)] = []
        for shard in try await shards() {
            // A closed shard that ended before the cursor has nothing new.
            if let position, let end = shard.end, !StreamPosition.precedes(position.sequence, end) { continue }
            var body: [String: JSON] = ["StreamArn": .string(streamARN), "ShardId": .string(shard.id)]
            if let position, position.shard == shard.id {
                body["ShardIteratorType"] = .string("AFTER_SEQUENCE_NUMBER")
                body["SequenceNumber"] = .string(position.sequence)
            } else {
                body["ShardIteratorType"] = .string("TRIM_HORIZON")
            }
            var iterator = try await call("GetShardIterator", body)["ShardIterator"]?.string
            var taken = 0
            var emptyReads = 0
            while let current = iterator, taken < limit {
                let response = try await call("GetRecords", ["ShardIterator": .string(current), "Limit": .int(min(1000, limit))])
                let records = response["Records"]?.array ?? []
                for record in records {
                    guard let change = try change(from: record, shard: shard.id) else { continue }
                    if let position, !StreamPosition.precedes(position.sequence, try StreamPosition(cursor: change.cursor).sequence) { continue }
                    collected.append((try StreamPosition(cursor: change.cursor).sequence, change))
                    taken += 1
                }
                iterator = response["NextShardIterator"]?.string
                // An open shard answers empty pages at its end; a couple in a row mean we are there.
                if records.isEmpty { emptyReads += 1 } else { emptyReads = 0 }
                if emptyReads >= 2 || (records.isEmpty && shard.end == nil) { break }
            }
        }
        collected.sort { StreamPosition.precedes($0.0, $1.0) }
        return Array(collected.prefix(limit).map(\.1))
    }

    /// The cursor of the newest record in the stream.
    func latest() async throws -> ChangeCursor? {
        var position: StreamPosition?
        while true {
            let batch = try await changes(after: position, limit: 1000)
            guard let last = batch.last else { return position?.cursor }
            position = try StreamPosition(cursor: last.cursor)
        }
    }

    private func change(from record: JSON, shard: String) throws -> Change? {
        guard let data = record["dynamodb"], let sequence = data["SequenceNumber"]?.string else {
            throw VideoStackError(.corrupt, "A DynamoDB Streams record has no sequence number: \(record.text.prefix(200))")
        }
        let kind: Change.Kind
        switch record["eventName"]?.string {
        case "INSERT": kind = .insert
        case "MODIFY": kind = .modify
        case "REMOVE": kind = .remove
        default: throw VideoStackError(.corrupt, "A DynamoDB Streams record has an unknown event name: \(record["eventName"]?.text ?? "none")")
        }
        let oldImage = try DynamoDBJSON.decodeItem(data["OldImage"])
        let newImage = try DynamoDBJSON.decodeItem(data["NewImage"])
        // AWS writes no record for a write that changes nothing; emulators may.
        if kind == .modify, let oldImage, let newImage, oldImage == newImage { return nil }
        let key = try DynamoDBJSON.decodeItem(data["Keys"]) ?? [:]
        let seconds = data["ApproximateCreationDateTime"]?.double ?? 0
        return Change(cursor: StreamPosition(sequence: sequence, shard: shard).cursor, kind: kind, key: key, oldImage: oldImage, newImage: newImage,
                      date: Date(timeIntervalSince1970: seconds))
    }
}
