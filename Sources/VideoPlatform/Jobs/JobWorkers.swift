public import Logging
public import ServiceLifecycle
internal import Synchronization
internal import VideoCore

/// What a running job can tell its worker.
public struct JobContext: Sendable {
    /// The lease; its `attempt` says whether an earlier attempt may have left work behind.
    public let lease: LeasedJob
    public let logger: Logger
}

/// Runs the jobs of one kind. Handlers must be idempotent: a job can run again after a crash.
///
/// Throw ``PermanentJobFailure`` for a failure no retry can mend (the upload is not a video): the
/// job is dead-lettered at once. Any other error is retried with backoff until the job's attempts
/// are used up. A handler is cancelled when its lease is lost or the workers shut down; it should
/// stop promptly (a `CancellationError` releases the job for another worker).
public protocol JobHandler: Sendable {
    func run(_ job: Job, context: JobContext) async throws
}

/// A failure that retrying cannot mend; the job becomes a dead letter with this reason.
public struct PermanentJobFailure: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var cause: (any Error)?
    public init(_ reason: String, cause: (any Error)? = nil) {
        self.reason = reason
        self.cause = cause
    }
    public var description: String { reason }
}

/// Settings of ``JobWorkers``.
public struct JobWorkerConfiguration: Sendable, Hashable {
    /// Jobs run at once in this process.
    public var concurrency: Int
    /// How long a lease lasts without a heartbeat; a crashed worker's job is retried after this.
    public var visibilityTimeout: Duration
    /// Heartbeats extend running leases this often (keep it well under the visibility timeout).
    public var heartbeatInterval: Duration
    /// How long one `lease` call waits for work before looking again (long polling).
    public var pollWait: Duration

    public init(concurrency: Int = 2, visibilityTimeout: Duration = .seconds(60), heartbeatInterval: Duration = .seconds(15),
                pollWait: Duration = .seconds(5)) {
        self.concurrency = concurrency
        self.visibilityTimeout = visibilityTimeout
        self.heartbeatInterval = heartbeatInterval
        self.pollWait = pollWait
    }
}

/// A pool of workers that lease jobs from a ``JobQueue`` and run their handlers, as a
/// swift-service-lifecycle `Service`.
///
/// One loop leases as many jobs as there are free slots, so workers of one process never race
/// each other for a job. Each running job is heartbeated; on graceful shutdown the loop stops
/// leasing, running handlers are cancelled and their jobs released (visible again at once, the
/// attempt not counted), so nothing in flight is lost.
public final class JobWorkers: Service {
    public let queue: any JobQueue
    public let configuration: JobWorkerConfiguration
    private let handlers: [String: any JobHandler]
    private let logger: Logger

    public init(queue: any JobQueue, handlers: [String: any JobHandler], configuration: JobWorkerConfiguration = JobWorkerConfiguration(),
                logger: Logger) {
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let slots = max(1, configuration.concurrency)
        logger.info("job workers started", metadata: ["concurrency": "\(slots)", "kinds": "\(handlers.keys.sorted())"])
        let free = FreeSlots(slots)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    let available = await free.waitForAny()
                    if Task.isCancelled { break }
                    let leases: [LeasedJob]
                    do {
                        leases = try await self.queue.lease(max: available, visibility: self.configuration.visibilityTimeout,
                                                            wait: self.configuration.pollWait)
                    } catch {
                        if Task.isCancelled || error is CancellationError { break }
                        self.logger.error("leasing jobs failed; retrying", metadata: ["error": "\(error)"])
                        try? await Task.sleep(for: .seconds(1))
                        continue
                    }
                    for lease in leases {
                        free.take()
                        group.addTask {
                            await self.execute(lease)
                            free.give()
                        }
                    }
                }
                group.cancelAll()
            }
        }
        logger.info("job workers stopped")
    }

    /// Runs one job with heartbeats; records its outcome on the queue.
    private func execute(_ lease: LeasedJob) async {
        var jobLogger = self.logger
        jobLogger[metadataKey: "job"] = "\(lease.job.id)"
        jobLogger[metadataKey: "kind"] = "\(lease.job.kind)"
        jobLogger[metadataKey: "attempt"] = "\(lease.attempt)"
        let logger = jobLogger
        guard let handler = handlers[lease.job.kind] else {
            logger.error("no handler for this job kind")
            try? await queue.fail(lease, error: "No handler for jobs of kind '\(lease.job.kind)'.", permanent: true)
            return
        }
        let context = JobContext(lease: lease, logger: logger)
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask {
                do {
                    try await handler.run(lease.job, context: context)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                // Heartbeats; nil when the lease was lost, which cancels the handler.
                var current = lease
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.configuration.heartbeatInterval)
                    if Task.isCancelled { break }
                    do {
                        current = try await self.queue.heartbeat(current, visibility: self.configuration.visibilityTimeout)
                    } catch let error as VideoStackError where error.code == .conflict {
                        logger.warning("lease lost; stopping the job", metadata: ["error": "\(error)"])
                        return .failure(error)
                    } catch {
                        logger.warning("heartbeat failed; will try again", metadata: ["error": "\(error)"])
                    }
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            var result = first
            for await other in group where result == nil { result = other }
            return result ?? .failure(CancellationError())
        }
        do {
            switch outcome {
            case .success:
                try await queue.complete(lease)
                logger.debug("job done")
            case .failure(let error as VideoStackError) where error.code == .conflict:
                break  // the lease is someone else's now; they record the outcome
            case .failure(let error) where error is CancellationError || (Task.isCancelled && !(error is PermanentJobFailure)):
                try await queue.release(lease)
                logger.info("job released on shutdown")
            case .failure(let error as PermanentJobFailure):
                try await queue.fail(lease, error: error.reason, permanent: true)
            case .failure(let error):
                try await queue.fail(lease, error: "\(error)", permanent: false)
            }
        } catch {
            logger.error("could not record the job's outcome; its lease will run out and it will run again", metadata: ["error": "\(error)"])
        }
    }
}

/// Counts the free job slots of one ``JobWorkers``; the lease loop waits here while all are busy.
private final class FreeSlots: Sendable {
    private let state: Mutex<(free: Int, waiter: CheckedContinuation<Void, Never>?)>

    init(_ count: Int) { state = Mutex((count, nil)) }

    /// The number of free slots once there is at least one (0 if the task is cancelled meanwhile).
    func waitForAny() async -> Int {
        while !Task.isCancelled {
            let free = state.withLock { $0.free }
            if free > 0 { return free }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.free > 0 || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                wake()
            }
        }
        return 0
    }

    func take() { state.withLock { $0.free -= 1 } }

    func give() {
        state.withLock { $0.free += 1 }
        wake()
    }

    private func wake() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
