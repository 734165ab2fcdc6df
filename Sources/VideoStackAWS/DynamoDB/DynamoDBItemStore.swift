internal import Foundation
public import SingleTableStore
internal import VideoCore
internal import Crypto
internal import NIOHTTP1

/// An ``ItemStore`` on an Amazon DynamoDB table, over DynamoDB's JSON API (`DynamoDB_20120810`),
/// with the change feed read from the table's DynamoDB Stream.
///
/// It keeps the embedded store's semantics and error codes, so code written against
/// ``SQLiteItemStore`` runs unchanged:
/// - Keys, item sizes, number precision, batch and transaction sizes are checked before a
///   request is sent, with the same `invalidInput`/`limitExceeded` errors.
/// - Conditions and updates become expression strings with `#name` and `:value` placeholders.
/// - Transactions carry a client token (an HTTP retry never applies one twice) and ask for the
///   old item on a failed condition, so ``CancellationReason/conditionalCheckFailed(_:)`` has it;
///   a transaction cancelled only by a conflicting one is retried.
/// - Page tokens wrap `LastEvaluatedKey` with the query's index and partition and a checksum,
///   so a token that was altered or belongs to another query is refused.
/// - Unprocessed batch items are sent again with backoff.
///
/// Index queries are eventually consistent in DynamoDB (as in every GSI); the embedded store's
/// are not. See `Documentation/ScaleOut.md`.
public final class DynamoDBItemStore: ItemStore {
    /// The key design, checked against the table when the store opens.
    public let schema: TableSchema
    /// The DynamoDB table.
    public let tableName: String
    /// The client requests go through.
    public let client: AWSClient
    /// How the table is used.
    public let configuration: DynamoDBStoreConfiguration
    /// The table's stream, when it has one (the change feed needs it).
    public let streamARN: String?
    let streams: DynamoDBStreamReader?

    /// Opens the table, creating it when the configuration says so, and checks that its keys and
    /// indexes are those of `schema`.
    ///
    /// Throws `notFound` for a missing table that may not be created, `invalidInput` for a
    /// table whose keys or indexes differ from the schema.
    public init(client: AWSClient, tableName: String, schema: TableSchema, configuration: DynamoDBStoreConfiguration = DynamoDBStoreConfiguration()) async throws {
        try schema.validate()
        try Self.validate(tableName: tableName)
        self.client = client
        self.tableName = tableName
        self.schema = schema
        self.configuration = configuration
        var description = try await Self.describe(client: client, tableName: tableName)
        if description == nil {
            guard configuration.createsTable else {
                throw VideoStackError(.notFound, "The DynamoDB table '\(tableName)' does not exist; create it or set createsTable.")
            }
            description = try await Self.create(client: client, tableName: tableName, schema: schema, timeout: configuration.tableCreationTimeout)
        }
        try Self.check(description!, against: schema, tableName: tableName)
        let view = description!["StreamSpecification"]?["StreamViewType"]?.string
        let enabled = description!["StreamSpecification"]?["StreamEnabled"]?.bool ?? (view != nil)
        streamARN = enabled && view == "NEW_AND_OLD_IMAGES" ? description!["LatestStreamArn"]?.string : nil
        streams = streamARN.map { DynamoDBStreamReader(client: client, streamARN: $0) }
    }

    /// Throws `invalidInput` unless `tableName` is a DynamoDB table name.
    static func validate(tableName: String) throws {
        guard (3...255).contains(tableName.utf8.count), tableName.utf8.allSatisfy({ Self.isNameByte($0) }) else {
            throw VideoStackError(.invalidInput, "'\(tableName.prefix(80))' is not a DynamoDB table name: use 3 to 255 letters, digits, '_', '-' and '.'.")
        }
    }

    // MARK: Items

    @discardableResult
    public func putItem(_ item: Item, condition: Condition?, returnOld: Bool) async throws -> Item? {
        try checkItem(item)
        var builder = ExpressionBuilder()
        var body: [String: JSON] = ["TableName": .string(tableName), "Item": DynamoDBJSON.encode(item),
                                    "ReturnValues": .string(returnOld ? "ALL_OLD" : "NONE")]
        if let condition { body["ConditionExpression"] = .string(try builder.condition(condition)) }
        body.merge(builder.members) { $1 }
        let response = try await call("PutItem", body, subject: "the put of \(describe(item))")
        return try DynamoDBJSON.decodeItem(response["Attributes"])
    }

