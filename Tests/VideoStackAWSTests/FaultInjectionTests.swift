import AsyncHTTPClient
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import SingleTableStore
import Testing
import VideoCore
import VideoPlatform
import VideoStackAWS

/// Every backend through ``FaultProxy`` in front of moto: throttling, 5xx answers and connections
/// broken mid-body are retried within the client's attempts and budget, then fail with a typed
/// error that says so; and whatever failed leaves nothing half-written (no orphaned object or
/// multipart upload, a transaction applied whole or not at all, no job lost).
@Suite("Fault injection")
struct FaultInjectionTests {
    /// Four attempts per request; no waits between them worth the name.
    static let attempts = 4

    func withProxy<T>(_ body: (FaultProxy, AWSClient) async throws -> T) async throws -> T {
        try await Emulator.moto.run { endpoint in
            try await FaultProxy.with(upstream: endpoint) { proxy in
                try await body(proxy, Emulator.client(endpoint: proxy.endpoint, retry: AWSRetryStrategy(maxAttempts: Self.attempts, baseDelay: .milliseconds(1))))
            }
        }
    }

    static let schema = TableSchema(partitionKey: KeyAttribute("PK"), sortKey: KeyAttribute("SK"))

    // MARK: DynamoDB

    @Test func dynamoDBRetriesThrottlingAndFailuresThenFailsWithoutHalfWrites() async throws {
        try await withProxy { proxy, client in
            let store = try await DynamoDBItemStore(client: client, tableName: "faults", schema: Self.schema,
                                                    configuration: DynamoDBStoreConfiguration(createsTable: true))
            let target = "DynamoDB_20120810."

            // Throttled twice, then through: the write lands once.
            proxy.clear()
            proxy.inject(.provisionedThroughputExceeded, on: target + "PutItem", times: 2)
            try await store.putItem(["PK": "a", "SK": "1", "v": 1])
            #expect(proxy.seen(target + "PutItem").count == 3)
            #expect(proxy.seen(target + "PutItem").filter(\.forwarded).count == 1)
            #expect(try await store.getItem(key: ["PK": "a", "SK": "1"])?["v"] == 1)

            // Throttled for longer than the attempts last: a typed error naming the attempts.
            proxy.clear()
            proxy.inject(.dynamoDBThrottling, on: target + "GetItem", times: .max)
            let throttled = await expectError(.serviceUnavailable) { try await store.getItem(key: ["PK": "a", "SK": "1"]) }
            #expect(throttled?.message.contains("ThrottlingException") == true && throttled?.message.contains("\(Self.attempts) attempts") == true, "\(String(describing: throttled))")
            #expect(proxy.seen(target + "GetItem").count == Self.attempts)

            // A transaction answered 500 every time never reached the table: neither item exists.
            proxy.clear()
            proxy.inject(.internalError, on: target + "TransactWriteItems", times: .max)
            let pair: [TransactAction] = [.put(["PK": "t", "SK": "1"], condition: .notExists("PK")), .put(["PK": "t", "SK": "2"], condition: .notExists("PK"))]
            await expectError(.serviceUnavailable) { try await store.transactWrite(pair) }
            #expect(proxy.seen(target + "TransactWriteItems").count == Self.attempts)
            #expect(proxy.seen(target + "TransactWriteItems").allSatisfy { !$0.forwarded })
            proxy.clear()
            #expect(try await store.getItem(key: ["PK": "t", "SK": "1"]) == nil)
            #expect(try await store.getItem(key: ["PK": "t", "SK": "2"]) == nil)

            // The connection breaks while the transaction is being sent: it is sent again and
            // applied once, whole.
            proxy.inject(.dropRequestBody, on: target + "TransactWriteItems", times: 1)
            try await store.transactWrite(pair)
            #expect(proxy.seen(target + "TransactWriteItems").map(\.forwarded) == [false, true])
            #expect(try await store.getItem(key: ["PK": "t", "SK": "1"]) != nil)
            #expect(try await store.getItem(key: ["PK": "t", "SK": "2"]) != nil)

            // The answer breaks off after DynamoDB applied the transaction: the retry carries the
            // same ClientRequestToken, which makes DynamoDB answer it as already done (moto ignores
            // the token and runs it again, so its conditions fail: a typed cancellation). Either
            // way both writes happened, together.
            proxy.clear()
            proxy.inject(.dropResponseBody, on: target + "TransactWriteItems", times: 1)
            let again: [TransactAction] = [.put(["PK": "u", "SK": "1"], condition: .notExists("PK")), .put(["PK": "u", "SK": "2"], condition: .notExists("PK"))]
            do {
                try await store.transactWrite(again)
            } catch let error as VideoStackError {
                #expect(error.code == .transactionCanceled, "\(error)")
            }
            let sent = proxy.seen(target + "TransactWriteItems")
            #expect(sent.count == 2 && sent.allSatisfy(\.forwarded))
            let tokens = sent.map { Self.clientRequestToken(in: $0.body) }
            #expect(tokens[0] != nil && tokens[0] == tokens[1], "both attempts must carry one idempotency token: \(tokens)")
            proxy.clear()
            #expect(try await store.getItem(key: ["PK": "u", "SK": "1"]) != nil)
            #expect(try await store.getItem(key: ["PK": "u", "SK": "2"]) != nil)

            // Reads whose answers break off are read again.
            proxy.inject(.dropResponseBody, on: target + "Query", times: 2)
            let page = try await store.query(Query(partitionKey: "t"))
            #expect(page.items.count == 2)
            #expect(proxy.seen(target + "Query").count == 3)

            // 503s without a body (a load balancer) are retried too.
            proxy.clear()
            proxy.inject(.unavailable, on: target + "UpdateItem", times: 3)
            try await store.updateItem(key: ["PK": "a", "SK": "1"], actions: [.add("v", 1)])
            #expect(try await store.getItem(key: ["PK": "a", "SK": "1"])?["v"] == 2)
        }
    }

