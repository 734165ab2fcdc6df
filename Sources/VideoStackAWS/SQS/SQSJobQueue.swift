public import Foundation
public import Logging
public import VideoPlatform
internal import NIOHTTP1
internal import VideoCore

/// A ``JobQueue`` on Amazon SQS (its JSON protocol), with a dead-letter queue.
///
/// Two standard queues: `<name>` holds jobs and `<name>-dead` their dead letters. The main queue's
/// redrive policy moves a message to the dead-letter queue after `retryPolicy.maxAttempts`
/// receives, which is how jobs whose workers keep crashing die without anyone failing them.
///
/// - A lease is a receive (long polling up to 20 s); a heartbeat is `ChangeMessageVisibility`.
///   `complete` deletes the message, after checking with a visibility change that the receipt
///   still holds the message (SQS deletes with stale receipts silently; the protocol reports a lost
///   lease as `conflict`).
/// - A failed attempt is sent again as a new message delayed by the backoff (at most 15 minutes,
///   SQS's limit) that carries the attempt count and the error, then the leased one is deleted; the
///   last failure goes to the dead-letter queue with its error instead.
/// - SQS keeps no index by job id: enqueueing an id twice queues it twice (handlers are idempotent
///   by contract), and ``deadLetters(limit:after:)`` and ``redrive(_:)`` look through the
///   dead-letter queue by receiving its messages for a moment. See `Documentation/ScaleOut.md`.
public final class SQSJobQueue: JobQueue {
    /// The client requests go through.
    public let client: AWSClient
    /// The job queue's name (the dead-letter queue adds `-dead`).
    public let name: String
    /// Backoff between attempts, and the attempts before a job dies.
    public let retryPolicy: RetryPolicy
    /// The URL of the job queue.
    public let queueURL: String
    /// The URL of the dead-letter queue.
    public let deadLetterURL: String
    private let logger: Logger
    private let now: @Sendable () -> Date

    /// Opens (and creates, when missing) the queue and its dead-letter queue.
    ///
    /// - Parameter name: 1 to 75 letters, digits, `-` and `_` (the dead-letter queue adds `-dead`).
    public init(client: AWSClient, name: String, retryPolicy: RetryPolicy = RetryPolicy(), logger: Logger,
                now: @escaping @Sendable () -> Date = Date.init) async throws {
        try Self.validate(queueName: name)
        guard (1...1000).contains(retryPolicy.maxAttempts) else {
            throw VideoStackError(.invalidInput, "SQS redrives after 1 to 1,000 receives; maxAttempts is \(retryPolicy.maxAttempts).")
        }
        self.client = client
        self.name = name
        self.retryPolicy = retryPolicy
        self.logger = logger
        self.now = now
        deadLetterURL = try await Self.call(client, "CreateQueue", ["QueueName": .string(name + "-dead"),
                                                                    "Attributes": .object(["MessageRetentionPeriod": .string("1209600")])])["QueueUrl"]?.string ?? ""
        let deadARN = try await Self.call(client, "GetQueueAttributes", ["QueueUrl": .string(deadLetterURL), "AttributeNames": .array([.string("QueueArn")])])["Attributes"]?["QueueArn"]?.string ?? ""
        let redrive = JSON.object(["deadLetterTargetArn": .string(deadARN), "maxReceiveCount": .string(String(retryPolicy.maxAttempts))]).text
        do {
            queueURL = try await Self.call(client, "CreateQueue", ["QueueName": .string(name), "Attributes": .object(["RedrivePolicy": .string(redrive)])])["QueueUrl"]?.string ?? ""
        } catch let error as VideoStackError where (error.cause as? AWSServiceError)?.code.contains("QueueAlreadyExists") == true || (error.cause as? AWSServiceError)?.code == "QueueNameExists" {
            // It exists with other attributes: use it and set the redrive policy this queue relies on.
            let url = try await Self.call(client, "GetQueueUrl", ["QueueName": .string(name)])["QueueUrl"]?.string ?? ""
            _ = try await Self.call(client, "SetQueueAttributes", ["QueueUrl": .string(url), "Attributes": .object(["RedrivePolicy": .string(redrive)])])
            queueURL = url
        }
        guard !queueURL.isEmpty, !deadLetterURL.isEmpty, !deadARN.isEmpty else {
            throw VideoStackError(.corrupt, "SQS created the queue '\(name)' but did not return its URL or ARN.")
        }
    }

