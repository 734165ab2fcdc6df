// The platform on the scale-out backends: DynamoDB, S3 and SQS in place of SQLite, files and the
// embedded queue. Point it at AWS with the usual variables (AWS_REGION, AWS_PROFILE, …) or at a
// local emulator with AWS_ENDPOINT_URL=http://127.0.0.1:4566; it registers a user, creates a
// video, lists it back and stops.
import Foundation
import Logging
import SingleTableStore
import VideoCore
import VideoPlatform
import VideoStackAWS

/// The backends from the environment, as the guide and the DocC article show them.
func openBackends(logger: Logger) async throws -> PlatformBackends {
    let aws = try AWSConfiguration.load()                  // the SDKs' variables and ~/.aws files
    let client = AWSClient(configuration: aws, logger: logger)
    let blobs = try await S3BlobStore(client: client, configuration: .init(bucket: "my-media", createsBucket: true))
    let items = try await DynamoDBItemStore(client: client, tableName: "videostack", schema: .singleTable,
                                            configuration: .init(createsTable: true))
    let jobs = try await SQSJobQueue(client: client, name: "videostack-jobs", logger: logger)
    return PlatformBackends(store: items, blobs: blobs, queue: jobs)
}

/// The same backends chosen by one value, as the example server's flags choose them.
func openSelectedBackends(configuration: PlatformConfiguration, logger: Logger) async throws -> PlatformBackends {
    let selection = try BackendSelection(store: "dynamodb", blobs: "s3", queue: "sqs", bucket: "my-media")
    let backends = try await PlatformBackends.open(selection, configuration: configuration, logger: logger)
    return backends
}

// The steps run in a function: Swift 6.3's optimizer crashes on top-level async code in release builds.
func runScaleOut() async throws {
    let logger = Logger(label: "videostack.scale-out")
    let backends = try await openBackends(logger: logger)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("videostack-scale-out-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let platform = try await Platform(configuration: PlatformConfiguration(dataDirectory: directory), backends: backends, logger: logger)
    let owner = "ada\(Int.random(in: 1000...9999))"
    try await platform.catalog.register(User(username: owner, email: "\(owner)@example.com"))
    let video = Video(owner: owner, title: "Analytical engines, explained")
    try await platform.catalog.create(video)
    let (videos, _) = try await platform.catalog.videos(of: owner, limit: 20)
    print("\(owner) has \(videos.count) video(s) in DynamoDB table 'videostack'")
}

try await runScaleOut()
