import Foundation
internal import Crypto
internal import NIOHTTP1
internal import SingleTableStore
internal import VideoCore

extension DynamoDBItemStore {
    // MARK: Calls

    /// Sends one DynamoDB operation and refines its errors into the embedded store's codes.
    func call(_ operation: String, _ body: [String: JSON], subject: String) async throws -> JSON {
        try await Self.call(client: client, operation, body, subject: subject)
    }

    static func call(client: AWSClient, _ operation: String, _ body: [String: JSON], subject: String,
                     service: AWSService = .dynamoDB, target: String = "DynamoDB_20120810") async throws -> JSON {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-amz-json-1.0")
        headers.add(name: "X-Amz-Target", value: "\(target).\(operation)")
        do {
            let response = try await client.send(client.request(service, method: "POST", headers: headers), body: JSON.object(body).serialized[...],
                                                  service: service, operation: operation)
            return response.body.isEmpty ? .object([:]) : try JSON.parse(response.body, what: operation)
        } catch let error as VideoStackError {
            throw refine(error, subject: subject)
        }
    }

    /// DynamoDB reports most refusals as `ValidationException`; the embedded store distinguishes
    /// limits from malformed input, so the message decides.
    static func refine(_ error: VideoStackError, subject: String) -> VideoStackError {
        guard let service = error.cause as? AWSServiceError else { return error }
        let message = service.message
        switch service.code {
        case "ConditionalCheckFailedException":
            return VideoStackError(.conditionFailed, "The condition of \(subject) did not hold; nothing was written.", cause: service)
        case "ValidationException":
            let lower = message.lowercased()
            let isLimit = (lower.contains("size") && lower.contains("exceed")) || lower.contains("number overflow")
                || lower.contains("significant digits") || lower.contains("too large") || lower.contains("member must have length less than")
            return VideoStackError(isLimit ? .limitExceeded : .invalidInput, "DynamoDB refused \(subject): \(message)", cause: service)
        case "ResourceNotFoundException":
            return VideoStackError(.notFound, "DynamoDB could not find what \(subject) needs: \(message)", cause: service)
        default:
            return error
        }
    }

    // MARK: The table

    static func describe(client: AWSClient, tableName: String) async throws -> JSON? {
        do {
            return try await call(client: client, "DescribeTable", ["TableName": .string(tableName)], subject: "describing the table '\(tableName)'")["Table"]
        } catch let error as VideoStackError where error.code == .notFound {
            return nil
        }
    }

