/// How a ``DynamoDBItemStore`` uses its table.
public struct DynamoDBStoreConfiguration: Sendable {
    /// Create the table (on-demand billing, its indexes, a `NEW_AND_OLD_IMAGES` stream) when it
    /// does not exist, instead of failing.
    public var createsTable: Bool
    /// How long to wait for a created table to become `ACTIVE`.
    public var tableCreationTimeout: Duration
    /// Strongly consistent `GetItem`, `BatchGetItem` and table queries and scans (indexes are
    /// always eventually consistent in DynamoDB).
    public var consistentReads: Bool
    /// Times a transaction cancelled by a conflicting one (`TransactionConflict`) is tried again.
    public var transactionConflictRetries: Int
    /// Rounds of resending unprocessed items of a batch before giving up.
    public var batchRetries: Int

    /// A configuration; by default the table must exist and reads are strongly consistent.
    public init(createsTable: Bool = false, tableCreationTimeout: Duration = .seconds(120), consistentReads: Bool = true,
                transactionConflictRetries: Int = 4, batchRetries: Int = 8) {
        self.createsTable = createsTable
        self.tableCreationTimeout = tableCreationTimeout
        self.consistentReads = consistentReads
        self.transactionConflictRetries = transactionConflictRetries
        self.batchRetries = batchRetries
    }
}
