public import Foundation

/// Settings of an ``SQLiteItemStore``.
public struct SQLiteStoreConfiguration: Sendable {
    /// How hard a commit works to survive failures.
    public enum Durability: Sendable {
        /// Every commit is fsynced: acknowledged writes survive power loss (`synchronous=FULL`).
        case full
        /// Commits survive a crash of the process but not of the machine (`synchronous=NORMAL`).
        case normal
    }

    /// Threads (each with its own connection) serving reads concurrently with the writer.
    public var readerCount: Int
    /// What a commit survives; ``Durability/full`` by default.
    public var durability: Durability
    /// How long the change feed keeps changes; nil keeps them forever. DynamoDB Streams keep 24 hours.
    ///
    /// The feed is trimmed every 1,000 changes, so it may hold somewhat older changes than this.
    public var changeRetention: Duration?
    /// How long a statement waits for a lock held by another connection to the same file (another
    /// process, or a second store) before it fails with `io` and ``SQLiteResultCode/busy``.
    public var busyTimeout: Duration
    /// The wall clock that dates each ``Change`` and decides which changes are past
    /// ``changeRetention``. The system clock by default; tests pass a clock they advance.
    public var clock: @Sendable () -> Date
    /// SQLite page cache per connection, in KiB.
    public var cacheSizeKiB: Int
    /// How much of the file readers map into memory, in MiB (0 turns memory mapping off).
    public var mmapSizeMiB: Int
    /// Memory for decoded items, in MiB, for each reader thread (0 turns the caches off); a
    /// further quarter of it holds query pages.
    ///
    /// Every hit is checked against the write ids stored in the rows SQLite returns, so neither
    /// cache ever serves a stale item or page; they save decoding hot items (a popular video's
    /// record) again, and rebuilding hot query pages (a busy channel's newest videos, a popular
    /// video's newest reviews) item by item.
    public var decodedItemCacheMiB: Int

    /// Two readers, fsync on every commit, 24 hours of changes, a 10-second busy timeout and
    /// the system clock.
    public init(readerCount: Int = 2, durability: Durability = .full, changeRetention: Duration? = .seconds(24 * 3600),
                busyTimeout: Duration = .seconds(10), clock: @escaping @Sendable () -> Date = { Date() },
                cacheSizeKiB: Int = 16 * 1024, mmapSizeMiB: Int = 256, decodedItemCacheMiB: Int = 64) {
        self.readerCount = readerCount
        self.durability = durability
        self.changeRetention = changeRetention
        self.busyTimeout = busyTimeout
        self.clock = clock
        self.cacheSizeKiB = cacheSizeKiB
        self.mmapSizeMiB = mmapSizeMiB
        self.decodedItemCacheMiB = decodedItemCacheMiB
    }
}