    public func getItem(key: Item) async throws -> Item? {
        try checkKey(key)
        let response = try await call("GetItem", ["TableName": .string(tableName), "Key": DynamoDBJSON.encode(key),
                                                  "ConsistentRead": .bool(configuration.consistentReads)], subject: "the read of \(describe(key))")
        return try DynamoDBJSON.decodeItem(response["Item"])
    }

    @discardableResult
    public func updateItem(key: Item, actions: [UpdateAction], condition: Condition?, returnValues: ReturnValues) async throws -> Item? {
        try checkKey(key)
        var builder = ExpressionBuilder()
        var body: [String: JSON] = ["TableName": .string(tableName), "Key": DynamoDBJSON.encode(key),
                                    "UpdateExpression": .string(try builder.update(actions, keyNames: Set(schema.keyNames))),
                                    "ReturnValues": .string(Self.returnValuesName(returnValues))]
        try checkUpdateValues(actions)
        if let condition { body["ConditionExpression"] = .string(try builder.condition(condition)) }
        body.merge(builder.members) { $1 }
        let response = try await call("UpdateItem", body, subject: "the update of \(describe(key))")
        guard returnValues != .none else { return nil }
        return try DynamoDBJSON.decodeItem(response["Attributes"]) ?? (returnValues == .updatedOld || returnValues == .allOld ? nil : [:])
    }

    @discardableResult
    public func deleteItem(key: Item, condition: Condition?, returnOld: Bool) async throws -> Item? {
        try checkKey(key)
        var builder = ExpressionBuilder()
        var body: [String: JSON] = ["TableName": .string(tableName), "Key": DynamoDBJSON.encode(key),
                                    "ReturnValues": .string(returnOld ? "ALL_OLD" : "NONE")]
        if let condition { body["ConditionExpression"] = .string(try builder.condition(condition)) }
        body.merge(builder.members) { $1 }
        let response = try await call("DeleteItem", body, subject: "the delete of \(describe(key))")
        return try DynamoDBJSON.decodeItem(response["Attributes"])
    }

    // MARK: Queries and scans

    public func query(_ query: Query) async throws -> Page {
        let (partitionKey, sortKey) = try keyAttributes(index: query.index)
        guard Self.matches(partitionKey.type, query.partitionKey) else {
            throw VideoStackError(.invalidInput, "The partition key '\(partitionKey.name)' is of type \(partitionKey.type.rawValue); the query gives a \(query.partitionKey.typeName).")
        }
        try checkKeySize(query.partitionKey, limit: StoreLimits.maximumPartitionKeySize, role: "partition key")
        if let limit = query.limit, limit <= 0 { throw VideoStackError(.invalidInput, "A query limit must be positive; got \(limit).") }
        var builder = ExpressionBuilder()
        var keyCondition = "\(builder.name(partitionKey.name)) = \(builder.value(query.partitionKey))"
        if let condition = query.sortKey {
            guard let sortKey else {
                throw VideoStackError(.invalidInput, "The \(query.index.map { "index '\($0)'" } ?? "table") has no sort key, so the query cannot have a sort-key condition.")
            }
            keyCondition += " AND " + (try sortCondition(condition, sortKey: sortKey, builder: &builder))
        }
        var body: [String: JSON] = ["TableName": .string(tableName), "KeyConditionExpression": .string(keyCondition),
                                    "ScanIndexForward": .bool(query.ascending)]
        if let index = query.index { body["IndexName"] = .string(index) } else { body["ConsistentRead"] = .bool(configuration.consistentReads) }
        if let limit = query.limit { body["Limit"] = .int(limit) }
        if let filter = query.filter { body["FilterExpression"] = .string(try builder.condition(filter)) }
        let scope = TokenScope(kind: "q", index: query.index, partition: DynamoDBJSON.encode(query.partitionKey))
        if let token = query.startToken { body["ExclusiveStartKey"] = try decodeToken(token, scope: scope) }
        body.merge(builder.members) { $1 }
        return try await page(try await call("Query", body, subject: "the query of partition \(query.partitionKey)"), limit: query.limit, scope: scope,
                              keyAttributes: [partitionKey, sortKey].compactMap { $0 })
    }