    /// The shared retry budget stops retries once it is spent, even with attempts left.
    @Test func theRetryBudgetBoundsRetriesAcrossRequests() async throws {
        try await Emulator.moto.run { endpoint in
            try await FaultProxy.with(upstream: endpoint) { proxy in
                // Two retries' worth of tokens.
                let client = Emulator.client(endpoint: proxy.endpoint, retry: AWSRetryStrategy(maxAttempts: 10, baseDelay: .milliseconds(1), budget: 10, retryCost: 5))
                let store = try await DynamoDBItemStore(client: client, tableName: "budget", schema: Self.schema,
                                                        configuration: DynamoDBStoreConfiguration(createsTable: true))
                proxy.clear()
                proxy.inject(.internalError, on: "DynamoDB_20120810.GetItem", times: .max)
                let first = await expectError(.serviceUnavailable) { try await store.getItem(key: ["PK": "a", "SK": "1"]) }
                #expect(first?.message.contains("3 attempts") == true, "\(String(describing: first))")
                #expect(proxy.seen("DynamoDB_20120810.GetItem").count == 3)
                #expect(client.retryBudgetRemaining == 0)
                // With the budget spent, the next failing request is not retried at all.
                await expectError(.serviceUnavailable) { try await store.getItem(key: ["PK": "a", "SK": "1"]) }
                #expect(proxy.seen("DynamoDB_20120810.GetItem").count == 4)
                // Successes refill it.
                proxy.clear()
                for _ in 0..<5 { _ = try await store.getItem(key: ["PK": "a", "SK": "1"]) }
                #expect(client.retryBudgetRemaining == 5)
            }
        }
    }

