import Foundation
import Logging
import ServiceLifecycle
import SingleTableStore
import Synchronization
import Testing
import TestSupport
import VideoCore
import VideoPlatform

/// Records what handlers saw, for assertions across tasks.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}

@Suite struct JobQueueTests {
    let logger = Logger(label: "test.jobs", factory: { _ in SwiftLogNoOpLogHandler() })

    func withQueue<T>(clock: ManualClock? = nil, policy: RetryPolicy = RetryPolicy(),
                      _ body: (StoreJobQueue, SQLiteItemStore, URL) async throws -> T) async throws -> T {
        try await withTemporaryDirectory(prefix: "jobs") { directory in
            let store = try await PlatformTestStore.open(directory)
            defer { store.close() }
            let now: @Sendable () -> Date
            if let clock { now = { clock.now } } else { now = { Date() } }
            let queue = try StoreJobQueue(store: store, retryPolicy: policy, pollInterval: .milliseconds(20), logger: logger, now: now)
            return try await body(queue, store, directory)
        }
    }

    @Test func enqueueLeaseComplete() async throws {
        // A manual clock: on a loaded machine the real one can pass the 30-s lease mid-test.
        try await withQueue(clock: ManualClock()) { queue, _, _ in
            try await queue.enqueue(Job(id: "a", kind: "echo", payload: "hello"))
            let leased = try await queue.lease(max: 10, visibility: .seconds(30), wait: .zero)
            #expect(leased.map(\.job.id) == ["a"])
            #expect(leased.first?.job.payload == "hello")
            #expect(leased.first?.attempt == 1)
            // Leased jobs are invisible to other workers.
            #expect(try await queue.lease(max: 10, visibility: .seconds(30), wait: .zero).isEmpty)
            try await queue.complete(leased[0])
            #expect(try await queue.depth() == 0)
            // A completed lease cannot complete twice.
            await #expect(throws: VideoStackError.self) { try await queue.complete(leased[0]) }
        }
    }

    @Test func enqueueIsIdempotentByID() async throws {
        try await withQueue { queue, _, _ in
            try await queue.enqueue(Job(id: "same", kind: "k", payload: "1"))
            try await queue.enqueue(Job(id: "same", kind: "k", payload: "2"))
            #expect(try await queue.depth() == 1)
            let leased = try await queue.lease(max: 5, visibility: .seconds(5), wait: .zero)
            #expect(leased.map(\.job.payload) == ["1"])
        }
    }