    public func scan(_ scan: Scan) async throws -> Page {
        let (partitionKey, sortKey) = try keyAttributes(index: scan.index)
        if let limit = scan.limit, limit <= 0 { throw VideoStackError(.invalidInput, "A scan limit must be positive; got \(limit).") }
        var builder = ExpressionBuilder()
        var body: [String: JSON] = ["TableName": .string(tableName)]
        if let index = scan.index { body["IndexName"] = .string(index) } else { body["ConsistentRead"] = .bool(configuration.consistentReads) }
        if let limit = scan.limit { body["Limit"] = .int(limit) }
        if let filter = scan.filter { body["FilterExpression"] = .string(try builder.condition(filter)) }
        let scope = TokenScope(kind: "s", index: scan.index, partition: .null)
        if let token = scan.startToken { body["ExclusiveStartKey"] = try decodeToken(token, scope: scope) }
        body.merge(builder.members) { $1 }
        return try await page(try await call("Scan", body, subject: "the scan"), limit: scan.limit, scope: scope,
                              keyAttributes: [partitionKey, sortKey].compactMap { $0 })
    }

    private func page(_ response: JSON, limit: Int?, scope: TokenScope, keyAttributes: [KeyAttribute]) async throws -> Page {
        let items = try (response["Items"]?.array ?? []).map { try DynamoDBJSON.decodeItem($0) ?? [:] }
        let scanned = response["ScannedCount"]?.int ?? items.count
        var lastKey = response["LastEvaluatedKey"]
        if lastKey == nil, let limit, scanned == limit, items.count == scanned, let last = items.last {
            // AWS returns LastEvaluatedKey whenever a page stops at its limit, even with nothing
            // after it; some emulators leave it out. Rebuild it from the last item, as AWS would.
            var key: Item = [:]
            for name in schema.keyNames + keyAttributes.map(\.name) { key[name] = last[name] }
            lastKey = DynamoDBJSON.encode(key)
        }
        return Page(items: items, scannedCount: scanned, nextToken: try lastKey.map { try encodeToken($0, scope: scope) })
    }

    private func sortCondition(_ condition: SortKeyCondition, sortKey: KeyAttribute, builder: inout ExpressionBuilder) throws -> String {
        func operand(_ value: AttributeValue) throws -> String {
            guard Self.matches(sortKey.type, value) else {
                throw VideoStackError(.invalidInput, "The sort key '\(sortKey.name)' is of type \(sortKey.type.rawValue); the condition gives a \(value.typeName).")
            }
            try checkKeySize(value, limit: StoreLimits.maximumSortKeySize, role: "sort key")
            return builder.value(value)
        }
        let name = builder.name(sortKey.name)
        switch condition {
        case .equal(let v): return "\(name) = \(try operand(v))"
        case .less(let v): return "\(name) < \(try operand(v))"
        case .lessOrEqual(let v): return "\(name) <= \(try operand(v))"
        case .greater(let v): return "\(name) > \(try operand(v))"
        case .greaterOrEqual(let v): return "\(name) >= \(try operand(v))"
        case .between(let low, let high):
            if let order = Self.order(low, high), order > 0 {
                throw VideoStackError(.invalidInput, "A BETWEEN condition needs its lower bound first; \(low) is greater than \(high).")
            }
            return "\(name) BETWEEN \(try operand(low)) AND \(try operand(high))"
        case .beginsWith(let prefix):
            guard sortKey.type != .number else {
                throw VideoStackError(.invalidInput, "begins_with works on string and binary sort keys; '\(sortKey.name)' is a number.")
            }
            return "begins_with(\(name), \(try operand(prefix)))"
        }
    }

    // MARK: Batches

