public import VideoCore
public import Foundation

/// A condition on the sort key of a query.
public enum SortKeyCondition: Hashable, Sendable {
    case equal(AttributeValue)
    case less(AttributeValue)
    case lessOrEqual(AttributeValue)
    case greater(AttributeValue)
    case greaterOrEqual(AttributeValue)
    /// Inclusive on both ends.
    case between(AttributeValue, AttributeValue)
    /// String or binary sort keys that start with the prefix.
    case beginsWith(AttributeValue)
}

/// A query: the items of one partition of the table or of an index, in sort-key order.
public struct Query: Sendable {
    /// Query this secondary index instead of the table.
    public var index: String?
    /// Value of the (table's or index's) partition key.
    public var partitionKey: AttributeValue
    /// Narrows the partition to a range of sort keys; nil reads the whole partition.
    public var sortKey: SortKeyCondition?
    /// Ascending sort-key order when true (DynamoDB's `ScanIndexForward`).
    public var ascending: Bool
    /// The most items to evaluate (before the filter), as DynamoDB's `Limit`.
    public var limit: Int?
    /// Drops evaluated items that do not match; does not change what counts toward `limit`.
    public var filter: Condition?
    /// Continue after the page that returned this token.
    public var startToken: PageToken?

    public init(index: String? = nil, partitionKey: AttributeValue, sortKey: SortKeyCondition? = nil, ascending: Bool = true,
                limit: Int? = nil, filter: Condition? = nil, startToken: PageToken? = nil) {
        self.index = index
        self.partitionKey = partitionKey
        self.sortKey = sortKey
        self.ascending = ascending
        self.limit = limit
        self.filter = filter
        self.startToken = startToken
    }
}

/// A scan: every item of the table or of an index, a page at a time.
public struct Scan: Sendable {
    /// Scan this secondary index (its items in index-key order) instead of the table.
    public var index: String?
    /// The most items to evaluate (before the filter).
    public var limit: Int?
    /// Drops evaluated items that do not match.
    public var filter: Condition?
    /// Continue after the page that returned this token.
    public var startToken: PageToken?

    public init(index: String? = nil, limit: Int? = nil, filter: Condition? = nil, startToken: PageToken? = nil) {
        self.index = index
        self.limit = limit
        self.filter = filter
        self.startToken = startToken
    }
}

/// An opaque position in a query or scan (DynamoDB's `LastEvaluatedKey`), safe to hand to
/// clients as text. A token that was tampered with is rejected with `invalidInput`.
public struct PageToken: Hashable, Sendable, CustomStringConvertible {
    /// URL-safe base64 text.
    public let text: String

    public init(_ text: String) { self.text = text }
    public var description: String { text }
}

/// One page of results.
public struct Page: Sendable {
    public var items: [Item]
    /// Items evaluated before the filter.
    public var scannedCount: Int
    /// Pass as `startToken` for the next page; nil when the query or scan is complete.
    ///
    /// As DynamoDB's `LastEvaluatedKey`, it is present whenever the page stopped at its limit
    /// (or at 1 MB of items), even if no item follows; the page after it is then empty and has
    /// no token. So code written against one backend pages the same way on the other.
    public var nextToken: PageToken?

    public init(items: [Item], scannedCount: Int, nextToken: PageToken?) {
        self.items = items
        self.scannedCount = scannedCount
        self.nextToken = nextToken
    }
}

/// One write of a batch write.
public enum WriteRequest: Sendable {
    case put(Item)
    case delete(key: Item)
}

/// One action of a transaction.
public enum TransactAction: Sendable {
    case put(Item, condition: Condition? = nil)
    case update(key: Item, actions: [UpdateAction], condition: Condition? = nil)
    case delete(key: Item, condition: Condition? = nil)
    /// Checks a condition on an item without writing it.
    case conditionCheck(key: Item, condition: Condition)
}

/// Why one action of a cancelled transaction failed (DynamoDB's `CancellationReasons`).
public enum CancellationReason: Hashable, Sendable, CustomStringConvertible {
    /// This action was fine; another one failed.
    case none
    /// The action's condition did not hold; the item as it was (nil if it did not exist).
    case conditionalCheckFailed(Item?)
    /// The action was invalid (a type mismatch in an update, an item too large, …).
    case validationError(String)

    public var description: String {
        switch self {
        case .none: "None"
        case .conditionalCheckFailed: "ConditionalCheckFailed"
        case .validationError(let message): "ValidationError: \(message)"
        }
    }
}

/// The cause of a `VideoStackError/Code/transactionCanceled` error: one reason per action,
/// in the order the actions were given.
public struct TransactionCancellation: Error, Sendable, CustomStringConvertible {
    /// One reason per action, in the order the actions were given.
    public let reasons: [CancellationReason]
    public var description: String { "[" + reasons.map(\.description).joined(separator: ", ") + "]" }
}

extension VideoStackError {
    /// The per-action reasons, when this error cancelled a transaction.
    public var cancellationReasons: [CancellationReason]? {
        (cause as? TransactionCancellation)?.reasons
    }
}

// MARK: - Change feed

/// A position in the change feed. Opaque; persist its `text` to resume after a restart.
public struct ChangeCursor: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var description: String { text }
    /// Cursors of one backend compare in feed order.
    public static func < (lhs: ChangeCursor, rhs: ChangeCursor) -> Bool {
        (lhs.text.count, lhs.text) < (rhs.text.count, rhs.text)
    }
}