    @Test func concurrentLeasersTakeEachJobOnce() async throws {
        try await withQueue { queue, _, _ in
            for i in 0..<150 { try await queue.enqueue(Job(id: "job-\(i)", kind: "k", payload: "")) }
            let taken = Recorder<String>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        while true {
                            let leases = try await queue.lease(max: 3, visibility: .seconds(60), wait: .zero)
                            if leases.isEmpty { return }
                            for lease in leases { taken.append(lease.job.id) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(taken.all.count == 150)
            #expect(Set(taken.all).count == 150)
        }
    }

    @Test func anExpiredLeaseMakesTheJobVisibleAgain() async throws {
        let clock = ManualClock()
        try await withQueue(clock: clock) { queue, _, _ in
            try await queue.enqueue(Job(id: "j", kind: "k", payload: ""))
            let first = try await queue.lease(max: 1, visibility: .seconds(30), wait: .zero)
            #expect(first.count == 1)
            clock.advance(by: 29)
            #expect(try await queue.lease(max: 1, visibility: .seconds(30), wait: .zero).isEmpty)
            clock.advance(by: 2)
            let second = try await queue.lease(max: 1, visibility: .seconds(30), wait: .zero)
            #expect(second.first?.attempt == 2)
            // The first worker's lease is gone: its verdicts are refused as conflicts.
            let code = await errorCode { try await queue.complete(first[0]) }
            #expect(code == .conflict)
            try await queue.complete(second[0])
        }
    }

    @Test func heartbeatsKeepALease() async throws {
        let clock = ManualClock()
        try await withQueue(clock: clock) { queue, _, _ in
            try await queue.enqueue(Job(id: "long", kind: "k", payload: ""))
            var lease = try await queue.lease(max: 1, visibility: .seconds(10), wait: .zero)[0]
            for _ in 0..<5 {
                clock.advance(by: 8)
                lease = try await queue.heartbeat(lease, visibility: .seconds(10))
                #expect(try await queue.lease(max: 1, visibility: .seconds(10), wait: .zero).isEmpty)
            }
            #expect(abs(lease.visibleUntil.timeIntervalSince(clock.now) - 10) < 0.01)
            try await queue.complete(lease)
        }
    }

    @Test func failuresBackOffThenDeadLetterWithTheLastError() async throws {
        let clock = ManualClock()
        let policy = RetryPolicy(initialDelay: .seconds(10), maxDelay: .seconds(40), maxAttempts: 3)
        try await withQueue(clock: clock, policy: policy) { queue, _, _ in
            try await queue.enqueue(Job(id: "flaky", kind: "k", payload: ""))
            for attempt in 1...3 {
                clock.advance(by: 41)  // past any backoff
                let leases = try await queue.lease(max: 1, visibility: .seconds(5), wait: .zero)
                #expect(leases.first?.attempt == attempt)
                if attempt > 1 { #expect(leases.first?.previousError == "boom \(attempt - 1)") }
                try await queue.fail(leases[0], error: "boom \(attempt)", permanent: false)
            }
            clock.advance(by: 100)
            #expect(try await queue.lease(max: 1, visibility: .seconds(5), wait: .zero).isEmpty)
            let dead = try await queue.deadLetters(limit: 10, after: nil).letters
            #expect(dead.map(\.job.id) == ["flaky"])
            #expect(dead.first?.lastError == "boom 3")
            #expect(dead.first?.attempts == 3)

            try await queue.redrive("flaky")
            let again = try await queue.lease(max: 1, visibility: .seconds(5), wait: .zero)
            #expect(again.first?.attempt == 1)
            #expect(try await queue.deadLetters(limit: 10, after: nil).letters.isEmpty)
            let missing = await errorCode { try await queue.redrive("flaky") }
            #expect(missing == .notFound)
        }
    }

    @Test func backoffIsExponentialWithFullJitter() {
        let policy = RetryPolicy(initialDelay: .seconds(2), maxDelay: .seconds(60), maxAttempts: 10)
        #expect(policy.delay(afterAttempt: 1, random: 1) == .seconds(2))
        #expect(policy.delay(afterAttempt: 3, random: 1) == .seconds(8))
        #expect(policy.delay(afterAttempt: 9, random: 1) == .seconds(60))
        #expect(policy.delay(afterAttempt: 3, random: 0.5) == .seconds(4))
        #expect(policy.delay(afterAttempt: 3, random: 0) == .zero)
        #expect(policy.delay(afterAttempt: 500, random: 1) == .seconds(60))
    }

    @Test func aPermanentFailureDeadLettersAtOnce() async throws {
        try await withQueue { queue, _, _ in
            try await queue.enqueue(Job(id: "bad", kind: "k", payload: ""))
            let lease = try await queue.lease(max: 1, visibility: .seconds(5), wait: .zero)[0]
            try await queue.fail(lease, error: "the file is not a video", permanent: true)
            #expect(try await queue.deadLetters(limit: 10, after: nil).letters.first?.lastError == "the file is not a video")
        }
    }

    @Test func aReleasedJobIsVisibleAtOnceWithoutCountingTheAttempt() async throws {
        try await withQueue { queue, _, _ in
            try await queue.enqueue(Job(id: "r", kind: "k", payload: ""))
            let lease = try await queue.lease(max: 1, visibility: .seconds(300), wait: .zero)[0]
            try await queue.release(lease)
            let again = try await queue.lease(max: 1, visibility: .seconds(300), wait: .zero)
            #expect(again.first?.attempt == 1)
        }
    }

    @Test func crashedWorkersUseUpAttemptsToo() async throws {
        let clock = ManualClock()
        try await withQueue(clock: clock, policy: RetryPolicy(maxAttempts: 2)) { queue, _, _ in
            try await queue.enqueue(Job(id: "crashy", kind: "k", payload: ""))
            for _ in 0..<2 {
                #expect(try await queue.lease(max: 1, visibility: .seconds(5), wait: .zero).count == 1)
                clock.advance(by: 6)  // the worker "died": its lease runs out
            }
            #expect(try await queue.lease(max: 1, visibility: .seconds(5), wait: .zero).isEmpty)
            #expect(try await queue.deadLetters(limit: 5, after: nil).letters.map(\.job.id) == ["crashy"])
        }
    }

    @Test func jobsSurviveReopeningTheStore() async throws {
        try await withTemporaryDirectory(prefix: "jobs-reopen") { directory in
            do {
                let store = try await PlatformTestStore.open(directory)
                let queue = try StoreJobQueue(store: store, logger: logger)
                try await queue.enqueue(Job(id: "queued", kind: "k", payload: "q"))
                try await queue.enqueue(Job(id: "leased", kind: "k", payload: "l"))
                _ = try await queue.lease(max: 1, visibility: .milliseconds(1), wait: .zero)
                store.close()
            }
            let store = try await PlatformTestStore.open(directory)
            defer { store.close() }
            let queue = try StoreJobQueue(store: store, logger: logger)
            try await Task.sleep(for: .milliseconds(5))  // the 1 ms lease is over
            let leases = try await queue.lease(max: 5, visibility: .seconds(5), wait: .zero)
            #expect(Set(leases.map(\.job.id)) == ["queued", "leased"])
        }
    }

    @Test func aWaitingLeaseWakesOnEnqueue() async throws {
        try await withTemporaryDirectory(prefix: "jobs-wake") { directory in
            let store = try await PlatformTestStore.open(directory)
            defer { store.close() }
            // A poll interval far longer than the test: only the in-process wake-up can deliver.
            let queue = try StoreJobQueue(store: store, pollInterval: .seconds(600), logger: logger)
            async let leased = queue.lease(max: 1, visibility: .seconds(5), wait: .seconds(600))
            try await Task.sleep(for: .milliseconds(50))
            try await queue.enqueue(Job(id: "wake", kind: "k", payload: ""))
            #expect(try await leased.map(\.job.id) == ["wake"])
        }
    }

    @Test func badInputIsRefused() async throws {
        try await withQueue { queue, _, _ in
            #expect(await errorCode { try await queue.enqueue(Job(id: "", kind: "k", payload: "")) } == .invalidInput)
            #expect(await errorCode { try await queue.enqueue(Job(id: "has space", kind: "k", payload: "")) } == .invalidInput)
            #expect(await errorCode { try await queue.enqueue(Job(id: String(repeating: "x", count: 200), kind: "k", payload: "")) } == .invalidInput)
            #expect(await errorCode { try await queue.enqueue(Job(kind: "", payload: "")) } == .invalidInput)
            #expect(await errorCode { try await queue.enqueue(Job(kind: "k", payload: String(repeating: "x", count: Job.maxPayloadBytes + 1))) } == .limitExceeded)
            #expect(await errorCode { try await queue.enqueue(Job(kind: "k", payload: "", maxAttempts: 0)) } == .invalidInput)
            #expect(await errorCode { _ = try await queue.lease(max: 0, visibility: .seconds(1), wait: .zero) } == .invalidInput)
            #expect(await errorCode { _ = try await queue.lease(max: 1, visibility: .zero, wait: .zero) } == .invalidInput)
            #expect(await errorCode { try await queue.redrive("nope") } == .notFound)
            let depth = try await queue.depth()
            #expect(depth == 0)
            struct Payload: Codable { var video: String }
            let job = Job(kind: "k", payload: "{not json")
            #expect(throws: VideoStackError.self) { _ = try job.decodePayload(as: Payload.self) }
        }
    }
}

@Suite struct JobWorkerTests {
    let logger = Logger(label: "test.workers", factory: { _ in SwiftLogNoOpLogHandler() })

    struct Recording: JobHandler {
        let seen: Recorder<String>
        func run(_ job: Job, context: JobContext) async throws { seen.append(job.id) }
    }

    @Test func workersRunEveryJobOnce() async throws {
        try await withTemporaryDirectory(prefix: "workers") { directory in
            let store = try await PlatformTestStore.open(directory)
            defer { store.close() }
            let queue = try StoreJobQueue(store: store, pollInterval: .milliseconds(20), logger: logger)
            for i in 0..<120 { try await queue.enqueue(Job(id: "w\(i)", kind: "rec", payload: "")) }
            let seen = Recorder<String>()
            let workers = JobWorkers(queue: queue, handlers: ["rec": Recording(seen: seen)],
                                     configuration: JobWorkerConfiguration(concurrency: 4, pollWait: .milliseconds(50)), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await workers.run() }
                while try await queue.depth() > 0 { try await Task.sleep(for: .milliseconds(10)) }
                group.cancelAll()
            }
            #expect(seen.all.count == 120)
            #expect(Set(seen.all).count == 120)
        }
    }

    struct Failing: JobHandler {
        let permanent: Bool
        func run(_ job: Job, context: JobContext) async throws {
            if permanent { throw PermanentJobFailure("the file is not a video") }
            throw VideoStackError(.io, "disk hiccup")
        }
    }

    @Test func handlerErrorsAreRetriedOrDeadLettered() async throws {
        try await withTemporaryDirectory(prefix: "workers-fail") { directory in
            let store = try await PlatformTestStore.open(directory)
            defer { store.close() }
            let queue = try StoreJobQueue(store: store, retryPolicy: RetryPolicy(initialDelay: .milliseconds(1), maxDelay: .milliseconds(2), maxAttempts: 3),
                                          pollInterval: .milliseconds(10), logger: logger)
            try await queue.enqueue(Job(id: "perm", kind: "perm", payload: ""))
            try await queue.enqueue(Job(id: "flaky", kind: "flaky", payload: ""))
            try await queue.enqueue(Job(id: "orphan", kind: "unknown", payload: ""))
            let workers = JobWorkers(queue: queue, handlers: ["perm": Failing(permanent: true), "flaky": Failing(permanent: false)],
                                     configuration: JobWorkerConfiguration(concurrency: 2, pollWait: .milliseconds(20)), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await workers.run() }
                while try await queue.deadLetters(limit: 10, after: nil).letters.count < 3 { try await Task.sleep(for: .milliseconds(10)) }
                group.cancelAll()
            }
            let dead = Dictionary(uniqueKeysWithValues: try await queue.deadLetters(limit: 10, after: nil).letters.map { ($0.job.id, $0) })
            #expect(dead["perm"]?.attempts == 1)
            #expect(dead["perm"]?.lastError == "the file is not a video")
            #expect(dead["flaky"]?.attempts == 3)
            #expect(dead["flaky"]?.lastError.contains("disk hiccup") == true)
            #expect(dead["orphan"]?.lastError.contains("No handler") == true)
        }
    }

    /// Starts, then waits until cancelled.
    struct Blocking: JobHandler {
        let started: Recorder<String>
        func run(_ job: Job, context: JobContext) async throws {
            started.append(job.id)
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
    }

    @Test func gracefulShutdownReleasesRunningJobs() async throws {
        try await withTemporaryDirectory(prefix: "workers-shutdown") { directory in
            let store = try await PlatformTestStore.open(directory)
            defer { store.close() }
            let queue = try StoreJobQueue(store: store, pollInterval: .milliseconds(10), logger: logger)
            try await queue.enqueue(Job(id: "inflight", kind: "block", payload: ""))
            let started = Recorder<String>()
            let workers = JobWorkers(queue: queue, handlers: ["block": Blocking(started: started)],
                                     configuration: JobWorkerConfiguration(concurrency: 1, visibilityTimeout: .seconds(600), pollWait: .milliseconds(20)),
                                     logger: logger)
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [workers], logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                while started.all.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            // Released, not lost: visible at once (its lease was for 10 minutes) as a first attempt.
            let again = try await queue.lease(max: 1, visibility: .seconds(5), wait: .zero)
            #expect(again.map(\.job.id) == ["inflight"])
            #expect(again.first?.attempt == 1)
        }
    }
}

func errorCode(_ body: () async throws -> Void) async -> VideoStackError.Code? {
    do {
        try await body()
        return nil
    } catch let error as VideoStackError {
        return error.code
    } catch {
        return nil
    }
}

/// Opens the platform tests' SQLite store in a directory (one place to follow the store's API).
enum PlatformTestStore {
    static func open(_ directory: URL) async throws -> SQLiteItemStore {
        try await SQLiteItemStore(url: directory.appendingPathComponent("platform.sqlite"), schema: .singleTable)
    }
}
