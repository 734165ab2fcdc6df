/// How a ``SearchFeedFollower`` reads the store's change feed.
public struct SearchFeedFollowerConfiguration: Sendable, Hashable {
    /// How long to wait before asking the store again when the feed is idle. Defaults to 100 ms,
    /// so a committed change is searchable well within a second.
    public var pollInterval: Duration
    /// The most changes read and applied as one batch (each batch becomes visible to searches at
    /// once). Defaults to 500; values below 1 count as 1.
    public var batchSize: Int

    /// Makes a configuration; every parameter has the default documented on its property.
    public init(pollInterval: Duration = .milliseconds(100), batchSize: Int = 500) {
        self.pollInterval = pollInterval
        self.batchSize = batchSize
    }
}
