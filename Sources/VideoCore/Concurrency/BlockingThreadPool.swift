internal import Foundation

/// A fixed set of dedicated threads for blocking work (SQLite, file I/O, FFmpeg), so that such
/// work never occupies Swift's cooperative thread pool.
///
/// Each thread owns a `Context` made on that thread (an SQLite connection, say) that only that
/// thread ever touches. Jobs are taken in FIFO order by whichever thread is free; a thread that
/// finds more work queued runs it without sleeping, so a burst of small jobs costs one wake-up.
package final class BlockingThreadPool<Context>: @unchecked Sendable {
    // @unchecked Sendable: all mutable state (`queue`, `stopping`, `running`) is guarded by
    // `condition`; the contexts never leave the thread that made them.
    private let condition = NSCondition()
    private var queue: [(Context) -> Void] = []
    private var head = 0
    private var stopping = false
    private var running = 0
    private let name: String

    /// Starts `threads` threads; each calls `makeContext(threadIndex)` first, on itself.
    /// If any context fails to open, the pool is shut down and the first error is thrown.
    package init(name: String, threads: Int, makeContext: @escaping @Sendable (Int) throws -> Context) throws {
        precondition(threads > 0)
        self.name = name
        let startup = NSCondition()
        nonisolated(unsafe) var started = 0
        nonisolated(unsafe) var failure: (any Error)?
        for index in 0..<threads {
            let thread = Thread { [self] in
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
            thread.name = "\(name)-\(index)"
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

    deinit {
        shutdown()
    }

    /// Runs `body` on one of the pool's threads with that thread's context and returns its result.
    ///
    /// The body is not interrupted by task cancellation: blocking work runs to completion.
    package func run<T: Sendable>(_ body: @escaping @Sendable (Context) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
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
        condition.signal()
        condition.unlock()
    }

    /// Stops accepting work, lets queued jobs finish, and waits for the threads to exit, which
    /// closes their contexts (their `deinit`s run on their own threads).
    /// Called from one of the pool's own threads it does not wait (that would never end).
    package func shutdown() {
        let onOwnThread = Thread.current.threadDictionary[Self.threadKey] as AnyObject? === self
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > (onOwnThread ? 1 : 0) { condition.wait() }
        condition.unlock()
    }

    private static var threadKey: String { "VideoStack.BlockingThreadPool" }

    /// Runs jobs until the pool stops and the queue is empty.
    private func loop(_ context: Context) {
        Thread.current.threadDictionary[Self.threadKey] = self
        defer { Thread.current.threadDictionary.removeObject(forKey: Self.threadKey) }
        condition.lock()
        defer { condition.unlock() }
        while true {
            if head < queue.count {
                let job = queue[head]
                head += 1
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
                condition.wait()
            }
        }
    }
}
