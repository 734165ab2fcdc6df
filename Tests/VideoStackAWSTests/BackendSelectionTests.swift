import Foundation
import Logging
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform
import VideoStackAWS

/// One configuration value picks every backend: the example server's flags parse into it, and
/// it opens embedded backends in the data directory or AWS ones from the standard environment,
/// creating the table, bucket and queues when they are missing.
@Suite("BackendSelection")
struct BackendSelectionTests {
    let logger = Logger(label: "test")

    @Test func theServersFlagsParseIntoOneSelection() throws {
        #expect(try BackendSelection() == .embedded)
        #expect(try BackendSelection(store: "dynamodb", blobs: "s3", queue: "sqs", table: "t-1", bucket: "media-1", queueName: "jobs_1")
            == BackendSelection(store: .dynamodb(table: "t-1"), blobs: .s3(bucket: "media-1"), queue: .sqs(queueName: "jobs_1")))
        #expect(try BackendSelection(store: "dynamodb", queue: "sqs")
            == BackendSelection(store: .dynamodb(table: "videostack"), queue: .sqs(queueName: "videostack-jobs")))
        // Mixed: the queue in a DynamoDB store, media on S3.
        let mixed = try BackendSelection(store: "DynamoDB", blobs: "s3", bucket: "media")
        #expect(mixed.queue == .store && !BackendSelection.embedded.usesAWS && mixed.usesAWS)
        #expect(mixed.description == "--store dynamodb --table videostack --blobs s3 --bucket media --queue store")

        let wrong: [(() throws -> BackendSelection, String)] = [
            ({ try BackendSelection(store: "postgres") }, "'sqlite' or 'dynamodb'"),
            ({ try BackendSelection(blobs: "gcs") }, "'files' or 's3'"),
            ({ try BackendSelection(queue: "kafka") }, "'store' or 'sqs'"),
            ({ try BackendSelection(blobs: "s3") }, "needs --bucket"),
            ({ try BackendSelection(table: "t") }, "--store is sqlite"),
            ({ try BackendSelection(bucket: "b") }, "--blobs is files"),
            ({ try BackendSelection(queueName: "q") }, "--queue is store"),
            ({ try BackendSelection(store: "dynamodb", table: "x") }, "not a DynamoDB table name"),
            ({ try BackendSelection(blobs: "s3", bucket: "Not_A_Bucket") }, "bucket"),
            ({ try BackendSelection(queue: "sqs", queueName: "has.dot") }, "SQS queue name"),
        ]
        for (make, phrase) in wrong {
            let error = #expect(throws: VideoStackError.self) { try make() }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains(phrase) == true, "\(String(describing: error)) should say \(phrase)")
        }
    }

    @Test func theEmbeddedSelectionOpensTheDataDirectory() async throws {
        let directory = try TemporaryDirectory(prefix: "selection")
        defer { directory.cleanup() }
        let configuration = PlatformConfiguration(dataDirectory: directory.url.appendingPathComponent("data"))
        let backends = try await PlatformBackends.open(.embedded, configuration: configuration, environment: [:], logger: logger)
        #expect(backends.queue == nil)
        #expect(backends.store is SQLiteItemStore && backends.blobs is FileBlobStore)
        _ = try await backends.blobs.put("a.txt", bytes: Array("hi".utf8))
        backends.close()
        #expect(FileManager.default.fileExists(atPath: directory.path("data/videostack.sqlite")))
        #expect(FileManager.default.fileExists(atPath: directory.path("data/media/a.txt")))
    }

    @Test func theScaleOutSelectionCreatesWhatIsMissingFromTheStandardEnvironment() async throws {
        try await Emulator.moto.run { endpoint in
            let directory = try TemporaryDirectory(prefix: "selection")
            defer { directory.cleanup() }
            let environment: [String: String] = [
                "AWS_ENDPOINT_URL": endpoint.absoluteString, "AWS_REGION": Emulator.region, "HOME": directory.url.path,
                "AWS_ACCESS_KEY_ID": Emulator.credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": Emulator.credentials.secretAccessKey,
            ]
            let selection = try BackendSelection(store: "dynamodb", blobs: "s3", queue: "sqs", table: "fleet", bucket: "fleet-media", queueName: "fleet-jobs")
            let configuration = PlatformConfiguration(dataDirectory: directory.url.appendingPathComponent("data"))
            // Twice: the first creates the table, bucket and queues, the second finds them.
            for _ in 0..<2 {
                let backends = try await PlatformBackends.open(selection, configuration: configuration, environment: environment, logger: logger)
                #expect(backends.store is DynamoDBItemStore && backends.blobs is S3BlobStore && backends.queue is SQSJobQueue)
                backends.close()
            }
            // The platform runs on them: a user and a video go to DynamoDB, a job through SQS.
            let backends = try await PlatformBackends.open(selection, configuration: configuration, environment: environment, logger: logger)
            let platform = try await Platform(configuration: configuration, backends: backends, logger: logger)
            try await platform.catalog.register(User(username: "ada", email: "ada@example.com"))
            #expect(try await platform.catalog.user(named: "ada")?.email == "ada@example.com")
            try await backends.queue!.enqueue(Job(id: "j", kind: "k", payload: ""))
            #expect(try await backends.queue!.lease(max: 1, visibility: .seconds(30), wait: .seconds(2)).map(\.job.id) == ["j"])
            _ = try await backends.blobs.put("x/y.bin", bytes: [1, 2, 3])
            #expect(try await backends.blobs.get("x/y.bin") == [1, 2, 3])
            platform.close()
            // Nothing was written to the local data directory's store or media.
            #expect(!FileManager.default.fileExists(atPath: directory.path("data/videostack.sqlite")))
            #expect(!FileManager.default.fileExists(atPath: directory.path("data/media")))

            // No region anywhere: a typed error that says which variable to set.
            var noRegion = environment
            noRegion["AWS_REGION"] = nil
            let error = await #expect(throws: VideoStackError.self) {
                try await PlatformBackends.open(selection, configuration: configuration, environment: noRegion, logger: logger)
            }
            #expect(error?.message.contains("AWS_REGION") == true)
        }
    }
}