    static func create(client: AWSClient, tableName: String, schema: TableSchema, timeout: Duration) async throws -> JSON {
        var definitions: [String: String] = [:]
        func keySchema(_ partition: KeyAttribute, _ sort: KeyAttribute?) -> JSON {
            definitions[partition.name] = partition.type.rawValue
            var elements: [JSON] = [.object(["AttributeName": .string(partition.name), "KeyType": .string("HASH")])]
            if let sort {
                definitions[sort.name] = sort.type.rawValue
                elements.append(.object(["AttributeName": .string(sort.name), "KeyType": .string("RANGE")]))
            }
            return .array(elements)
        }
        var body: [String: JSON] = [
            "TableName": .string(tableName), "BillingMode": .string("PAY_PER_REQUEST"),
            "KeySchema": keySchema(schema.partitionKey, schema.sortKey),
            "StreamSpecification": .object(["StreamEnabled": .bool(true), "StreamViewType": .string("NEW_AND_OLD_IMAGES")]),
        ]
        if !schema.indexes.isEmpty {
            body["GlobalSecondaryIndexes"] = .array(schema.indexes.map { index in
                var projection: [String: JSON]
                switch index.projection {
                case .all: projection = ["ProjectionType": .string("ALL")]
                case .keysOnly: projection = ["ProjectionType": .string("KEYS_ONLY")]
                case .include(let names): projection = ["ProjectionType": .string("INCLUDE"), "NonKeyAttributes": .array(names.map { .string($0) })]
                }
                return .object(["IndexName": .string(index.name), "KeySchema": keySchema(index.partitionKey, index.sortKey), "Projection": .object(projection)])
            })
        }
        body["AttributeDefinitions"] = .array(definitions.keys.sorted().map { .object(["AttributeName": .string($0), "AttributeType": .string(definitions[$0]!)]) })
        do {
            _ = try await call(client: client, "CreateTable", body, subject: "creating the table '\(tableName)'")
        } catch let error as VideoStackError where (error.cause as? AWSServiceError)?.code == "ResourceInUseException" {
            // Another process is creating it: wait for it like for our own.
        }
        // Wait for ACTIVE (emulators are at once; AWS takes seconds, longer with indexes).
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var delay = Duration.milliseconds(50)
        while true {
            if let table = try await describe(client: client, tableName: tableName), table["TableStatus"]?.string == "ACTIVE",
               (table["GlobalSecondaryIndexes"]?.array ?? []).allSatisfy({ ($0["IndexStatus"]?.string ?? "ACTIVE") == "ACTIVE" }) {
                return table
            }
            guard clock.now < deadline else {
                throw VideoStackError(.serviceUnavailable, "The DynamoDB table '\(tableName)' did not become ACTIVE within \(timeout).")
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
        }
    }

    /// Checks that the table's keys and indexes are those of the schema.
    static func check(_ table: JSON, against schema: TableSchema, tableName: String) throws {
        let types = Dictionary((table["AttributeDefinitions"]?.array ?? []).compactMap { entry -> (String, String)? in
            guard let name = entry["AttributeName"]?.string, let type = entry["AttributeType"]?.string else { return nil }
            return (name, type)
        }, uniquingKeysWith: { a, _ in a })
        func keys(_ json: JSON?) -> [String: String] {
            Dictionary((json?.array ?? []).compactMap { entry -> (String, String)? in
                guard let name = entry["AttributeName"]?.string, let role = entry["KeyType"]?.string else { return nil }
                return (role, name)
            }, uniquingKeysWith: { a, _ in a })
        }
        func matches(_ json: JSON?, _ partition: KeyAttribute, _ sort: KeyAttribute?) -> Bool {
            let found = keys(json)
            return found["HASH"] == partition.name && types[partition.name] == partition.type.rawValue
                && found["RANGE"] == sort?.name && (sort == nil || types[sort!.name] == sort!.type.rawValue)
        }
        guard matches(table["KeySchema"], schema.partitionKey, schema.sortKey) else {
            throw VideoStackError(.invalidInput, "The DynamoDB table '\(tableName)' has other keys than the schema (\(schema.keyNames.joined(separator: ", "))); use another table or adjust the schema.")
        }
        let indexes = table["GlobalSecondaryIndexes"]?.array ?? []
        for index in schema.indexes {
            guard let found = indexes.first(where: { $0["IndexName"]?.string == index.name }) else {
                throw VideoStackError(.invalidInput, "The DynamoDB table '\(tableName)' has no index '\(index.name)'; add it (UpdateTable) or remove it from the schema.")
            }
            guard matches(found["KeySchema"], index.partitionKey, index.sortKey) else {
                throw VideoStackError(.invalidInput, "The index '\(index.name)' of the DynamoDB table '\(tableName)' has other keys than the schema says.")
            }
        }
    }

    // MARK: Checks before sending

    static func matches(_ type: KeyType, _ value: AttributeValue) -> Bool {
        switch (type, value) {
        case (.string, .s), (.number, .n), (.binary, .b): true
        default: false
        }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte == 0x2D || byte == 0x2E
    }

    func keyAttributes(index: String?) throws -> (KeyAttribute, KeyAttribute?) {
        guard let index else { return (schema.partitionKey, schema.sortKey) }
        let found = try schema.index(named: index)
        return (found.partitionKey, found.sortKey)
    }

    func keyOf(_ item: Item) -> Item {
        var key: Item = [:]
        for name in schema.keyNames { key[name] = item[name] }
        return key
    }

    func describe(_ item: Item) -> String {
        let parts = schema.keyNames.map { "\($0)=\(item[$0].map { "\($0)" }?.prefix(60) ?? "?")" }
        return "item (" + parts.joined(separator: ", ") + ")"
    }

    /// A key: exactly the key attributes, of the schema's types, within DynamoDB's sizes.
    func checkKey(_ key: Item) throws {
        let names = Set(schema.keyNames)
        if let extra = key.keys.first(where: { !names.contains($0) }) {
            throw VideoStackError(.invalidInput, "A key has only the key attributes (\(schema.keyNames.joined(separator: ", "))); '\(extra)' is not one.")
        }
        try checkKeyAttributes(key)
    }

    private func checkKeyAttributes(_ item: Item) throws {
        for (attribute, limit) in [(schema.partitionKey, StoreLimits.maximumPartitionKeySize)] + (schema.sortKey.map { [($0, StoreLimits.maximumSortKeySize)] } ?? []) {
            guard let value = item[attribute.name] else {
                throw VideoStackError(.invalidInput, "The item has no '\(attribute.name)', a key attribute of the table.")
            }
            guard Self.matches(attribute.type, value) else {
                throw VideoStackError(.invalidInput, "The key attribute '\(attribute.name)' is of type \(attribute.type.rawValue); the item has a \(value.typeName).")
            }
            try checkKeySize(value, limit: limit, role: attribute.name == schema.partitionKey.name ? "partition key" : "sort key")
        }
    }

    func checkKeySize(_ value: AttributeValue, limit: Int, role: String) throws {
        let size: Int
        switch value {
        case .s(let s): size = s.utf8.count
        case .b(let b): size = b.count
        default: size = 1
        }
        guard size > 0 else { throw VideoStackError(.invalidInput, "A \(role) must not be empty.") }
        guard size <= limit else {
            throw VideoStackError(.limitExceeded, "A \(role) may be at most \(limit) bytes; this one has \(size).")
        }
        try checkValue(value, name: role, depth: 1)
    }

    /// An item to write: its keys, its index keys' types, its size and values.
    func checkItem(_ item: Item) throws {
        try checkKeyAttributes(item)
        for index in schema.indexes {
            for attribute in [index.partitionKey] + (index.sortKey.map { [$0] } ?? []) {
                if let value = item[attribute.name], !Self.matches(attribute.type, value) {
                    throw VideoStackError(.invalidInput, "'\(attribute.name)' is a key of the index '\(index.name)' and must be of type \(attribute.type.rawValue); the item has a \(value.typeName).")
                }
                if let value = item[attribute.name], case .s(let s) = value, s.isEmpty {
                    throw VideoStackError(.invalidInput, "'\(attribute.name)' is a key of the index '\(index.name)' and must not be empty.")
                }
            }
        }
        try StoreLimits.validate(item: item)
    }

    /// The values an update writes.
    func checkUpdateValues(_ actions: [UpdateAction]) throws {
        func check(_ value: UpdateValue) throws {
            switch value {
            case .value(let v): try checkValue(v, name: "update value", depth: 1)
            case .path: break
            case .ifNotExists(_, let v): try checkValue(v, name: "update value", depth: 1)
            case .plus(let a, let b), .minus(let a, let b), .listAppend(let a, let b): try check(a); try check(b)
            }
        }
        for action in actions {
            switch action {
            case .set(_, let v): try check(v)
            case .add(_, let v), .delete(_, let v): try checkValue(v, name: "update operand", depth: 1)
            case .remove: break
            }
        }
    }

    /// Numbers are checked when they are made (38 digits, DynamoDB's range); nesting and empty
    /// sets the embedded store's way.
    private func checkValue(_ value: AttributeValue, name: String, depth: Int) throws {
        try StoreLimits.validate(value: value, name: name, depth: depth)
    }

    static func returnValuesName(_ value: ReturnValues) -> String {
        switch value {
        case .none: "NONE"
        case .allOld: "ALL_OLD"
        case .updatedOld: "UPDATED_OLD"
        case .allNew: "ALL_NEW"
        case .updatedNew: "UPDATED_NEW"
        }
    }

    static func isTypeError(_ actions: [UpdateAction]) -> Bool {
        actions.contains { (try? ExpressionBuilder.checkOperandTypes($0)) == nil }
    }

    static func order(_ a: AttributeValue, _ b: AttributeValue) -> Int? {
        switch (a, b) {
        case (.s(let x), .s(let y)): return x.utf8.elementsEqual(y.utf8) ? 0 : (x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1)
        case (.n(let x), .n(let y)): return x == y ? 0 : (x < y ? -1 : 1)
        case (.b(let x), .b(let y)): return x == y ? 0 : (x.lexicographicallyPrecedes(y) ? -1 : 1)
        default: return nil
        }
    }

    // MARK: Page tokens

    /// What a token belongs to: a query of one partition of the table or an index, or a scan.
    struct TokenScope {
        var kind: String
        var index: String?
        var partition: JSON
    }

    func encodeToken(_ lastKey: JSON, scope: TokenScope) throws -> PageToken {
        try PageTokenCodec(tableName: tableName).encode(lastKey, scope: scope)
    }

    func decodeToken(_ token: PageToken, scope: TokenScope) throws -> JSON {
        try PageTokenCodec(tableName: tableName).decode(token, scope: scope)
    }
}

/// Page tokens of one table.
struct PageTokenCodec {
    let tableName: String