    /// Throws `invalidInput` unless `name` can name the queue (and, with `-dead`, its dead-letter queue).
    static func validate(queueName name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 75, name.utf8.allSatisfy({ DynamoDBItemStore.isNameByte($0) && $0 != 0x2E }) else {
            throw VideoStackError(.invalidInput, "An SQS queue name is 1 to 75 letters, digits, '-' and '_'; got '\(name.prefix(80))'.")
        }
    }

    // MARK: Messages

    /// The body of a message: the job, the attempts earlier copies used, the last error.
    struct Envelope {
        var job: Job
        var attempts: Int
        var lastError: String?
        var diedAt: Date?

        var json: JSON {
            var object: [String: JSON] = ["id": .string(job.id), "kind": .string(job.kind), "payload": .string(job.payload), "attempts": .int(attempts)]
            if let max = job.maxAttempts { object["maxAttempts"] = .int(max) }
            if let lastError { object["lastError"] = .string(lastError) }
            if let diedAt { object["diedAt"] = .number(String(diedAt.timeIntervalSince1970)) }
            return .object(object)
        }

        init(job: Job, attempts: Int, lastError: String?, diedAt: Date? = nil) {
            self.job = job
            self.attempts = attempts
            self.lastError = lastError
            self.diedAt = diedAt
        }

        init(body: String) throws {
            let json = try JSON.parse(Array(body.utf8), what: "SQS job message")
            guard let id = json["id"]?.string, let kind = json["kind"]?.string, let payload = json["payload"]?.string else {
                throw VideoStackError(.corrupt, "An SQS message is not a VideoStack job: \(body.prefix(200))")
            }
            job = Job(id: id, kind: kind, payload: payload, maxAttempts: json["maxAttempts"]?.int)
            attempts = json["attempts"]?.int ?? 0
            lastError = json["lastError"]?.string
            diedAt = json["diedAt"]?.double.map { Date(timeIntervalSince1970: $0) }
        }
    }

    public func enqueue(_ job: Job) async throws {
        try Self.validate(job)
        _ = try await call("SendMessage", ["QueueUrl": .string(queueURL), "MessageBody": .string(Envelope(job: job, attempts: 0, lastError: nil).json.text)])
    }

    public func lease(max: Int, visibility: Duration, wait: Duration) async throws -> [LeasedJob] {
        guard (1...10).contains(max) else { throw VideoStackError(.invalidInput, "SQS receives 1 to 10 messages at a time; \(max) were asked for.") }
        let seconds = try Self.visibilitySeconds(visibility)
        let waitSeconds = Int(Swift.max(0, Swift.min(20, wait.components.seconds)))
        let response = try await call("ReceiveMessage", [
            "QueueUrl": .string(queueURL), "MaxNumberOfMessages": .int(max), "VisibilityTimeout": .int(seconds),
            "WaitTimeSeconds": .int(waitSeconds), "MessageSystemAttributeNames": .array([.string("ApproximateReceiveCount")]),
            "AttributeNames": .array([.string("ApproximateReceiveCount")]),
        ])
        let leasedAt = now()
        var leases: [LeasedJob] = []
        for message in response["Messages"]?.array ?? [] {
            guard let body = message["Body"]?.string, let receipt = message["ReceiptHandle"]?.string else { continue }
            let envelope = try Envelope(body: body)
            let receives = message["Attributes"]?["ApproximateReceiveCount"]?.int ?? 1
            let maxAttempts = Swift.min(envelope.job.maxAttempts ?? retryPolicy.maxAttempts, retryPolicy.maxAttempts)
            leases.append(LeasedJob(job: envelope.job, attempt: envelope.attempts + receives, maxAttempts: maxAttempts,
                                    previousError: envelope.lastError, receipt: Self.receipt(receipt, envelope: envelope), visibleUntil: leasedAt.addingTimeInterval(Double(seconds))))
        }
        return leases
    }

