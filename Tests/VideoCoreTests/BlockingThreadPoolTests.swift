import Foundation
import Synchronization
import Testing
@testable import VideoCore

@Suite struct BlockingThreadPoolTests {
    /// Lines written from the pool's threads.
    final class Log: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// A context that records the thread it was made on and the thread it was released on.
    final class Probe: Sendable {
        let index: Int
        let madeOn: String
        let log: Log

        init(index: Int, log: Log) {
            self.index = index
            self.madeOn = threadName()
            self.log = log
        }

        deinit {
            let name = threadName()
            log.lines.withLock { $0.append("closed \(index) on \(name)") }
        }
    }

    @Test func jobsRunOnThePoolThreadsWithTheirOwnContext() async throws {
        let log = Log()
        let pool = try BlockingThreadPool(name: "Test.pool", threads: 3) { index in Probe(index: index, log: log) }
        let seen = try await withThrowingTaskGroup(of: (Int, String, String).self) { group in
            for _ in 0..<60 {
                group.addTask { try await pool.run { probe in (probe.index, probe.madeOn, threadName()) } }
            }
            return try await group.reduce(into: [(Int, String, String)]()) { $0.append($1) }
        }
        // Every job ran on a pool thread, with the context that thread made.
        #expect(seen.count == 60)
        #expect(seen.allSatisfy { $0.1 == "pool-\($0.0)" && $0.2 == $0.1 })
        pool.shutdown()
        // Shutting down released every context, each on its own thread, before returning.
        #expect(Set(log.lines.withLock { $0 }) == ["closed 0 on pool-0", "closed 1 on pool-1", "closed 2 on pool-2"])
        await #expect(throws: VideoStackError.self) { _ = try await pool.run { _ in 1 } }
        #expect(pool.submit { _ in } == false)
    }

    @Test func tasksPreferringThePoolRunInlineOnItsThreads() async throws {
        let pool = try BlockingThreadPool(name: "Test.inline", threads: 2) { index in index }
        defer { pool.shutdown() }
        let (outer, inner, context) = try await withTaskExecutorPreference(pool) {
            let outer = threadName()
            // Already on a pool thread: `run` does not hop, it runs here with this thread's context.
            let (inner, context) = try await pool.run { context in (threadName(), context) }
            return (outer, inner, context)
        }
        // The job runs on a pool thread with that thread's context; when the task is already on
        // one (the preference is usually honoured at once, but not promised under load), it runs
        // inline there, without a hop.
        #expect(inner.contains("inline") && inner.hasSuffix("-\(context)"), "ran on \(inner) with context \(context)")
        if outer.contains("inline") { #expect(inner == outer) }
        #expect(pool.currentContext == nil, "the test itself does not run on a pool thread")
    }

    @Test func aContextThatFailsToOpenFailsThePool() throws {
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try BlockingThreadPool<Int>(name: "Test.failing", threads: 3) { index in
                if index == 1 { throw Refused() }
                return index
            }
        }
    }

    @Test func shuttingDownFinishesQueuedJobs() async throws {
        let pool = try BlockingThreadPool(name: "Test.drain", threads: 1) { _ in () }
        let done = Atomic<Int>(0)
        let gate = NSCondition()
        nonisolated(unsafe) var open = false
        // The first job holds the only thread until the others are queued behind it.
        pool.submit { _ in
            gate.lock()
            while !open { gate.wait() }
            gate.unlock()
            done.add(1, ordering: .relaxed)
        }
        for _ in 0..<10 { pool.submit { _ in done.add(1, ordering: .relaxed) } }
        gate.withLock {
            open = true
            gate.signal()
        }
        pool.shutdown()
        #expect(done.load(ordering: .relaxed) == 11)
    }
}

/// The name of the calling thread.
/// The system's name of the current thread (what `top` and `perf` show), not Foundation's
/// `Thread.current.name`, which under load once reported a pool thread by its creator's name.
private func threadName() -> String {
    guard let text = try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8) else { return "" }
    return text.trimmingCharacters(in: .newlines)
}
