public import Foundation
public import VideoCore

/// A unit of background work: a kind that selects its handler and an opaque payload.
///
/// Jobs are delivered at least once: a worker that crashes mid-job loses its lease and the job
/// runs again, so a handler must be idempotent (the publish saga starts by clearing what an
/// earlier attempt left behind, and its final write is conditional).
public struct Job: Hashable, Sendable, Codable, Identifiable {
    /// Unique per queue; enqueueing an id that is already queued does nothing (idempotent enqueue).
    public var id: String
    /// Selects the handler, for example `publish`.
    public var kind: String
    /// Handler-defined text, usually JSON; at most 256 KiB (SQS's limit).
    public var payload: String
    /// How many leases the job may take before it is dead-lettered; nil uses the queue's default.
    public var maxAttempts: Int?

    public init(id: String = SortableID().description, kind: String, payload: String, maxAttempts: Int? = nil) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.maxAttempts = maxAttempts
    }

    /// A job whose payload is `value` encoded as JSON.
    public init(id: String = SortableID().description, kind: String, json value: some Encodable, maxAttempts: Int? = nil) throws {
        let data = try JSONEncoder().encode(value)
        self.init(id: id, kind: kind, payload: String(decoding: data, as: UTF8.self), maxAttempts: maxAttempts)
    }

    /// The payload decoded from JSON; `invalidInput` when it does not decode as `type`.
    public func decodePayload<T: Decodable>(as type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(payload.utf8))
        } catch {
            throw VideoStackError(.invalidInput, "The payload of job \(id) (\(kind)) is not a valid \(T.self): \(error)", cause: error)
        }
    }

    /// SQS's message size limit, which the embedded queue keeps too so both behave alike.
    public static let maxPayloadBytes = 256 * 1024

    /// Throws `invalidInput` or `limitExceeded` for a job no queue accepts (every queue checks it).
    package func validate() throws {
        guard !id.isEmpty, id.utf8.count <= 128, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw VideoStackError(.invalidInput, "A job id is 1 to 128 printable ASCII characters without spaces; got '\(id.prefix(40))'.")
        }
        guard !kind.isEmpty, kind.utf8.count <= 64 else {
            throw VideoStackError(.invalidInput, "A job kind is 1 to 64 bytes; got \(kind.utf8.count).")
        }
        guard payload.utf8.count <= Job.maxPayloadBytes else {
            throw VideoStackError(.limitExceeded, "A job payload is at most \(Job.maxPayloadBytes) bytes; this one is \(payload.utf8.count). Store large data in the blob store and pass its key.")
        }
        if let maxAttempts, maxAttempts < 1 || maxAttempts > 1000 {
            throw VideoStackError(.invalidInput, "maxAttempts is between 1 and 1000; got \(maxAttempts).")
        }
    }
}

/// A job a worker holds: until `visibleUntil` no other worker receives it.
public struct LeasedJob: Sendable {
    public var job: Job
    /// 1 for the first delivery, counting every lease (a crashed worker's lease counts too).
    public var attempt: Int
    /// The most leases the job may take.
    public var maxAttempts: Int
    /// The error of the previous attempt, if it failed.
    public var previousError: String?
    /// Proves this lease in `complete`, `fail`, `release` and `heartbeat` (SQS's receipt handle).
    public var receipt: String
    /// When the lease runs out unless extended with a heartbeat.
    public var visibleUntil: Date

    public init(job: Job, attempt: Int, maxAttempts: Int, previousError: String?, receipt: String, visibleUntil: Date) {
        self.job = job
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.previousError = previousError
        self.receipt = receipt
        self.visibleUntil = visibleUntil
    }

    /// Whether a failure of this attempt dead-letters the job.
    public var isLastAttempt: Bool { attempt >= maxAttempts }
}

/// A job that exhausted its attempts (or failed permanently), kept with its last error.
public struct DeadLetter: Sendable {
    public var job: Job
    public var attempts: Int
    public var lastError: String
    public var diedAt: Date

    public init(job: Job, attempts: Int, lastError: String, diedAt: Date) {
        self.job = job
        self.attempts = attempts
        self.lastError = lastError
        self.diedAt = diedAt
    }
}

/// A durable queue of jobs with leases: the embedded ``StoreJobQueue`` keeps jobs in the item
/// store; a scale-out backend speaks SQS. Both pass the same conformance tests.
///
/// The life of a job: enqueued → leased (invisible to others for the visibility timeout,
/// extended by heartbeats) → completed (gone), or failed → queued again after a backoff, until
/// `maxAttempts` leases have been taken → dead letter, which keeps the last error until it is
/// re-driven. A lease that runs out (the worker died) makes the job visible again.
public protocol JobQueue: Sendable {
    /// Adds a job; a job with the same id that is still queued, leased or dead is left as it is.
    func enqueue(_ job: Job) async throws

    /// Leases up to `max` visible jobs, waiting up to `wait` for the first (long polling).
    /// Returns an empty array when none arrived in time.
    func lease(max: Int, visibility: Duration, wait: Duration) async throws -> [LeasedJob]

    /// Extends a lease so the job stays invisible for `visibility` from now. Throws `conflict`
    /// when the lease was lost (it ran out and another worker took the job).
    func heartbeat(_ lease: LeasedJob, visibility: Duration) async throws -> LeasedJob

    /// Removes a finished job. Throws `conflict` when the lease was lost.
    func complete(_ lease: LeasedJob) async throws

    /// Records a failed attempt: the job becomes visible again after a backoff, or becomes a dead
    /// letter when `permanent` is true or this was its last attempt.
    func fail(_ lease: LeasedJob, error: String, permanent: Bool) async throws

    /// Gives a job back without counting the attempt (a worker shutting down): visible at once.
    func release(_ lease: LeasedJob) async throws

    /// Dead letters, oldest first, a page at a time.
    func deadLetters(limit: Int, after token: String?) async throws -> (letters: [DeadLetter], next: String?)

    /// Queues a dead letter again with a fresh attempt count. Throws `notFound` if there is no
    /// dead letter with this id.
    func redrive(_ id: String) async throws
}

/// How failed attempts are spaced: exponential backoff with full jitter (AWS's recommendation),
/// so retries of many jobs that failed together do not arrive together.
public struct RetryPolicy: Sendable, Hashable {
    /// The delay before the second attempt, before jitter.
    public var initialDelay: Duration
    /// The longest delay between two attempts.
    public var maxDelay: Duration
    /// Leases a job may take when its `Job/maxAttempts` is nil.
    public var maxAttempts: Int

    public init(initialDelay: Duration = .seconds(2), maxDelay: Duration = .seconds(300), maxAttempts: Int = 5) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// The delay after failed attempt `attempt` (1-based): uniform in [0, min(max, initial·2^(attempt-1))].
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(maxDelay, initialDelay * (1 << exponent))
        return ceiling * min(max(random, 0), 1)
    }
}
