/// Settings of a ``FileBlobStore``.
public struct FileBlobStoreConfiguration: Sendable {
    /// Threads for blocking file I/O (at least 1), so file work never runs on Swift's cooperative pool.
    public var ioThreads: Int
    /// How old (since its last write) a temporary file of an unfinished put must be before the
    /// store removes it when it opens. Such files are what a crash in the middle of a put leaves;
    /// the age keeps a second store on the same directory from removing a put still in progress.
    public var abandonedWriteAge: Duration

    /// Two I/O threads; temporary files are abandoned after a day.
    public init(ioThreads: Int = 2, abandonedWriteAge: Duration = .seconds(24 * 3600)) {
        self.ioThreads = ioThreads
        self.abandonedWriteAge = abandonedWriteAge
    }
}
