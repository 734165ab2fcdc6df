public import Foundation
public import Logging
public import SingleTableStore
internal import Synchronization
internal import VideoCore

/// The embedded job queue: jobs are items of the single table, so enqueueing a job can share a
/// transaction with the write that calls for it (``enqueueAction(_:)``), and a restart finds
/// every queued and leased job where it was.
///
/// | item | PK | SK | GSI1PK | GSI1SK |
/// |---|---|---|---|---|
/// | job | `JOB#<queue>#<id>` | `JOB` | `JOBQ#<queue>` (queued or leased) or `JOBDLQ#<queue>` (dead) | `<visible-at ms, 15 digits>#<id>` |
///
/// A job is visible when its `GSI1SK` time has passed: leasing moves that time forward by the
/// visibility timeout in a write conditioned on the value it read, so of two workers (in one
/// process or several sharing the file) exactly one wins each job; a lease that runs out needs no
/// sweeper, the job is simply visible again. Completion deletes the item, conditioned on the
/// lease's receipt. An enqueue in this process wakes waiting workers at once; other processes
/// see new jobs within `pollInterval`.
public final class StoreJobQueue: JobQueue {
    public let store: any ItemStore
    /// Several queues can share a table.
    public let name: String
    public let retryPolicy: RetryPolicy
    /// How often a waiting `lease` looks for jobs enqueued by other processes.
    public let pollInterval: Duration
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let signal = WakeSignal()

    /// - Parameters:
    ///   - store: a store with the single-table schema (`TableSchema/singleTable`).
    ///   - now: the clock that decides visibility; jobs are shared across processes, so it is wall time.
    public init(store: any ItemStore, name: String = "default", retryPolicy: RetryPolicy = RetryPolicy(),
                pollInterval: Duration = .milliseconds(500), logger: Logger, now: @escaping @Sendable () -> Date = Date.init) throws {
        guard store.schema.indexes.contains(where: { $0.name == "GSI1" }) else {
            throw VideoStackError(.invalidInput, "The job queue needs a store with the single-table schema (GSI1); use TableSchema.singleTable.")
        }
        guard !name.isEmpty, name.utf8.count <= 64, !name.contains("#") else {
            throw VideoStackError(.invalidInput, "A queue name is 1 to 64 bytes without '#'; got '\(name.prefix(40))'.")
        }
        self.store = store
        self.name = name
        self.retryPolicy = retryPolicy
        self.pollInterval = pollInterval
        self.logger = logger
        self.now = now
    }

    // MARK: Enqueue

    public func enqueue(_ job: Job) async throws {
        do {
            try await store.transactWrite([try enqueueAction(job)])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            guard case .conditionalCheckFailed? = error.cancellationReasons?.first else { throw error }
            logger.debug("job already enqueued", metadata: ["job": "\(job.id)"])
            return
        }
        wakeWaiters()
    }

    /// The write that enqueues `job`, for a transaction that must enqueue it together with other
    /// writes (a video turning `processing` and its publish job). Call ``notifyEnqueued()`` after
    /// the transaction commits so waiting workers wake at once.
    public func enqueueAction(_ job: Job) throws -> TransactAction {
        try job.validate()
        let at = milliseconds(now())
        let item: Item = [
            "PK": .s(jobPK(job.id)), "SK": "JOB", "type": "job",
            "GSI1PK": .s("JOBQ#\(name)"), "GSI1SK": .s(visibilityKey(at, job.id)),
            "id": .s(job.id), "kind": .s(job.kind), "payload": .s(job.payload),
            "state": "queued", "attempts": 0,
            "maxAttempts": .int(Int64(job.maxAttempts ?? retryPolicy.maxAttempts)),
            "enqueuedAt": .int(at),
        ]
        return .put(item, condition: .notExists("PK"))
    }

    /// Wakes this process's waiting workers; other processes notice within `pollInterval`.
    public func notifyEnqueued() { wakeWaiters() }

    // MARK: Lease