    public func batchGet(keys: [Item]) async throws -> [Item] {
        guard keys.count <= StoreLimits.maximumBatchGetKeys else {
            throw VideoStackError(.limitExceeded, "A batch get reads at most \(StoreLimits.maximumBatchGetKeys) keys; \(keys.count) were given.")
        }
        guard !keys.isEmpty else { return [] }
        for key in keys { try checkKey(key) }
        guard Set(keys).count == keys.count else {
            throw VideoStackError(.invalidInput, "A batch get lists the same key twice; give each key once.")
        }
        var pending: JSON = .array(keys.map(DynamoDBJSON.encode))
        var found: [Item] = []
        for round in 0...configuration.batchRetries {
            if round > 0 { try await client.retryStrategy.sleep(client.retryStrategy.delay(beforeRetry: round)) }
            let response = try await call("BatchGetItem", ["RequestItems": .object([tableName: .object(["Keys": pending, "ConsistentRead": .bool(configuration.consistentReads)])])],
                                          subject: "a batch get")
            found += try (response["Responses"]?[tableName]?.array ?? []).compactMap { try DynamoDBJSON.decodeItem($0) }
            guard let left = response["UnprocessedKeys"]?[tableName]?["Keys"], let list = left.array, !list.isEmpty else { return found }
            pending = left
        }
        throw VideoStackError(.serviceUnavailable, "DynamoDB left keys of a batch get unprocessed after \(configuration.batchRetries) retries; lower the request rate or raise the table's capacity.")
    }

    public func batchWrite(_ requests: [WriteRequest]) async throws {
        guard requests.count <= StoreLimits.maximumBatchWrites else {
            throw VideoStackError(.limitExceeded, "A batch write has at most \(StoreLimits.maximumBatchWrites) writes; \(requests.count) were given.")
        }
        guard !requests.isEmpty else { return }
        var keys: [Item] = []
        var writes: [JSON] = []
        for request in requests {
            switch request {
            case .put(let item):
                try checkItem(item)
                keys.append(keyOf(item))
                writes.append(.object(["PutRequest": .object(["Item": DynamoDBJSON.encode(item)])]))
            case .delete(let key):
                try checkKey(key)
                keys.append(key)
                writes.append(.object(["DeleteRequest": .object(["Key": DynamoDBJSON.encode(key)])]))
            }
        }
        guard Set(keys).count == keys.count else {
            throw VideoStackError(.invalidInput, "A batch write touches the same item twice; give each item once.")
        }
        var pending: JSON = .array(writes)
        for round in 0...configuration.batchRetries {
            if round > 0 { try await client.retryStrategy.sleep(client.retryStrategy.delay(beforeRetry: round)) }
            let response = try await call("BatchWriteItem", ["RequestItems": .object([tableName: pending])], subject: "a batch write")
            guard let left = response["UnprocessedItems"]?[tableName], let list = left.array, !list.isEmpty else { return }
            pending = left
        }
        throw VideoStackError(.serviceUnavailable, "DynamoDB left writes of a batch unprocessed after \(configuration.batchRetries) retries; lower the request rate or raise the table's capacity.")
    }

    // MARK: Transactions