    /// `base64url(json + 8 bytes of SHA-256(table + json))`: opaque to clients, and any change to
    /// it (or its use on another table) fails the check.
    func encode(_ lastKey: JSON, scope: DynamoDBItemStore.TokenScope) throws -> PageToken {
        let payload = JSON.object(["t": .string(scope.kind), "i": scope.index.map { .string($0) } ?? .null, "p": scope.partition, "k": lastKey]).serialized
        let check = Array(SHA256.hash(data: Array(tableName.utf8) + [0] + payload)).prefix(8)
        return PageToken(Data(payload + check).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: ""))
    }

    func decode(_ token: PageToken, scope: DynamoDBItemStore.TokenScope) throws -> JSON {
        func invalid(_ why: String) -> VideoStackError {
            VideoStackError(.invalidInput, "The page token is not valid here (\(why)); pass the nextToken of the previous page of the same query unchanged.")
        }
        var base64 = token.text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard token.text.utf8.count <= 8192, let data = Data(base64Encoded: base64), data.count > 8 else { throw invalid("malformed") }
        let bytes = Array(data)
        let payload = Array(bytes.dropLast(8))
        guard Array(SHA256.hash(data: Array(tableName.utf8) + [0] + payload)).prefix(8).elementsEqual(bytes.suffix(8)) else { throw invalid("altered") }
        guard let json = try? JSON.parse(payload, what: "page token"), let key = json["k"] else { throw invalid("malformed") }
        guard json["t"]?.string == scope.kind, json["i"]?.string == scope.index else { throw invalid("it belongs to another index or kind of read") }
        guard json["p"] == scope.partition else { throw invalid("it belongs to another partition") }
        return key
    }
}
