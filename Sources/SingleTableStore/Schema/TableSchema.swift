internal import VideoCore
/// The type of a key attribute: DynamoDB keys are strings, numbers or binary.
public enum KeyType: String, Hashable, Sendable, Codable {
    case string = "S"
    case number = "N"
    case binary = "B"

    func matches(_ value: AttributeValue) -> Bool {
        switch (self, value) {
        case (.string, .s), (.number, .n), (.binary, .b): true
        default: false
        }
    }
}

/// A key attribute: its name and type.
public struct KeyAttribute: Hashable, Sendable, Codable {
    public var name: String
    public var type: KeyType

    public init(_ name: String, _ type: KeyType = .string) {
        self.name = name
        self.type = type
    }
}

/// Which attributes a secondary index returns.
public enum Projection: Hashable, Sendable, Codable {
    /// The whole item.
    case all
    /// Only the table's and the index's key attributes.
    case keysOnly
    /// The key attributes plus the named attributes.
    case include([String])
}

/// A global secondary index: the table's items re-keyed by other attributes.
///
/// Indexes are sparse: an item lacking the index's partition key (or its sort key, when the index
/// has one) is not in the index.
public struct SecondaryIndex: Hashable, Sendable, Codable {
    public var name: String
    public var partitionKey: KeyAttribute
    public var sortKey: KeyAttribute?
    public var projection: Projection

    public init(name: String, partitionKey: KeyAttribute, sortKey: KeyAttribute? = nil, projection: Projection = .all) {
        self.name = name
        self.partitionKey = partitionKey
        self.sortKey = sortKey
        self.projection = projection
    }
}

/// The key design of a table: partition key, optional sort key and secondary indexes.
public struct TableSchema: Hashable, Sendable, Codable {
    public var partitionKey: KeyAttribute
    public var sortKey: KeyAttribute?
    public var indexes: [SecondaryIndex]

    public init(partitionKey: KeyAttribute, sortKey: KeyAttribute? = nil, indexes: [SecondaryIndex] = []) {
        self.partitionKey = partitionKey
        self.sortKey = sortKey
        self.indexes = indexes
    }

    /// The single-table design VideoStack's services use: `PK`/`SK` strings and `GSI1` over
    /// `GSI1PK`/`GSI1SK`.
    public static let singleTable = TableSchema(
        partitionKey: KeyAttribute("PK"), sortKey: KeyAttribute("SK"),
        indexes: [SecondaryIndex(name: "GSI1", partitionKey: KeyAttribute("GSI1PK"), sortKey: KeyAttribute("GSI1SK"))]
    )

    /// The index named `name`, or an `invalidInput` error naming the indexes that exist.
    public func index(named name: String) throws -> SecondaryIndex {
        guard let index = indexes.first(where: { $0.name == name }) else {
            let known = indexes.map(\.name)
            throw VideoStackError(.invalidInput, "The table has no index named '\(name.prefix(100))'" + (known.isEmpty ? "; it has no secondary indexes." : "; its indexes are \(known.joined(separator: ", ")).") )
        }
        return index
    }

    /// The key attribute names of the table.
    public var keyNames: [String] { [partitionKey.name] + (sortKey.map { [$0.name] } ?? []) }

    /// Checks the schema itself: distinct non-empty names, unique index names.
    public func validate() throws {
        var seen = Set<String>()
        for attribute in [partitionKey] + (sortKey.map { [$0] } ?? []) where attribute.name.isEmpty {
            throw VideoStackError(.invalidInput, "Key attribute names must not be empty.")
        }
        if let sortKey, sortKey.name == partitionKey.name {
            throw VideoStackError(.invalidInput, "The partition key and the sort key must be different attributes; both are '\(sortKey.name)'.")
        }
        for index in indexes {
            guard !index.name.isEmpty, index.name.count <= 255, !index.partitionKey.name.isEmpty else {
                throw VideoStackError(.invalidInput, "An index needs a name of 1 to 255 characters and a partition key attribute.")
            }
            guard seen.insert(index.name).inserted else {
                throw VideoStackError(.invalidInput, "Two indexes are named '\(index.name)'; index names must be unique.")
            }
        }
    }
}