    public func transactWrite(_ actions: [TransactAction]) async throws {
        guard actions.count <= StoreLimits.maximumTransactionActions else {
            throw VideoStackError(.limitExceeded, "A transaction has at most \(StoreLimits.maximumTransactionActions) actions; this one has \(actions.count).")
        }
        guard !actions.isEmpty else { throw VideoStackError(.invalidInput, "A transaction needs at least one action.") }
        var keys = Set<Item>()
        var items: [JSON] = []
        var staticFailure: (Int, String)?
        for (index, action) in actions.enumerated() {
            var builder = ExpressionBuilder()
            var body: [String: JSON] = ["TableName": .string(tableName), "ReturnValuesOnConditionCheckFailure": .string("ALL_OLD")]
            let key: Item
            let kind: String
            var condition: Condition?
            switch action {
            case .put(let item, let c):
                try checkItem(item)
                key = keyOf(item)
                kind = "Put"
                body["Item"] = DynamoDBJSON.encode(item)
                condition = c
            case .update(let k, let updates, let c):
                try checkKey(k)
                key = k
                kind = "Update"
                body["Key"] = DynamoDBJSON.encode(k)
                do {
                    body["UpdateExpression"] = .string(try builder.update(updates, keyNames: Set(schema.keyNames)))
                    try checkUpdateValues(updates)
                } catch let error as VideoStackError where error.code == .invalidInput && staticFailure == nil && Self.isTypeError(updates) {
                    // A type error of one action cancels the transaction with a reason, as the
                    // embedded store reports it, rather than failing the request as a whole.
                    staticFailure = (index, error.message)
                }
                condition = c
            case .delete(let k, let c):
                try checkKey(k)
                key = k
                kind = "Delete"
                body["Key"] = DynamoDBJSON.encode(k)
                condition = c
            case .conditionCheck(let k, let c):
                try checkKey(k)
                key = k
                kind = "ConditionCheck"
                body["Key"] = DynamoDBJSON.encode(k)
                condition = c
            }
            guard keys.insert(key).inserted else {
                throw VideoStackError(.invalidInput, "A transaction touches \(describe(key)) twice; each item may appear in one action only.")
            }
            if let condition { body["ConditionExpression"] = .string(try builder.condition(condition)) }
            body.merge(builder.members) { $1 }
            items.append(.object([kind: .object(body)]))
        }
        if let (index, message) = staticFailure {
            var reasons = [CancellationReason](repeating: .none, count: actions.count)
            reasons[index] = .validationError(message)
            throw VideoStackError(.transactionCanceled, "The transaction was cancelled: action \(index + 1) is invalid (\(message)). Nothing was written.",
                                  cause: TransactionCancellation(reasons))
        }
        var attempt = 0
        while true {
            do {
                _ = try await call("TransactWriteItems", ["TransactItems": .array(items), "ClientRequestToken": .string(UUID().uuidString)],
                                   subject: "a transaction of \(actions.count) actions")
                return
            } catch let error as VideoStackError where error.code == .transactionCanceled {
                let reasons = try Self.cancellationReasons(error, count: actions.count)
                if reasons.conflict && attempt < configuration.transactionConflictRetries {
                    attempt += 1
                    try await client.retryStrategy.sleep(client.retryStrategy.delay(beforeRetry: attempt))
                    continue
                }
                if reasons.conflict {
                    throw VideoStackError(.conflict, "The transaction kept conflicting with other transactions on the same items (\(attempt + 1) attempts); nothing was written. Try again.",
                                          cause: TransactionCancellation(reasons.reasons))
                }
                let failed = reasons.reasons.enumerated().filter { $0.element != .none }.map { "action \($0.offset + 1): \($0.element)" }
                throw VideoStackError(.transactionCanceled, "The transaction was cancelled (\(failed.joined(separator: "; "))). Nothing was written.",
                                      cause: TransactionCancellation(reasons.reasons))
            }
        }
    }

    /// Reads `CancellationReasons` from DynamoDB's answer.
    static func cancellationReasons(_ error: VideoStackError, count: Int) throws -> (reasons: [CancellationReason], conflict: Bool) {
        guard let service = error.cause as? AWSServiceError, let json = try? JSON.parse(Array(service.body.utf8), what: "TransactWriteItems"),
              let list = json["CancellationReasons"]?.array else {
            // No per-action detail (older emulators): every action is reported without a reason.
            return ([CancellationReason](repeating: .none, count: count), false)
        }
        var conflict = false
        var reasons: [CancellationReason] = []
        for entry in list {
            switch entry["Code"]?.string ?? "None" {
            case "None": reasons.append(.none)
            case "ConditionalCheckFailed": reasons.append(.conditionalCheckFailed(try DynamoDBJSON.decodeItem(entry["Item"])))
            case "TransactionConflict":
                conflict = true
                reasons.append(.validationError("TransactionConflict: \(entry["Message"]?.string ?? "")"))
            case let code: reasons.append(.validationError("\(code): \(entry["Message"]?.string ?? "")"))
            }
        }
        while reasons.count < count { reasons.append(.none) }
        return (Array(reasons.prefix(count)), conflict)
    }

    // MARK: Change feed

    public func changes(after cursor: ChangeCursor?, limit: Int) async throws -> [Change] {
        guard limit > 0 else { throw VideoStackError(.invalidInput, "A change-feed limit must be positive; got \(limit).") }
        let position = try cursor.map { try StreamPosition(cursor: $0) }
        let reader = try streamReader()
        // A feed read runs to completion even when its caller is cancelled, as the embedded
        // store's reads do: followers stop at their next wait instead of seeing a failed read
        // at every shutdown. It is bounded by the client's attempts and timeouts.
        return try await Task { try await reader.changes(after: position, limit: limit) }.value
    }

    public func latestChangeCursor() async throws -> ChangeCursor? {
        let reader = try streamReader()
        return try await Task { try await reader.latest() }.value
    }

    private func streamReader() throws -> DynamoDBStreamReader {
        guard let streams else {
            throw VideoStackError(.unsupported, "The DynamoDB table '\(tableName)' has no stream with NEW_AND_OLD_IMAGES, so it has no change feed; enable one (UpdateTable StreamSpecification).")
        }
        return streams
    }
}