/// One change to one item, with its images (like a DynamoDB Streams record with
/// `NEW_AND_OLD_IMAGES`).
public struct Change: Sendable {
    public enum Kind: String, Sendable { case insert, modify, remove }

    /// The position of this change; resume after it with `changes(after:)`.
    public var cursor: ChangeCursor
    public var kind: Kind
    /// The item's key attributes.
    public var key: Item
    /// The item before the change (nil for an insert).
    public var oldImage: Item?
    /// The item after the change (nil for a remove).
    public var newImage: Item?
    /// When the change was committed.
    public var date: Date

    public init(cursor: ChangeCursor, kind: Kind, key: Item, oldImage: Item?, newImage: Item?, date: Date) {
        self.cursor = cursor
        self.kind = kind
        self.key = key
        self.oldImage = oldImage
        self.newImage = newImage
        self.date = date
    }
}

// MARK: - The protocol

/// A DynamoDB-style item store: one table with a partition key, an optional sort key and
/// secondary indexes. Every backend conforms to this protocol and passes the same conformance
/// suite; ``SQLiteItemStore`` is the embedded default.
///
/// Errors are `VideoStackError`s: `invalidInput` for malformed requests, `conditionFailed` when a
/// write's condition does not hold, `transactionCanceled` (with `VideoStackError/cancellationReasons`),
/// `limitExceeded` for DynamoDB's limits (400 KB items, key sizes, 100 actions per transaction).
public protocol ItemStore: Sendable {
    /// The table's key design.
    var schema: TableSchema { get }

    /// Writes a whole item, replacing any item with the same key.
    /// - Returns: the old item when `returnOld` is true and there was one.
    @discardableResult
    func putItem(_ item: Item, condition: Condition?, returnOld: Bool) async throws -> Item?

    /// Reads an item by its key attributes; nil if there is none.
    func getItem(key: Item) async throws -> Item?

    /// Applies `actions` to the item (creating it if missing, as DynamoDB's UpdateItem does).
    @discardableResult
    func updateItem(key: Item, actions: [UpdateAction], condition: Condition?, returnValues: ReturnValues) async throws -> Item?

    /// Deletes an item. Deleting a missing item succeeds (unless a condition says otherwise).
    @discardableResult
    func deleteItem(key: Item, condition: Condition?, returnOld: Bool) async throws -> Item?

    /// Items of one partition in sort-key order, a page at a time (at most 1 MB of items a page).
    func query(_ query: Query) async throws -> Page

    /// All items, a page at a time.
    func scan(_ scan: Scan) async throws -> Page

    /// Reads up to 100 items by key; missing items are left out. Order is not guaranteed.
    func batchGet(keys: [Item]) async throws -> [Item]

    /// Puts and deletes up to 25 items (not atomically as a whole, each write atomic).
    func batchWrite(_ requests: [WriteRequest]) async throws

    /// Up to 100 actions on distinct items, all or nothing.
    func transactWrite(_ actions: [TransactAction]) async throws

    /// Changes committed after `cursor` (from the oldest retained one when nil), oldest first.
    func changes(after cursor: ChangeCursor?, limit: Int) async throws -> [Change]

    /// The cursor of the newest change, to follow the feed from now on (nil when empty).
    func latestChangeCursor() async throws -> ChangeCursor?

    /// Where code that reads a lot should run, when the store has such a place: reads made by a
    /// task under `withTaskExecutorPreference(store.preferredReadExecutor)` then skip a hop to
    /// the store's own threads (``SQLiteItemStore`` answers its reader threads). Nil, the
    /// default, for stores whose reads are network calls anyway.
    var preferredReadExecutor: (any TaskExecutor)? { get }
}

extension ItemStore {
    public var preferredReadExecutor: (any TaskExecutor)? { nil }

    @discardableResult
    public func putItem(_ item: Item, condition: Condition? = nil) async throws -> Item? {
        try await putItem(item, condition: condition, returnOld: false)
    }

    @discardableResult
    public func updateItem(key: Item, actions: [UpdateAction], condition: Condition? = nil) async throws -> Item? {
        try await updateItem(key: key, actions: actions, condition: condition, returnValues: .allNew)
    }

    @discardableResult
    public func deleteItem(key: Item, condition: Condition? = nil) async throws -> Item? {
        try await deleteItem(key: key, condition: condition, returnOld: false)
    }

    /// Follows the change feed: yields every change after `cursor`, then waits for new ones
    /// until the consuming task is cancelled. Polls every `pollInterval` when idle.
    public func changeFeed(after cursor: ChangeCursor?, pollInterval: Duration = .milliseconds(100)) -> AsyncThrowingStream<Change, any Error> {
        let store = self
        let state = FeedState(position: cursor)
        return AsyncThrowingStream(unfolding: {
            while state.buffer.isEmpty {
                try Task.checkCancellation()
                state.buffer = try await store.changes(after: state.position, limit: 500)[...]
                if state.buffer.isEmpty { try await Task.sleep(for: pollInterval) }
            }
            let change = state.buffer.removeFirst()
            state.position = change.cursor
            return change
        })
    }
}

/// The position of one change feed iterator.
private final class FeedState: @unchecked Sendable {
    // @unchecked Sendable: AsyncThrowingStream(unfolding:) never runs its closure concurrently
    // with itself, so these are only touched by one call at a time.
    var position: ChangeCursor?
    var buffer: ArraySlice<Change> = []

    init(position: ChangeCursor?) { self.position = position }
}
