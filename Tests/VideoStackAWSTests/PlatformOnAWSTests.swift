import Foundation
import Logging
import SearchIndex
import ServiceLifecycle
import SingleTableStore
import Synchronization
import Testing
import TestSupport
import VideoCore
import VideoPlatform
import VideoStackAWS

/// The platform itself on the scale-out backends: the same composition root, with DynamoDB, S3
/// and SQS in place of SQLite, files and the embedded queue (one emulator serves all three).
@Suite("Platform on AWS backends")
struct PlatformOnAWSTests {
    let logger = Logger(label: "test.platform.aws", factory: { _ in SwiftLogNoOpLogHandler() })

    final class Seen: Sendable {
        let ids = Mutex<[String]>([])
        var all: [String] { ids.withLock { $0 } }
    }

    struct Recording: JobHandler {
        let seen: Seen
        func run(_ job: Job, context: JobContext) async throws { seen.ids.withLock { $0.append(job.id) } }
    }

    @Test(arguments: Emulator.allCases)
    func catalogSearchAndBlobsRunOnDynamoDBAndS3(_ emulator: Emulator) async throws {
        try await emulator.run { endpoint in
            let client = Emulator.client(endpoint: endpoint)
            let store = try await DynamoDBItemStore(client: client, tableName: "videostack", schema: .singleTable,
                                                    configuration: DynamoDBStoreConfiguration(createsTable: true))
            let blobs = try await S3BlobStore(client: client, configuration: S3BlobStoreConfiguration(bucket: "videostack-media", addressing: .path, createsBucket: true))
            let queue = try await SQSJobQueue(client: client, name: "videostack-jobs", logger: logger)
            try await withTemporaryDirectory(prefix: "platform-aws") { directory in
                var configuration = PlatformConfiguration(dataDirectory: directory)
                configuration.workers.pollWait = .milliseconds(200)
                let platform = try await Platform(configuration: configuration, backends: PlatformBackends(store: store, blobs: blobs, queue: queue), logger: logger)
                let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform], logger: logger))
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    try await platform.catalog.register(User(username: "ada", email: "ada@example.com"))
                    await #expect(throws: VideoStackError.self) { try await platform.catalog.register(User(username: "ada", email: "other@example.com")) }
                    var video = Video(owner: "ada", title: "Analytical engines explained", visibility: .public)
                    video.status = .ready
                    try await platform.catalog.create(video)
                    let (videos, _) = try await platform.catalog.videos(of: "ada", limit: 10)
                    #expect(videos.map(\.id) == [video.id])
                    // The search replica follows the DynamoDB stream.
                    while try platform.searchIndex.search(SearchQuery("analytical")).hits.isEmpty {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(try platform.searchIndex.search(SearchQuery("analytical")).hits.map(\.id) == [video.id.description])
                    try await platform.blobs.put("videos/\(video.id)/master.m3u8", string: "#EXTM3U\n")
                    #expect(try await blobs.get("videos/\(video.id)/master.m3u8") == Array("#EXTM3U\n".utf8))
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
            }
        }
    }

    @Test(arguments: Emulator.allCases)
    func workersRunEveryJobOnceFromSQS(_ emulator: Emulator) async throws {
        try await emulator.run { endpoint in
            let queue = try await SQSJobQueue(client: Emulator.client(endpoint: endpoint), name: "workers", logger: logger)
            for i in 0..<30 { try await queue.enqueue(Job(id: "w\(i)", kind: "rec", payload: "")) }
            let seen = Seen()
            let workers = JobWorkers(queue: queue, handlers: ["rec": Recording(seen: seen)],
                                     configuration: JobWorkerConfiguration(concurrency: 4, pollWait: .seconds(1)), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await workers.run() }
                while seen.all.count < 30 { try await Task.sleep(for: .milliseconds(20)) }
                group.cancelAll()
            }
            #expect(Set(seen.all).count == 30 && seen.all.count == 30)
            // Completed jobs are gone from SQS.
            #expect(try await queue.lease(max: 10, visibility: .seconds(5), wait: .seconds(1)).isEmpty)
        }
    }
}
