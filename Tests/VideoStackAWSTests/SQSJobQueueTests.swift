import Foundation
import Logging
import Testing
import VideoCore
import VideoPlatform
import VideoStackAWS

/// The job-queue behaviour that applies to SQS, against both emulators. SQS keeps its own time,
/// so where a lease must run out the test waits for SQS to deliver the job again (long polling
/// ends on the delivery, not on a timer of the test).
@Suite("SQSJobQueue")
struct SQSJobQueueTests {
    func withQueue<T>(_ emulator: Emulator, policy: RetryPolicy = RetryPolicy(initialDelay: .zero, maxDelay: .zero, maxAttempts: 3),
                      _ body: (SQSJobQueue) async throws -> T) async throws -> T {
        try await emulator.run { endpoint in
            let queue = try await SQSJobQueue(client: Emulator.client(endpoint: endpoint), name: "jobs", retryPolicy: policy, logger: Logger(label: "test"))
            return try await body(queue)
        }
    }

    func code<T>(_ body: () async throws -> T) async -> VideoStackError.Code? {
        do { _ = try await body(); return nil } catch { return (error as? VideoStackError)?.code }
    }

    @Test(arguments: Emulator.allCases)
    func enqueueLeaseComplete(_ emulator: Emulator) async throws {
        try await withQueue(emulator) { queue in
            try await queue.enqueue(Job(id: "a", kind: "echo", payload: #"{"video":"01J"}"#))
            let leased = try await queue.lease(max: 10, visibility: .seconds(30), wait: .seconds(5))
            #expect(leased.map(\.job.id) == ["a"])
            #expect(leased.first?.job.payload == #"{"video":"01J"}"# && leased.first?.attempt == 1 && leased.first?.previousError == nil)
            // Leased jobs are invisible to other workers.
            #expect(try await queue.lease(max: 10, visibility: .seconds(30), wait: .zero).isEmpty)
            try await queue.complete(leased[0])
            #expect(try await queue.lease(max: 10, visibility: .seconds(30), wait: .seconds(1)).isEmpty)
            // A finished lease cannot finish twice.
            #expect(await code { try await queue.complete(leased[0]) } == .conflict)
        }
    }

    @Test(arguments: Emulator.allCases)
    func heartbeatsKeepALease(_ emulator: Emulator) async throws {
        try await withQueue(emulator) { queue in
            try await queue.enqueue(Job(id: "long", kind: "k", payload: ""))
            let lease = try #require(try await queue.lease(max: 1, visibility: .seconds(3), wait: .seconds(5)).first)
            let extended = try await queue.heartbeat(lease, visibility: .seconds(120))
            #expect(extended.visibleUntil > lease.visibleUntil)
            // Without the heartbeat the job would be delivered again within this long poll.
            #expect(try await queue.lease(max: 1, visibility: .seconds(30), wait: .seconds(6)).isEmpty)
            try await queue.complete(extended)
        }
    }

    @Test(arguments: Emulator.allCases)
    func anExpiredLeaseDeliversTheJobAgain(_ emulator: Emulator) async throws {
        try await withQueue(emulator) { queue in
            try await queue.enqueue(Job(id: "j", kind: "k", payload: ""))
            let first = try #require(try await queue.lease(max: 1, visibility: .seconds(1), wait: .seconds(5)).first)
            var second: LeasedJob?
            for _ in 0..<10 where second == nil { second = try await queue.lease(max: 1, visibility: .seconds(60), wait: .seconds(2)).first }
            let again = try #require(second)
            #expect(again.attempt == 2)
            try await queue.complete(again)
            #expect(await code { try await queue.heartbeat(first, visibility: .seconds(5)) } == .conflict)
        }
    }

    @Test(arguments: Emulator.allCases)
    func failuresAreRetriedThenDeadLetteredWithTheLastError(_ emulator: Emulator) async throws {
        try await withQueue(emulator) { queue in
            try await queue.enqueue(Job(id: "flaky", kind: "k", payload: "p"))
            for attempt in 1...3 {
                let lease = try #require(try await queue.lease(max: 1, visibility: .seconds(30), wait: .seconds(5)).first)
                #expect(lease.attempt == attempt)
                if attempt > 1 { #expect(lease.previousError == "boom \(attempt - 1)") }
                try await queue.fail(lease, error: "boom \(attempt)", permanent: false)
            }
            #expect(try await queue.lease(max: 1, visibility: .seconds(30), wait: .seconds(1)).isEmpty)
            let dead = try await queue.deadLetters(limit: 10, after: nil).letters
            #expect(dead.map(\.job.id) == ["flaky"])
            #expect(dead.first?.lastError == "boom 3" && dead.first?.attempts == 3 && dead.first?.job.payload == "p")

            try await queue.redrive("flaky")
            let again = try #require(try await queue.lease(max: 1, visibility: .seconds(30), wait: .seconds(5)).first)
            #expect(again.attempt == 1)
            #expect(try await queue.deadLetters(limit: 10, after: nil).letters.isEmpty)
            #expect(await code { try await queue.redrive("flaky") } == .notFound)
            // A permanent failure dead-letters at once.
            try await queue.fail(again, error: "not a video", permanent: true)
            #expect(try await queue.deadLetters(limit: 10, after: nil).letters.first?.lastError == "not a video")
        }
    }

    @Test(arguments: Emulator.allCases)
    func aReleasedJobComesBackWithoutCountingTheAttempt(_ emulator: Emulator) async throws {
        try await withQueue(emulator) { queue in
            try await queue.enqueue(Job(id: "r", kind: "k", payload: ""))
            let lease = try #require(try await queue.lease(max: 1, visibility: .seconds(300), wait: .seconds(5)).first)
            try await queue.release(lease)
            let again = try #require(try await queue.lease(max: 1, visibility: .seconds(300), wait: .seconds(5)).first)
            #expect(again.attempt == 1)
        }
    }

    @Test(arguments: Emulator.allCases)
    func jobsOfCrashedWorkersAreRedrivenToTheDeadLetterQueue(_ emulator: Emulator) async throws {
        try await withQueue(emulator, policy: RetryPolicy(maxAttempts: 2)) { queue in
            try await queue.enqueue(Job(id: "crashy", kind: "k", payload: ""))
            var receives = 0
            // Take leases and never finish them, until SQS stops delivering the job.
            for _ in 0..<20 {
                guard try await queue.lease(max: 1, visibility: .seconds(1), wait: .seconds(3)).first != nil else { break }
                receives += 1
            }
            #expect(receives == 2)
            let dead = try await queue.deadLetters(limit: 5, after: nil).letters
            #expect(dead.map(\.job.id) == ["crashy"])
        }
    }

    @Test(arguments: Emulator.allCases)
    func badInputIsRefused(_ emulator: Emulator) async throws {
        try await withQueue(emulator) { queue in
            #expect(await code { try await queue.enqueue(Job(id: "", kind: "k", payload: "")) } == .invalidInput)
            #expect(await code { try await queue.enqueue(Job(id: "has space", kind: "k", payload: "")) } == .invalidInput)
            #expect(await code { try await queue.enqueue(Job(id: "big", kind: "k", payload: String(repeating: "x", count: Job.maxPayloadBytes))) } == .limitExceeded)
            #expect(await code { try await queue.enqueue(Job(id: "n", kind: "k", payload: "", maxAttempts: 0)) } == .invalidInput)
            #expect(await code { try await queue.lease(max: 11, visibility: .seconds(5), wait: .zero) } == .invalidInput)
            #expect(await code { try await queue.lease(max: 1, visibility: .seconds(50_000), wait: .zero) } == .invalidInput)
            // Unicode and JSON in payloads survive the trip.
            try await queue.enqueue(Job(id: "u", kind: "k", payload: "{\"t\":\"日本 \\\" é\\n\"}"))
            #expect(try await queue.lease(max: 1, visibility: .seconds(5), wait: .seconds(5)).first?.job.payload == "{\"t\":\"日本 \\\" é\\n\"}")
        }
    }
}
