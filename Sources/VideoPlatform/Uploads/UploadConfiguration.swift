/// The limits and timings of an ``UploadService``.
///
/// Every limit is checked before the bytes it concerns are stored: a declared length over
/// ``maxUploadSize`` or over the quota is refused at creation, before a staging file exists; a
/// deferred-length upload is refused by the `PATCH` that would pass a limit, before that
/// `PATCH`'s bytes are kept.
public struct UploadConfiguration: Sendable {
    /// The largest upload, in bytes (tus `Tus-Max-Size`).
    public var maxUploadSize: Int64
    /// How many bytes one user may upload per period; nil for no quota.
    public var quota: UploadQuota?
    /// How many unfinished uploads one user may have at once; nil for no limit.
    public var maxActiveUploadsPerUser: Int?
    /// The most bytes of metadata (keys and decoded values, UTF-8) one upload may carry.
    public var maxMetadataBytes: Int
    /// The most metadata pairs one upload may carry.
    public var maxMetadataPairs: Int
    /// How long an unfinished upload lives after its last write (tus `Upload-Expires`); also how
    /// long the record of a finished upload is kept, so a client that lost the final response can
    /// still see that it completed.
    public var expiration: Duration
    /// For an upload whose length is not yet known, the bytes reserved against the quota at a
    /// time: a bigger step means fewer store writes, a smaller one less quota held back.
    public var deferredLengthReservation: Int64
    /// The first delay before a failed completion hand-over is retried; it doubles on each
    /// further failure up to ``completionRetryMaxDelay``, and each delay is jittered between half
    /// and all of it. Hand-overs are retried
    /// for as long as it takes: an acknowledged upload is never dropped.
    public var completionRetryDelay: Duration
    /// The longest delay between two completion hand-overs.
    public var completionRetryMaxDelay: Duration
    /// Threads for the staging files' blocking I/O (writes, fsync).
    public var ioThreads: Int

    /// The defaults suit a video site: 16 GiB per file, 64 GiB per user per day, 10 unfinished
    /// uploads per user, 4 KiB of metadata, expiry after 24 hours without a write.
    public init(maxUploadSize: Int64 = 16 << 30, quota: UploadQuota? = UploadQuota(bytes: 64 << 30, period: .seconds(24 * 3600)),
                maxActiveUploadsPerUser: Int? = 10, maxMetadataBytes: Int = 4096, maxMetadataPairs: Int = 32,
                expiration: Duration = .seconds(24 * 3600), deferredLengthReservation: Int64 = 64 << 20,
                completionRetryDelay: Duration = .seconds(30), completionRetryMaxDelay: Duration = .seconds(3600), ioThreads: Int = 2) {
        self.maxUploadSize = maxUploadSize
        self.quota = quota
        self.maxActiveUploadsPerUser = maxActiveUploadsPerUser
        self.maxMetadataBytes = maxMetadataBytes
        self.maxMetadataPairs = maxMetadataPairs
        self.expiration = expiration
        self.deferredLengthReservation = deferredLengthReservation
        self.completionRetryDelay = completionRetryDelay
        self.completionRetryMaxDelay = completionRetryMaxDelay
        self.ioThreads = ioThreads
    }
}

/// A per-user upload quota: at most ``bytes`` in the uploads a user creates in one period.
///
/// Periods are fixed windows of ``period`` counted from the Unix epoch. An upload charges the
/// period it was created in: its declared length at creation, or for a deferred length, steps of
/// `UploadConfiguration/deferredLengthReservation` as its bytes arrive. Finished and unfinished
/// uploads both count; terminating or expiring an upload gives back what it reserved and never
/// received, not the bytes it stored.
public struct UploadQuota: Hashable, Sendable {
    /// Bytes per user per period.
    public var bytes: Int64
    /// The length of one period.
    public var period: Duration

    /// At most `bytes` per user in each `period` (at least a millisecond long).
    public init(bytes: Int64, period: Duration) {
        self.bytes = bytes
        self.period = period
    }
}