    public func lease(max: Int, visibility: Duration, wait: Duration) async throws -> [LeasedJob] {
        guard max >= 1, max <= 100 else { throw VideoStackError(.invalidInput, "Lease between 1 and 100 jobs at a time; asked for \(max).") }
        guard visibility > .zero, visibility <= .seconds(43_200) else {
            throw VideoStackError(.invalidInput, "A visibility timeout is between 0 and 12 hours (SQS's range); got \(visibility).")
        }
        let deadline = ContinuousClock.now + wait
        while true {
            let generation = signal.generation
            let leased = try await leaseVisible(max: max, visibility: visibility)
            if !leased.isEmpty { return leased }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return [] }
            try Task.checkCancellation()
            await waitForWork(upTo: min(remaining, pollInterval), since: generation)
        }
    }

    private func leaseVisible(max: Int, visibility: Duration) async throws -> [LeasedJob] {
        let nowMS = milliseconds(now())
        // Read a few more than asked for: a worker elsewhere may win some of them.
        let page = try await store.query(Query(index: "GSI1", partitionKey: .s("JOBQ#\(name)"),
                                               sortKey: .lessOrEqual(.s(visibilityKey(nowMS, "~"))),
                                               limit: max * 2))
        var candidates: [(id: String, seen: AttributeValue)] = []
        for item in page.items {
            guard let id = item["id"]?.string, let seen = item["GSI1SK"] else { continue }
            let attempts = Int(item["attempts"]?.int64 ?? 0)
            let maxAttempts = Int(item["maxAttempts"]?.int64 ?? Int64(retryPolicy.maxAttempts))
            if attempts >= maxAttempts {
                // Every lease ran out without a verdict (workers crashed): the job dies here.
                try? await bury(key: jobKey(id), expected: .equal("GSI1SK", seen),
                                error: item["lastError"]?.string ?? "The job's lease ran out \(attempts) times without the job finishing.")
                continue
            }
            candidates.append((id, seen))
        }
        // The conditional updates go out together, so the store commits them in one group
        // commit instead of one after another; jobs another worker won are made up for from the
        // rest of the page in the next round.
        var leased: [LeasedJob] = []
        var next = candidates[...]
        while leased.count < max, !next.isEmpty {
            let round = next.prefix(max - leased.count)
            next = next.dropFirst(round.count)
            let won = try await withThrowingTaskGroup(of: (Int, LeasedJob?).self) { group in
                for (position, candidate) in round.enumerated() {
                    group.addTask { (position, try await self.lease(candidate.id, seen: candidate.seen, now: nowMS, visibility: visibility)) }
                }
                var results = [LeasedJob?](repeating: nil, count: round.count)
                for try await (position, lease) in group { results[position] = lease }
                return results.compactMap { $0 }
            }
            leased += won
        }
        return leased
    }

    /// Leases one job that was seen visible with `GSI1SK == seen`; nil when another worker leased it first.
    private func lease(_ id: String, seen: AttributeValue, now nowMS: Int64, visibility: Duration) async throws -> LeasedJob? {
        let receipt = SortableID().description
        let until = nowMS + milliseconds(visibility)
        do {
            let new = try await store.updateItem(key: jobKey(id), actions: [
                .set("state", .value("leased")),
                .set("receipt", .value(.s(receipt))),
                .set("GSI1SK", .value(.s(visibilityKey(until, id)))),
                .add("attempts", .int(1)),
                .set("leasedAt", .value(.int(nowMS))),
            ], condition: .equal("GSI1SK", seen) && .equal("GSI1PK", .s("JOBQ#\(name)")), returnValues: .allNew)
            guard let new else { return nil }
            return try leasedJob(from: new)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            return nil  // another worker leased it first
        }
    }

    // MARK: Leases

    public func heartbeat(_ lease: LeasedJob, visibility: Duration) async throws -> LeasedJob {
        let until = milliseconds(now()) + milliseconds(visibility)
        try await onLease(lease, "extend") {
            try await store.updateItem(key: jobKey(lease.job.id), actions: [.set("GSI1SK", .value(.s(visibilityKey(until, lease.job.id))))],
                                       condition: receiptHolds(lease), returnValues: .none)
        }
        var extended = lease
        extended.visibleUntil = date(milliseconds: until)
        return extended
    }

    public func complete(_ lease: LeasedJob) async throws {
        try await onLease(lease, "complete") {
            try await store.deleteItem(key: jobKey(lease.job.id), condition: receiptHolds(lease), returnOld: false)
        }
    }

    public func fail(_ lease: LeasedJob, error: String, permanent: Bool) async throws {
        let message = String(error.prefix(4000))
        if permanent || lease.isLastAttempt {
            try await onLease(lease, "fail") {
                try await bury(key: jobKey(lease.job.id), expected: receiptHolds(lease), error: message)
            }
            logger.warning("job dead-lettered", metadata: ["job": "\(lease.job.id)", "kind": "\(lease.job.kind)", "attempts": "\(lease.attempt)", "error": "\(message)"])
            return
        }
        let visibleAt = milliseconds(now()) + milliseconds(retryPolicy.delay(afterAttempt: lease.attempt))
        try await onLease(lease, "fail") {
            try await store.updateItem(key: jobKey(lease.job.id), actions: [
                .set("state", .value("queued")), .remove("receipt"), .set("lastError", .value(.s(message))),
                .set("GSI1SK", .value(.s(visibilityKey(visibleAt, lease.job.id)))),
            ], condition: receiptHolds(lease), returnValues: .none)
        }
        logger.info("job will be retried", metadata: ["job": "\(lease.job.id)", "attempt": "\(lease.attempt)", "error": "\(message)"])
    }

    public func release(_ lease: LeasedJob) async throws {
        try await onLease(lease, "release") {
            try await store.updateItem(key: jobKey(lease.job.id), actions: [
                .set("state", .value("queued")), .remove("receipt"), .add("attempts", .int(-1)),
                .set("GSI1SK", .value(.s(visibilityKey(milliseconds(now()), lease.job.id)))),
            ], condition: receiptHolds(lease), returnValues: .none)
        }
        wakeWaiters()
    }

    // MARK: Dead letters

    public func deadLetters(limit: Int = 50, after token: String? = nil) async throws -> (letters: [DeadLetter], next: String?) {
        let page = try await store.query(Query(index: "GSI1", partitionKey: .s("JOBDLQ#\(name)"), limit: limit,
                                               startToken: token.map(PageToken.init)))
        let letters = try page.items.compactMap { item -> DeadLetter? in
            guard let job = try job(from: item) else { return nil }
            return DeadLetter(job: job, attempts: Int(item["attempts"]?.int64 ?? 0), lastError: item["lastError"]?.string ?? "",
                              diedAt: date(milliseconds: item["diedAt"]?.int64 ?? 0))
        }
        return (letters, page.nextToken?.text)
    }

    public func redrive(_ id: String) async throws {
        do {
            try await store.updateItem(key: jobKey(id), actions: [
                .set("state", .value("queued")), .set("attempts", .value(0)),
                .set("GSI1PK", .value(.s("JOBQ#\(name)"))),
                .set("GSI1SK", .value(.s(visibilityKey(milliseconds(now()), id)))),
            ], condition: .equal("state", "dead"), returnValues: .none)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            throw VideoStackError(.notFound, "There is no dead letter '\(id.prefix(128))' in queue '\(name)'.")
        }
        logger.info("dead letter re-driven", metadata: ["job": "\(id)"])
        wakeWaiters()
    }

    /// Jobs waiting or leased, for an operator's status page (reads every job item; small queues).
    public func depth() async throws -> Int {
        var count = 0
        var token: PageToken?
        repeat {
            let page = try await store.query(Query(index: "GSI1", partitionKey: .s("JOBQ#\(name)"), startToken: token))
            count += page.items.count
            token = page.nextToken
        } while token != nil
        return count
    }

    // MARK: Items

    private func jobPK(_ id: String) -> String { "JOB#\(name)#\(id)" }
    private func jobKey(_ id: String) -> Item { ["PK": .s(jobPK(id)), "SK": "JOB"] }

    private func bury(key: Item, expected: Condition, error: String) async throws {
        try await store.updateItem(key: key, actions: [
            .set("state", .value("dead")), .remove("receipt"), .set("lastError", .value(.s(error))),
            .set("GSI1PK", .value(.s("JOBDLQ#\(name)"))),
            .set("GSI1SK", .value(.s(visibilityKey(milliseconds(now()), key["PK"]?.string ?? "")))),
            .set("diedAt", .value(.int(milliseconds(now())))),
        ], condition: expected, returnValues: .none)
    }

    private func receiptHolds(_ lease: LeasedJob) -> Condition { .equal("receipt", .s(lease.receipt)) }

    /// Runs a write that needs the lease, turning a failed receipt condition into `conflict`.
    private func onLease(_ lease: LeasedJob, _ what: String, _ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch let error as VideoStackError where error.code == .conditionFailed {
            throw VideoStackError(.conflict, "Could not \(what) job \(lease.job.id): its lease ran out and another worker holds it now (or it finished).", cause: error)
        }
    }

    private func job(from item: Item) throws -> Job? {
        guard let id = item["id"]?.string, let kind = item["kind"]?.string, let payload = item["payload"]?.string else {
            logger.error("job item without id, kind or payload", metadata: ["key": "\(item["PK"]?.string ?? "?")"])
            return nil
        }
        return Job(id: id, kind: kind, payload: payload, maxAttempts: item["maxAttempts"]?.int64.map { Int($0) })
    }

    private func leasedJob(from item: Item) throws -> LeasedJob? {
        guard let job = try job(from: item), let receipt = item["receipt"]?.string,
              let visibleKey = item["GSI1SK"]?.string, let until = Int64(visibleKey.prefix(15)) else { return nil }
        return LeasedJob(job: job, attempt: Int(item["attempts"]?.int64 ?? 1),
                         maxAttempts: Int(item["maxAttempts"]?.int64 ?? Int64(retryPolicy.maxAttempts)),
                         previousError: item["lastError"]?.string, receipt: receipt, visibleUntil: date(milliseconds: until))
    }

    /// Milliseconds as 15 digits sort as text the way they sort as numbers (until the year 33658).
    private func visibilityKey(_ milliseconds: Int64, _ id: String) -> String {
        let digits = String(max(milliseconds, 0))
        return String(repeating: "0", count: max(0, 15 - digits.count)) + digits + "#" + id
    }

    private func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
    private func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
    private func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    // MARK: Waking workers

    private func waitForWork(upTo timeout: Duration, since generation: UInt64) async {
        await signal.wait(upTo: timeout, since: generation)
    }

    private func wakeWaiters() { signal.fire() }
}