    static func clientRequestToken(in body: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return nil }
        return object["ClientRequestToken"] as? String
    }

    // MARK: S3

    static let multipart = S3BlobStoreConfiguration(bucket: "faults", addressing: .path, multipartThreshold: 5 << 20, partSize: 5 << 20,
                                                    uploadConcurrency: 2, createsBucket: true)

    static func bytes(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed } }

    /// In-progress multipart uploads of the bucket, asked of moto directly (past the proxy).
    static func openUploads(_ endpoint: URL, bucket: String) async throws -> Int {
        let (data, _) = try await URLSession.shared.data(from: endpoint.appendingPathComponent(bucket).appending(queryItems: [URLQueryItem(name: "uploads", value: "")]))
        return String(decoding: data, as: UTF8.self).components(separatedBy: "<Upload>").count - 1
    }

    @Test func s3RetriesSlowDownAndBrokenBodiesAndAbortsFailedUploads() async throws {
        try await withProxy { proxy, client in
            let store = try await S3BlobStore(client: client, configuration: Self.multipart)
            let small = Self.bytes(1000, seed: 1)

            // SlowDown twice, then stored.
            proxy.clear()
            proxy.inject(.slowDown, on: "S3 PUT", times: 2)
            _ = try await store.put("small.bin", bytes: small)
            #expect(proxy.seen("S3 PUT").count == 3)
            #expect(try await store.get("small.bin") == small)

            // A part that keeps failing fails the put, and the upload is aborted: no object, no
            // parts left behind.
            let large = Self.bytes(12 << 20, seed: 2)
            proxy.clear()
            proxy.inject(.slowDown, on: "S3 PUT partNumber uploadId", times: .max)
            let failed = await expectError(.serviceUnavailable) { try await store.put("large.bin", bytes: large) }
            #expect(failed?.message.contains("SlowDown") == true, "\(String(describing: failed))")
            #expect(proxy.seen("S3 DELETE uploadId").count == 1, "the failed upload must be aborted")
            proxy.clear()
            #expect(try await store.metadata("large.bin") == nil)
            #expect(try await store.list(prefix: "large", after: nil, limit: 10).objects.isEmpty)
            #expect(try await Self.openUploads(proxy.upstream, bucket: "faults") == 0)

            // Completing the upload fails every time: aborted as well.
            proxy.inject(.internalError, on: "S3 POST uploadId", times: .max)
            await expectError(.serviceUnavailable) { try await store.put("large.bin", bytes: large) }
            #expect(proxy.seen("S3 POST uploadId").count == Self.attempts)
            proxy.clear()
            #expect(try await store.metadata("large.bin") == nil)
            #expect(try await Self.openUploads(proxy.upstream, bucket: "faults") == 0)

            // A part whose upload breaks off mid-body is sent again; the object is whole.
            proxy.inject(.dropRequestBody, on: "S3 PUT partNumber uploadId", times: 1)
            _ = try await store.put("large.bin", bytes: large)
            #expect(proxy.seen("S3 PUT partNumber uploadId").count == 4)  // 3 parts, one sent twice
            #expect(try await store.get("large.bin") == large)

            // Downloads that break off are fetched again; a streamed read that breaks off after
            // its head throws a typed error to the reader instead of ending short.
            proxy.clear()
            proxy.inject(.dropResponseBody, on: "S3 GET", times: 2)
            #expect(try await store.get("large.bin") == large)
            #expect(try await store.get("small.bin", range: 10..<20) == Array(small[10..<20]))
            proxy.inject(.dropResponseBody, on: "S3 GET", times: 1)
            let stream = try await store.read("large.bin", range: nil, chunkSize: 1 << 20)
            var received = 0
            let broken = await expectError(.io) { for try await chunk in stream { received += chunk.count } }
            #expect(broken?.message.contains("large.bin") == true)
            #expect(received < large.count)

            // Every connection fails: a typed error that says the endpoint could not be reached.
            proxy.clear()
            proxy.inject(.dropRequestBody, on: "S3 GET", times: .max)
            let unreachable = await expectError(.serviceUnavailable) { try await store.get("small.bin") }
            #expect(unreachable?.message.contains("\(Self.attempts) attempts") == true, "\(String(describing: unreachable))")
        }
    }

    // MARK: SQS

    @Test func sqsRetriesThrottlingAndNeverLosesAJob() async throws {
        try await withProxy { proxy, client in
            let queue = try await SQSJobQueue(client: client, name: "faults", retryPolicy: RetryPolicy(initialDelay: .zero, maxDelay: .zero, maxAttempts: 5),
                                              logger: Logger(label: "test"))
            // Throttled twice, then queued once.
            proxy.clear()
            proxy.inject(.sqsThrottling, on: "AmazonSQS.SendMessage", times: 2)
            try await queue.enqueue(Job(id: "a", kind: "k", payload: "1"))
            #expect(proxy.seen("AmazonSQS.SendMessage").map(\.forwarded) == [false, false, true])

            // Throttled throughout: the enqueue fails with a typed error, so the caller knows the
            // job was not queued (the platform enqueues before it moves the video).
            proxy.inject(.sqsThrottling, on: "AmazonSQS.SendMessage", times: .max)
            let refused = await expectError(.serviceUnavailable) { try await queue.enqueue(Job(id: "b", kind: "k", payload: "2")) }
            #expect(refused?.message.contains("RequestThrottled") == true, "\(String(describing: refused))")
            proxy.clear()

            // The answer to a receive breaks off after SQS handed the job out: the job is
            // invisible for its visibility timeout, then delivered again.
            proxy.inject(.dropResponseBody, on: "AmazonSQS.ReceiveMessage", times: 1)
            // (The timeout is long enough that the client's retry of the receive comes back
            // before it ends, however loaded the machine: 10 s was once too short with the whole
            // suite on 2 cores.)
            let lost = try await queue.lease(max: 1, visibility: .seconds(30), wait: .zero)
            #expect(lost.isEmpty)
            var lease: LeasedJob?
            for _ in 0..<60 where lease == nil { lease = try await queue.lease(max: 1, visibility: .seconds(1), wait: .seconds(2)).first }
            let first = try #require(lease)
            #expect(first.job.id == "a")

            // Completing fails for good: the worker hears of it, and the job comes back.
            proxy.inject(.internalError, on: "AmazonSQS.ChangeMessageVisibility", times: .max)
            await expectError(.serviceUnavailable) { try await queue.complete(first) }
            proxy.clear()
            var back: LeasedJob?
            for _ in 0..<10 where back == nil { back = try await queue.lease(max: 1, visibility: .seconds(30), wait: .seconds(2)).first }
            let second = try #require(back)
            #expect(second.job.id == "a" && second.attempt > first.attempt)

            // A delete whose request breaks off is sent again: the job is gone once.
            proxy.inject(.dropRequestBody, on: "AmazonSQS.DeleteMessage", times: 1)
            try await queue.complete(second)
            #expect(proxy.seen("AmazonSQS.DeleteMessage").map(\.forwarded) == [false, true])
            #expect(try await queue.lease(max: 10, visibility: .seconds(30), wait: .seconds(1)).isEmpty)
        }
    }
}
