extension TransactionCancellation {
    /// Reasons reported by a backend outside this module (DynamoDB's `CancellationReasons`), so
    /// every backend throws the same cause that ``VideoStackError/cancellationReasons`` reads.
    public init(_ reasons: [CancellationReason]) {
        self.reasons = reasons
    }
}
