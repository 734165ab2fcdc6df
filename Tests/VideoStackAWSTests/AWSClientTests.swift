import Foundation
import Logging
import NIOHTTP1
import Synchronization
import Testing
import VideoCore
@testable import VideoStackAWS

/// Retries, backoff, the retry budget and error mapping, against a real HTTP server that answers
/// as a throttled or failing AWS service would.
@Suite("AWS client")
struct AWSClientTests {
    final class Delays: Sendable {
        let values = Mutex<[Duration]>([])
        var all: [Duration] { values.withLock { $0 } }
    }

    static func client(_ endpoint: URL, maxAttempts: Int = 5, budget: Int = 500, attemptTimeout: Duration = .seconds(30), delays: Delays) -> AWSClient {
        let strategy = AWSRetryStrategy(maxAttempts: maxAttempts, baseDelay: .milliseconds(100), maxDelay: .seconds(1), budget: budget,
                                        sleep: { delay in delays.values.withLock { $0.append(delay) } }, random: { 0.5 })
        return AWSClient(configuration: AWSConfiguration(region: "eu-west-1", credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret"), endpoint: endpoint),
                         retryStrategy: strategy, attemptTimeout: attemptTimeout, logger: Logger(label: "test"),
                         now: { Date(timeIntervalSince1970: 1_772_356_530) })
    }

    static let slowDown = ScriptedServer.Reply.respond(status: 503, headers: [("Content-Type", "application/xml")],
                                                       body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")
    static let throttled = ScriptedServer.Reply.respond(status: 400, headers: [("Content-Type", "application/x-amz-json-1.0")],
                                                        body: #"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#)
    static let throughput = ScriptedServer.Reply.respond(status: 400, headers: [],
                                                         body: #"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#)
    static let limit = ScriptedServer.Reply.respond(status: 400, headers: [("x-amzn-query-error", "RequestLimitExceeded;Sender")],
                                                    body: #"{"__type":"com.amazonaws.sqs#RequestLimitExceeded","message":"Too many requests"}"#)
    static let ok = ScriptedServer.Reply.respond(status: 200, headers: [("x-amz-request-id", "R1")], body: "{}")

    func withServer<T>(_ replies: [ScriptedServer.Reply], _ body: (ScriptedServer) async throws -> T) async throws -> T {
        try await ScriptedServer.with(replies, body)
    }

    @Test func throttlingAnd5xxAreRetriedWithFullJitterBackoff() async throws {
        try await withServer([Self.slowDown, Self.throttled, Self.throughput, Self.limit, Self.ok]) { server in
            let delays = Delays()
            let client = Self.client(server.endpoint, delays: delays)
            let response = try await client.send(client.request(.dynamoDB, method: "POST"), body: Array("{}".utf8)[...], service: .dynamoDB, operation: "GetItem")
            #expect(response.status == 200)
            // Ceilings 100, 200, 400, 800 ms, each halved by the fixed jitter.
            #expect(delays.all == [.milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(400)])
            #expect(server.received.count == 5)
            // Every attempt is signed afresh.
            #expect(server.received.allSatisfy { $0.headers.contains { $0.0.lowercased() == "authorization" && $0.1.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/20260301/eu-west-1/dynamodb/aws4_request") } })
        }
    }

    @Test func droppedConnectionsAreRetried() async throws {
        try await withServer([.drop, .drop, Self.ok]) { server in
            let delays = Delays()
            let client = Self.client(server.endpoint, delays: delays)
            _ = try await client.send(client.request(.sqs, method: "POST"), body: [1], service: .sqs, operation: "SendMessage")
            #expect(server.received.count == 3 && delays.all.count == 2)
        }
    }

    @Test func retriesStopAtMaxAttemptsWithTheLastAWSError() async throws {
        try await withServer(Array(repeating: Self.slowDown, count: 5)) { server in
            let delays = Delays()
            let client = Self.client(server.endpoint, maxAttempts: 3, delays: delays)
            let error = await #expect(throws: VideoStackError.self) {
                try await client.send(client.request(.s3, method: "GET", path: "/b/k"), service: .s3, operation: "GetObject")
            }
            #expect(error?.code == .serviceUnavailable)
            #expect(error?.message.contains("SlowDown") == true && error?.message.contains("3 attempts") == true)
            #expect((error?.cause as? AWSServiceError)?.code == "SlowDown")
            #expect(server.received.count == 3)
        }
    }

    @Test func theRetryBudgetIsSharedAndRunsOut() async throws {
        try await withServer(Array(repeating: Self.slowDown, count: 10)) { server in
            let delays = Delays()
            // Room for two retries in all (5 tokens each).
            let client = Self.client(server.endpoint, maxAttempts: 5, budget: 10, delays: delays)
            await #expect(throws: VideoStackError.self) { try await client.send(client.request(.s3, method: "GET"), service: .s3, operation: "ListBuckets") }
            #expect(server.received.count == 3)
            await #expect(throws: VideoStackError.self) { try await client.send(client.request(.s3, method: "GET"), service: .s3, operation: "ListBuckets") }
            #expect(server.received.count == 4, "an empty budget allows no retry")
            #expect(client.retryBudgetRemaining == 0)
        }
    }

    @Test func otherErrorsAreNotRetriedAndKeepAWSCodeAndMessage() async throws {
        let validation = ScriptedServer.Reply.respond(status: 400, headers: [("x-amzn-RequestId", "REQ-42")],
                                                      body: #"{"__type":"com.amazon.coral.validate#ValidationException","message":"1 validation error detected: Value '' at 'tableName' failed"}"#)
        let denied = ScriptedServer.Reply.respond(status: 403, headers: [], body: "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>")
        let missing = ScriptedServer.Reply.respond(status: 404, headers: [], body: "")
        let garbage = ScriptedServer.Reply.respond(status: 400, headers: [], body: "\u{1}\u{2} not json <nor xml")
        try await withServer([validation, denied, missing, garbage]) { server in
            let delays = Delays()
            let client = Self.client(server.endpoint, delays: delays)
            func failure(_ service: AWSService) async -> VideoStackError? {
                await #expect(throws: VideoStackError.self) { try await client.send(client.request(service, method: "POST"), service: service, operation: "Op") }
            }
            let first = await failure(.dynamoDB)
            #expect(first?.code == .invalidInput)
            #expect(first?.message.contains("ValidationException") == true && first?.message.contains("tableName") == true)
            #expect((first?.cause as? AWSServiceError)?.requestID == "REQ-42")
            let second = await failure(.s3)
            #expect(second?.code == .forbidden && (second?.cause as? AWSServiceError)?.code == "SignatureDoesNotMatch")
            #expect(await failure(.s3)?.code == .notFound)
            let fourth = await failure(.s3)
            #expect(fourth?.code == .invalidInput && (fourth?.cause as? AWSServiceError)?.code == "HTTP400")
            #expect(delays.all.isEmpty && server.received.count == 4)
        }
    }

    @Test func anUnreachableEndpointFailsClearlyAfterItsRetries() async throws {
        // A port that was just free: nothing listens there.
        let port = try EmulatorProcess.freePort()
        let delays = Delays()
        // async-http-client keeps trying to connect until the attempt's deadline: keep it short.
        let client = Self.client(URL(string: "http://127.0.0.1:\(port)")!, maxAttempts: 3, attemptTimeout: .seconds(1), delays: delays)
        let error = await #expect(throws: VideoStackError.self) { try await client.send(client.request(.sqs, method: "POST"), service: .sqs, operation: "ReceiveMessage") }
        #expect(error?.code == .serviceUnavailable && error?.message.contains("3 attempts") == true)
        #expect(delays.all.count == 2)
    }
}
