internal import VideoCore

/// DynamoDB's limits, enforced by every backend so that code that works on a laptop also works
/// against DynamoDB.
public enum StoreLimits {
    /// The largest item, counting attribute names and values: 400 KB.
    public static let maximumItemSize = 400 * 1024
    /// The longest partition key value in bytes.
    public static let maximumPartitionKeySize = 2048
    /// The longest sort key value in bytes.
    public static let maximumSortKeySize = 1024
    /// The most actions in one transaction.
    public static let maximumTransactionActions = 100
    /// The most keys in one batch get.
    public static let maximumBatchGetKeys = 100
    /// The most writes in one batch write.
    public static let maximumBatchWrites = 25
    /// The most data one query or scan page returns.
    public static let maximumPageBytes = 1024 * 1024

    /// The size DynamoDB bills an item as: UTF-8 lengths of names plus value sizes.
    public static func size(of item: Item) -> Int {
        item.reduce(0) { $0 + $1.key.utf8.count + size(of: $1.value) }
    }

    static func size(of value: AttributeValue) -> Int {
        switch value {
        case .s(let s): return s.utf8.count
        case .n(let n): return numberSize(n)
        case .b(let b): return b.count
        case .bool, .null: return 1
        case .l(let list): return 3 + list.reduce(0) { $0 + 1 + size(of: $1) }
        case .m(let map): return 3 + map.reduce(0) { $0 + 1 + $1.key.utf8.count + size(of: $1.value) }
        case .ss(let set): return set.reduce(0) { $0 + $1.utf8.count }
        case .ns(let set): return set.reduce(0) { $0 + numberSize($1) }
        case .bs(let set): return set.reduce(0) { $0 + $1.count }
        }
    }

    private static func numberSize(_ n: Number) -> Int {
        (Number.digits(of: n).digits.count + 1) / 2 + 1
    }

    /// Checks an item before it is written: size, nesting, empty sets, and number precision.
    package static func validate(item: Item) throws {
        let size = size(of: item)
        guard size <= maximumItemSize else {
            throw VideoStackError(.limitExceeded, "The item is \(size) bytes; items may be at most \(maximumItemSize) bytes (400 KB). Store large data in the blob store and keep a reference in the item.")
        }
        for (name, value) in item {
            guard !name.isEmpty else {
                throw VideoStackError(.invalidInput, "Attribute names must not be empty.")
            }
            try validate(value: value, name: name, depth: 1)
        }
    }

    /// Checks one value (nesting, empty sets) of the attribute `name`, `depth` levels down.
    package static func validate(value: AttributeValue, name: String, depth: Int) throws {
        guard depth <= 32 else {
            throw VideoStackError(.limitExceeded, "The attribute '\(name)' nests more than 32 levels deep.")
        }
        var isEmptySet = false
        switch value {
        case .ss(let s): isEmptySet = s.isEmpty
        case .ns(let s): isEmptySet = s.isEmpty
        case .bs(let s): isEmptySet = s.isEmpty
        default: break
        }
        if isEmptySet {
            throw VideoStackError(.invalidInput, "The set attribute '\(name)' is empty; DynamoDB sets must have at least one element (remove the attribute instead).")
        }
        switch value {
        case .l(let list):
            for element in list { try validate(value: element, name: name, depth: depth + 1) }
        case .m(let map):
            for (key, element) in map { try validate(value: element, name: "\(name).\(key)", depth: depth + 1) }
        default:
            break
        }
    }
}
