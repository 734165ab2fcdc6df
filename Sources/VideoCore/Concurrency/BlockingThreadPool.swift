internal import Foundation
internal import Synchronization
#if canImport(Glibc)
internal import Glibc
#endif

/// A fixed set of dedicated threads for blocking work (SQLite, file I/O, FFmpeg), so that such
/// work never occupies Swift's cooperative thread pool.
///
/// Each thread owns a `Context` made on that thread (an SQLite connection, say) that only that
/// thread ever touches. Jobs are taken in FIFO order by whichever thread is free; a thread that
/// finds more work queued runs it without sleeping, so a burst of small jobs costs one wake-up.
///
/// The pool is also a `TaskExecutor`: a task that runs under
/// `withTaskExecutorPreference(pool)` executes on the pool's threads, and its calls to ``run(_:)``
/// then execute inline on the current thread with that thread's context: no hop at all.
package final class BlockingThreadPool<Context>: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: all mutable state (`queue`, `stopping`, `running`) is guarded by
    // `condition`; the contexts never leave the thread that made them.
    private let condition = NSCondition()
    private var queue: [(Context) -> Void] = []
    private var head = 0
    /// Jobs queued and not yet taken; read without the lock by threads deciding whether to sleep.
    private let waiting = Atomic<Int>(0)
    /// Threads asleep on `condition`; `enqueue` signals only when there is one.
    private var sleepers = 0
    private var stopping = false
    private var running = 0
    private let name: String
    /// Thread-specific slot holding a pool thread's `ThreadState`, for inline runs.
    private let stateKey: pthread_key_t

    /// Starts `threads` threads; each calls `makeContext(threadIndex)` first, on itself.
    /// If any context fails to open, the pool is shut down and the first error is thrown.
    package init(name: String, threads: Int, makeContext: @escaping @Sendable (Int) throws -> Context) throws {
        precondition(threads > 0)
        self.name = name
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        self.stateKey = key
        let startup = NSCondition()
        nonisolated(unsafe) var started = 0
        nonisolated(unsafe) var failure: (any Error)?
        for index in 0..<threads {
            // Linux keeps 15 bytes of a thread's name: use the last part ("reader-0").
            let threadName = String("\(name.split(separator: ".").last ?? "")-\(index)".prefix(15))
            let thread = Thread { [self] in
                // Named from inside: Foundation applies a name set before start() only on Darwin.
                // The system's name is set directly as well: a new thread inherits its creator's
                // ("…root.default-qos"), and under load Foundation's `Thread.current` was seen to
                // still report that one on a pool thread.
                Thread.current.name = threadName
                Self.setSystemThreadName(threadName)
                var context: Context?
                do {
                    context = try makeContext(index)
                } catch {
                    startup.lock()
                    if failure == nil { failure = error }
                    started += 1
                    startup.broadcast()
                    startup.unlock()
                    return
                }
                condition.lock()
                running += 1
                condition.unlock()
                startup.lock()
                started += 1
                startup.broadcast()
                startup.unlock()
                self.loop(context!)
                // Release the context on its own thread, before `shutdown` returns, so that a
                // shut-down pool has closed its files and connections.
                context = nil
                condition.lock()
                running -= 1
                condition.broadcast()
                condition.unlock()
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        startup.lock()
        while started < threads { startup.wait() }
        let error = failure
        startup.unlock()
        if let error {
            shutdown()
            throw error
        }
    }

    /// Sets the calling thread's name as the system knows it (proc(5): a thread may write its own
    /// `comm`); Glibc's `pthread_setname_np` is not visible to Swift without a C shim.
    private static func setSystemThreadName(_ name: String) {
        #if os(Linux)
        let descriptor = open("/proc/thread-self/comm", O_WRONLY)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        #endif
    }

    deinit {
        shutdown()
        pthread_key_delete(stateKey)
    }

    /// Runs `body` on one of the pool's threads with that thread's context and returns its result.
    ///
    /// The body is not interrupted by task cancellation: blocking work runs to completion.
    package func run<T: Sendable>(_ body: @escaping @Sendable (Context) throws -> T) async throws -> T {
        // Already on one of this pool's threads (the task prefers this executor): run inline.
        if let state = currentThreadState() {
            return try body(state.context)
        }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue { context in
                continuation.resume(with: Result { try body(context) })
            } onRejected: {
                continuation.resume(throwing: VideoStackError(.cancelled, "The \(self.name) thread pool has been shut down."))
            }
        }
    }

    /// Queues `job` without waiting for it. Returns false if the pool is shut down.
    @discardableResult
    package func submit(_ job: @escaping @Sendable (Context) -> Void) -> Bool {
        var accepted = true
        enqueue(job) { accepted = false }
        return accepted
    }

    private func enqueue(_ job: @escaping (Context) -> Void, onRejected: () -> Void) {
        condition.lock()
        if stopping {
            condition.unlock()
            onRejected()
            return
        }
        queue.append(job)
        waiting.add(1, ordering: .releasing)
        if sleepers > 0 { condition.signal() }
        condition.unlock()
    }

    /// Stops accepting work, lets queued jobs finish, and waits for the threads to exit, which
    /// closes their contexts (their `deinit`s run on their own threads).
    /// Called from one of the pool's own threads it does not wait (that would never end).
    package func shutdown() {
        let onOwnThread = currentThreadState() != nil
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > (onOwnThread ? 1 : 0) { condition.wait() }
        condition.unlock()
    }

    /// The context of the current thread when it is one of this pool's threads, so a caller can
    /// do its blocking work inline without building a job (what ``run(_:)`` does first).
    package var currentContext: Context? { currentThreadState()?.context }

    /// The state of the current thread if it is one of this pool's threads.
    private func currentThreadState() -> ThreadState? {
        guard let raw = pthread_getspecific(stateKey) else { return nil }
        return Unmanaged<ThreadState>.fromOpaque(raw).takeUnretainedValue()
    }

    /// What a pool thread knows about itself, for inline runs.
    private final class ThreadState {
        let context: Context

        init(context: Context) {
            self.context = context
        }
    }

    // MARK: TaskExecutor

    /// Runs a task's job on one of the pool's threads.
    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = submit { _ in job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        // A shut-down pool still runs the job, on the global executor, rather than lose the task.
        if !accepted {
            Task.detached { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    /// Runs jobs until the pool stops and the queue is empty.
    ///
    /// A thread that runs out of work polls for a short while before it sleeps: requests from a
    /// task awaiting one result after another arrive microseconds apart, and catching them
    /// awake saves a futex wake-up and a context switch on each side.
    private func loop(_ context: Context) {
        let state = ThreadState(context: context)
        pthread_setspecific(stateKey, Unmanaged.passUnretained(state).toOpaque())
        defer {
            pthread_setspecific(stateKey, nil)
            withExtendedLifetime(state) {}
        }
        condition.lock()
        defer { condition.unlock() }
        while true {
            if head < queue.count {
                let job = queue[head]
                // Drop the queue's reference now: a finished job's closure may hold large buffers.
                queue[head] = { _ in }
                head += 1
                waiting.subtract(1, ordering: .relaxed)
                if head > 64 && head * 2 > queue.count {
                    queue.removeFirst(head)
                    head = 0
                }
                condition.unlock()
                job(context)
                condition.lock()
            } else if stopping {
                return
            } else {
                condition.unlock()
                let found = pollForWork()
                condition.lock()
                if !found && head >= queue.count && !stopping {
                    sleepers += 1
                    condition.wait()
                    sleepers -= 1
                }
            }
        }
    }

    /// Yields the processor in a loop for up to about 50 microseconds, watching for new jobs.
    private func pollForWork() -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + 50_000
        repeat {
            if waiting.load(ordering: .acquiring) > 0 { return true }
            sched_yield()
        } while DispatchTime.now().uptimeNanoseconds < deadline
        return false
    }
}