    public func heartbeat(_ lease: LeasedJob, visibility: Duration) async throws -> LeasedJob {
        let seconds = try Self.visibilitySeconds(visibility)
        try await changeVisibility(lease, seconds: seconds)
        var extended = lease
        extended.visibleUntil = now().addingTimeInterval(Double(seconds))
        return extended
    }

    public func complete(_ lease: LeasedJob) async throws {
        try await changeVisibility(lease, seconds: 30)  // proves the receipt still holds the message
        try await delete(lease)
    }

    public func fail(_ lease: LeasedJob, error: String, permanent: Bool) async throws {
        try await changeVisibility(lease, seconds: 30)
        let message = String(error.prefix(4096))
        if permanent || lease.isLastAttempt {
            let letter = Envelope(job: lease.job, attempts: lease.attempt, lastError: message, diedAt: now())
            _ = try await call("SendMessage", ["QueueUrl": .string(deadLetterURL), "MessageBody": .string(letter.json.text)])
        } else {
            let delay = retryPolicy.delay(afterAttempt: lease.attempt)
            let retry = Envelope(job: lease.job, attempts: lease.attempt, lastError: message)
            _ = try await call("SendMessage", ["QueueUrl": .string(queueURL), "MessageBody": .string(retry.json.text),
                                               "DelaySeconds": .int(Int(Swift.min(900, delay.components.seconds)))])
        }
        try await delete(lease)
    }

    public func release(_ lease: LeasedJob) async throws {
        try await changeVisibility(lease, seconds: 30)
        // A new copy that does not count this receive, visible at once.
        let copy = Envelope(job: lease.job, attempts: lease.attempt - 1, lastError: lease.previousError)
        _ = try await call("SendMessage", ["QueueUrl": .string(queueURL), "MessageBody": .string(copy.json.text)])
        try await delete(lease)
    }

    // MARK: Dead letters

    public func deadLetters(limit: Int, after token: String?) async throws -> (letters: [DeadLetter], next: String?) {
        guard limit > 0 else { throw VideoStackError(.invalidInput, "A dead-letter page needs a positive limit; got \(limit).") }
        let all = try await sweepDeadLetters()
        let sorted = all.map(\.letter).sorted { ($0.diedAt, $0.job.id) < ($1.diedAt, $1.job.id) }
        let start = token.flatMap { id in sorted.firstIndex { $0.job.id == id }.map { $0 + 1 } } ?? 0
        let page = Array(sorted.dropFirst(start).prefix(limit))
        return (page, start + page.count < sorted.count ? page.last?.job.id : nil)
    }

    public func redrive(_ id: String) async throws {
        let found = try await sweepDeadLetters()
        guard let entry = found.first(where: { $0.letter.job.id == id }) else {
            throw VideoStackError(.notFound, "There is no dead letter for the job '\(id.prefix(128))'.")
        }
        _ = try await call("SendMessage", ["QueueUrl": .string(queueURL), "MessageBody": .string(Envelope(job: entry.letter.job, attempts: 0, lastError: nil).json.text)])
        _ = try await call("DeleteMessage", ["QueueUrl": .string(deadLetterURL), "ReceiptHandle": .string(entry.receipt)])
    }

