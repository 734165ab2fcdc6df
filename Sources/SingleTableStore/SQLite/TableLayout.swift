internal import VideoCore

/// The store's key logic, independent of threads: turns items into the byte keys of the
/// `items` and `index_entries` tables, and checks keys against the schema.
struct TableLayout: Sendable {
    let schema: TableSchema
    /// Row id of each index in the `indexes` table, by name.
    let indexIDs: [String: Int64]
    /// The table's key attribute names, computed once (every read and write checks them).
    let keyNames: Set<String>

    init(schema: TableSchema, indexIDs: [String: Int64]) {
        self.schema = schema
        self.indexIDs = indexIDs
        self.keyNames = Set(schema.keyNames)
    }

    /// The encoded primary key of an item (or key): partition and sort key bytes.
    struct PrimaryKey: Hashable {
        var pk: [UInt8]
        var sk: [UInt8]
    }

    /// Checks that `key` has exactly the table's key attributes, of the right types and sizes.
    func primaryKey(ofKey key: Item) throws -> PrimaryKey {
        // As many attributes as key names, each of them present: exactly the key attributes.
        // A key has one or two attributes: walking them is cheaper than hashing two names.
        var partition: AttributeValue?
        var sort: AttributeValue?
        if key.count == keyNames.count {
            for (name, value) in key {
                if name == schema.partitionKey.name { partition = value } else if name == schema.sortKey?.name { sort = value }
            }
        }
        guard let partition, (sort == nil) == (schema.sortKey == nil) else {
            throw VideoStackError(.invalidInput, "A key must have exactly the attributes \(schema.keyNames.joined(separator: " and ")); this one has \(key.keys.sorted().joined(separator: ", ")).")
        }
        let pk = try encodeKeyValue(partition, schema.partitionKey, limit: StoreLimits.maximumPartitionKeySize, role: "partition key")
        let sk = try schema.sortKey.map { try encodeKeyValue(sort!, $0, limit: StoreLimits.maximumSortKeySize, role: "sort key") } ?? []
        return PrimaryKey(pk: pk, sk: sk)
    }

    /// The primary key of a whole item; throws when a key attribute is missing or malformed.
    func primaryKey(of item: Item) throws -> PrimaryKey {
        let pk = try encodeKey(item, schema.partitionKey, limit: StoreLimits.maximumPartitionKeySize, role: "partition key")
        let sk = try schema.sortKey.map { try encodeKey(item, $0, limit: StoreLimits.maximumSortKeySize, role: "sort key") } ?? []
        return PrimaryKey(pk: pk, sk: sk)
    }

    /// Only the key attributes of an item.
    func keyItem(of item: Item) -> Item {
        var key: Item = [:]
        for name in keyNames { key[name] = item[name] }
        return key
    }

    private func encodeKey(_ item: Item, _ attribute: KeyAttribute, limit: Int, role: String) throws -> [UInt8] {
        guard let value = item[attribute.name] else {
            throw VideoStackError(.invalidInput, "The item has no '\(attribute.name)' attribute, which is the table's \(role).")
        }
        return try encodeKeyValue(value, attribute, limit: limit, role: role)
    }

    func encodeKeyValue(_ value: AttributeValue, _ attribute: KeyAttribute, limit: Int, role: String) throws -> [UInt8] {
        guard attribute.type.matches(value) else {
            throw VideoStackError(.invalidInput, "'\(attribute.name)' is the \(role) and must be of type \(attribute.type.rawValue); got \(value.typeName).")
        }
        let bytes = KeyEncoding.encode(value)
        switch value {
        case .s(let s):
            guard !s.isEmpty else { throw VideoStackError(.invalidInput, "'\(attribute.name)' is the \(role) and must not be an empty string.") }
            guard s.utf8.count <= limit else { throw VideoStackError(.limitExceeded, "'\(attribute.name)' is the \(role): at most \(limit) bytes; got \(s.utf8.count).") }
        case .b(let b):
            guard !b.isEmpty else { throw VideoStackError(.invalidInput, "'\(attribute.name)' is the \(role) and must not be empty binary.") }
            guard b.count <= limit else { throw VideoStackError(.limitExceeded, "'\(attribute.name)' is the \(role): at most \(limit) bytes; got \(b.count).") }
        default:
            break
        }
        return bytes
    }

    /// An item's entry in an index: nil when the item lacks the index's key attributes (sparse).
    struct IndexKey: Hashable {
        var ipk: [UInt8]
        var isk: [UInt8]
    }

    func indexKey(of item: Item, in index: SecondaryIndex) throws -> IndexKey? {
        guard let pkValue = item[index.partitionKey.name] else { return nil }
        var isk: [UInt8] = []
        if let sortKey = index.sortKey {
            guard let skValue = item[sortKey.name] else { return nil }
            isk = try encodeKeyValue(skValue, sortKey, limit: StoreLimits.maximumSortKeySize, role: "sort key of index \(index.name)")
        }
        let ipk = try encodeKeyValue(pkValue, index.partitionKey, limit: StoreLimits.maximumPartitionKeySize, role: "partition key of index \(index.name)")
        return IndexKey(ipk: ipk, isk: isk)
    }

    /// The attributes an index query returns for an item.
    func project(_ item: Item, for index: SecondaryIndex) -> Item {
        switch index.projection {
        case .all:
            return item
        case .keysOnly, .include:
            var names = keyNames
            names.insert(index.partitionKey.name)
            if let sortKey = index.sortKey { names.insert(sortKey.name) }
            if case .include(let extra) = index.projection { names.formUnion(extra) }
            return item.filter { names.contains($0.key) }
        }
    }

    /// Validates a whole item for writing: keys, index keys, size and nesting.
    func validateForWrite(_ item: Item) throws -> PrimaryKey {
        let key = try primaryKey(of: item)
        try StoreLimits.validate(item: item)
        for index in schema.indexes { _ = try indexKey(of: item, in: index) }
        return key
    }
}