    /// Receives every dead letter for a moment (then makes them visible again), since SQS has no
    /// way to list a queue.
    private func sweepDeadLetters() async throws -> [(letter: DeadLetter, receipt: String)] {
        var found: [String: (letter: DeadLetter, receipt: String)] = [:]
        var receipts: [String] = []
        var emptyRounds = 0
        while emptyRounds < 2 {
            let response = try await call("ReceiveMessage", [
                "QueueUrl": .string(deadLetterURL), "MaxNumberOfMessages": .int(10), "VisibilityTimeout": .int(20), "WaitTimeSeconds": .int(0),
                "MessageSystemAttributeNames": .array([.string("ApproximateReceiveCount"), .string("SentTimestamp")]),
                "AttributeNames": .array([.string("ApproximateReceiveCount"), .string("SentTimestamp")]),
            ])
            let messages = response["Messages"]?.array ?? []
            if messages.isEmpty { emptyRounds += 1; continue }
            emptyRounds = 0
            for message in messages {
                guard let body = message["Body"]?.string, let receipt = message["ReceiptHandle"]?.string, let id = message["MessageId"]?.string else { continue }
                receipts.append(receipt)
                let envelope = try Envelope(body: body)
                let sent = (message["Attributes"]?["SentTimestamp"]?.double).map { Date(timeIntervalSince1970: $0 / 1000) } ?? now()
                // Redriven by SQS itself (a crashing worker): the receives of this copy were attempts.
                let receives = envelope.diedAt == nil ? retryPolicy.maxAttempts : 0
                let letter = DeadLetter(job: envelope.job, attempts: envelope.attempts + receives,
                                        lastError: envelope.lastError ?? "the lease ran out \(retryPolicy.maxAttempts) times (the worker stopped without reporting)",
                                        diedAt: envelope.diedAt ?? sent)
                found[id] = (letter, receipt)
            }
        }
        for receipt in receipts {
            _ = try? await call("ChangeMessageVisibility", ["QueueUrl": .string(deadLetterURL), "ReceiptHandle": .string(receipt), "VisibilityTimeout": .int(0)])
        }
        return Array(found.values)
    }

    // MARK: Helpers

    /// The lease's receipt is SQS's receipt handle.
    private static func receipt(_ handle: String, envelope: Envelope) -> String { handle }

    private func changeVisibility(_ lease: LeasedJob, seconds: Int) async throws {
        do {
            _ = try await call("ChangeMessageVisibility", ["QueueUrl": .string(queueURL), "ReceiptHandle": .string(lease.receipt), "VisibilityTimeout": .int(seconds)])
        } catch let error as VideoStackError where error.code == .invalidInput || error.code == .notFound {
            throw VideoStackError(.conflict, "The lease of job \(lease.job.id) was lost (it ran out and the job was delivered again, or it was finished); its result is not recorded.", cause: error.cause)
        }
    }

    private func delete(_ lease: LeasedJob) async throws {
        _ = try await call("DeleteMessage", ["QueueUrl": .string(queueURL), "ReceiptHandle": .string(lease.receipt)])
    }

    private static func visibilitySeconds(_ visibility: Duration) throws -> Int {
        let seconds = visibility.components.seconds + (visibility.components.attoseconds > 0 ? 1 : 0)
        guard (0...43_200).contains(seconds) else {
            throw VideoStackError(.invalidInput, "An SQS visibility timeout is 0 to 12 hours; \(visibility) was asked for.")
        }
        return Int(seconds)
    }

    static func validate(_ job: Job) throws {
        try job.validate()
        // The envelope adds a little; SQS's limit is on the whole body.
        guard job.payload.utf8.count <= Job.maxPayloadBytes - 1024 else {
            throw VideoStackError(.limitExceeded, "A job payload sent through SQS is at most \(Job.maxPayloadBytes - 1024) bytes; this one is \(job.payload.utf8.count). Store large data in the blob store and pass its key.")
        }
    }

    private func call(_ operation: String, _ body: [String: JSON]) async throws -> JSON {
        try await Self.call(client, operation, body)
    }

    static func call(_ client: AWSClient, _ operation: String, _ body: [String: JSON]) async throws -> JSON {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-amz-json-1.0")
        headers.add(name: "X-Amz-Target", value: "AmazonSQS.\(operation)")
        let response = try await client.send(client.request(.sqs, method: "POST", headers: headers), body: JSON.object(body).serialized[...],
                                             service: .sqs, operation: operation)
        return response.body.isEmpty ? .object([:]) : try JSON.parse(response.body, what: "SQS \(operation)")
    }
}
