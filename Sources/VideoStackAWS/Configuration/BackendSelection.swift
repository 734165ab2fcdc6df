public import AsyncHTTPClient
public import Foundation
public import Logging
public import VideoPlatform
internal import SingleTableStore
internal import VideoCore

/// Which backend each of the platform's services runs on: embedded (one machine) or scale-out
/// (AWS or any endpoint that speaks its APIs), chosen service by service.
///
/// One value of this type is the whole choice a deployment makes; ``PlatformBackends/open(_:configuration:environment:httpClient:logger:)``
/// turns it into backends, reading the endpoint, region and credentials from the standard AWS
/// environment (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, … as
/// ``AWSConfiguration/load(environment:)`` reads them) and creating the table, bucket and queue
/// when they are missing. The example server's flags map onto it one to one
/// (``init(store:blobs:queue:table:bucket:queueName:)``).
public struct BackendSelection: Sendable, Hashable, CustomStringConvertible {
    /// Where items live.
    public enum Store: Sendable, Hashable {
        /// The embedded SQLite store in the data directory.
        case sqlite
        /// A DynamoDB table (created with the platform's single-table schema when missing).
        case dynamodb(table: String)
    }

    /// Where media lives.
    public enum Blobs: Sendable, Hashable {
        /// Files under the data directory's media directory.
        case files
        /// An S3 bucket (created in the configured region when missing).
        case s3(bucket: String)
    }

    /// Where jobs wait.
    public enum Queue: Sendable, Hashable {
        /// In the item store (``StoreJobQueue``), whichever store that is.
        case store
        /// An SQS queue and its dead-letter queue `<name>-dead` (created when missing).
        case sqs(queueName: String)
    }

    /// The item store.
    public var store: Store
    /// The blob store.
    public var blobs: Blobs
    /// The job queue.
    public var queue: Queue

    /// A selection; the defaults are the embedded backends.
    public init(store: Store = .sqlite, blobs: Blobs = .files, queue: Queue = .store) {
        self.store = store
        self.blobs = blobs
        self.queue = queue
    }

    /// Everything on one machine: SQLite, files, the queue in the store.
    public static let embedded = BackendSelection()

    /// The table name used when `--store dynamodb` comes without `--table`.
    public static let defaultTable = "videostack"
    /// The queue name used when `--queue sqs` comes without `--queue-name`.
    public static let defaultQueueName = "videostack-jobs"

    /// Reads the example server's flags: `--store sqlite|dynamodb`, `--blobs files|s3`,
    /// `--queue store|sqs`, with `--table`, `--bucket` and `--queue-name` naming the AWS
    /// resources.
    ///
    /// A table and a queue name default to ``defaultTable`` and ``defaultQueueName``; a bucket has
    /// no default (S3 bucket names are global, so a made-up default could name someone else's).
    ///
    /// - Throws: `invalidInput` for an unknown choice, `--blobs s3` without `--bucket`, an invalid
    ///   name, or a name given for a service that does not use it (`--table` with `--store sqlite`:
    ///   most likely a mistake in the deployment's flags).
    public init(store: String = "sqlite", blobs: String = "files", queue: String = "store",
                table: String? = nil, bucket: String? = nil, queueName: String? = nil) throws {
        switch store.lowercased() {
        case "sqlite":
            guard table == nil else { throw VideoStackError(.invalidInput, "--table names a DynamoDB table, but --store is sqlite; add --store dynamodb or drop --table.") }
            self.store = .sqlite
        case "dynamodb":
            let name = table ?? Self.defaultTable
            try DynamoDBItemStore.validate(tableName: name)
            self.store = .dynamodb(table: name)
        default:
            throw VideoStackError(.invalidInput, "--store is 'sqlite' or 'dynamodb'; got '\(store.prefix(40))'.")
        }
        switch blobs.lowercased() {
        case "files":
            guard bucket == nil else { throw VideoStackError(.invalidInput, "--bucket names an S3 bucket, but --blobs is files; add --blobs s3 or drop --bucket.") }
            self.blobs = .files
        case "s3":
            guard let bucket, !bucket.isEmpty else {
                throw VideoStackError(.invalidInput, "--blobs s3 needs --bucket NAME (S3 bucket names are global, so there is no default).")
            }
            try S3BlobStore.validate(bucket: bucket)
            self.blobs = .s3(bucket: bucket)
        default:
            throw VideoStackError(.invalidInput, "--blobs is 'files' or 's3'; got '\(blobs.prefix(40))'.")
        }
        switch queue.lowercased() {
        case "store":
            guard queueName == nil else { throw VideoStackError(.invalidInput, "--queue-name names an SQS queue, but --queue is store; add --queue sqs or drop --queue-name.") }
            self.queue = .store
        case "sqs":
            let name = queueName ?? Self.defaultQueueName
            try SQSJobQueue.validate(queueName: name)
            self.queue = .sqs(queueName: name)
        default:
            throw VideoStackError(.invalidInput, "--queue is 'store' or 'sqs'; got '\(queue.prefix(40))'.")
        }
    }

    /// Whether any service runs on AWS (so the AWS environment must be configured).
    public var usesAWS: Bool {
        if case .dynamodb = store { return true }
        if case .s3 = blobs { return true }
        if case .sqs = queue { return true }
        return false
    }

    /// The flags that select this, as the example server takes them.
    public var description: String {
        var flags: [String] = []
        switch store {
        case .sqlite: flags.append("--store sqlite")
        case .dynamodb(let table): flags.append("--store dynamodb --table \(table)")
        }
        switch blobs {
        case .files: flags.append("--blobs files")
        case .s3(let bucket): flags.append("--blobs s3 --bucket \(bucket)")
        }
        switch queue {
        case .store: flags.append("--queue store")
        case .sqs(let name): flags.append("--queue sqs --queue-name \(name)")
        }
        return flags.joined(separator: " ")
    }
}

extension PlatformBackends {
    /// The backends `selection` names: embedded ones under `configuration`'s data directory
    /// (the SQLite file, the media directory), AWS ones through one ``AWSClient`` configured
    /// from `environment`, with the table, bucket and queues created when missing.
    ///
    /// ```swift
    /// let selection = try BackendSelection(store: "dynamodb", blobs: "s3", queue: "sqs", bucket: "my-media")
    /// let backends = try await PlatformBackends.open(selection, configuration: configuration, logger: logger)
    /// let platform = try await Platform(configuration: configuration, backends: backends, logger: logger)
    /// ```
    ///
    /// - Parameters:
    ///   - environment: where the AWS settings come from (the process's by default); read only
    ///     when a service runs on AWS.
    ///   - httpClient: the client AWS requests go through (the shared one by default).
    ///   - retryStrategy: how failed AWS requests are retried.
    /// - Throws: what ``AWSConfiguration/load(environment:)`` throws for a missing region or a bad
    ///   endpoint; `serviceUnavailable`, `forbidden` and the like when a service cannot be reached
    ///   or refuses the credentials (nothing opened so far is left open).
    public static func open(_ selection: BackendSelection, configuration: PlatformConfiguration,
                            environment: [String: String] = ProcessInfo.processInfo.environment,
                            httpClient: HTTPClient = .shared, retryStrategy: AWSRetryStrategy = AWSRetryStrategy(),
                            logger: Logger) async throws -> PlatformBackends {
        let client: AWSClient? = selection.usesAWS
            ? AWSClient(configuration: try AWSConfiguration.load(environment: environment), httpClient: httpClient,
                        retryStrategy: retryStrategy, logger: logger)
            : nil
        var closers: [@Sendable () -> Void] = []
        func closeAll() { for close in closers.reversed() { close() } }
        do {
            let store: any ItemStore
            switch selection.store {
            case .sqlite:
                try createDirectory(configuration.dataDirectory)
                let sqlite = try await SQLiteItemStore(url: configuration.databaseURL, schema: .singleTable, logger: logger)
                closers.append { sqlite.close() }
                store = sqlite
            case .dynamodb(let table):
                store = try await DynamoDBItemStore(client: client!, tableName: table, schema: .singleTable,
                                                    configuration: DynamoDBStoreConfiguration(createsTable: true))
            }
            let blobs: any BlobStore
            switch selection.blobs {
            case .files:
                try createDirectory(configuration.mediaDirectory)
                blobs = try FileBlobStore(root: configuration.mediaDirectory, logger: logger)
            case .s3(let bucket):
                blobs = try await S3BlobStore(client: client!, configuration: S3BlobStoreConfiguration(bucket: bucket, createsBucket: true))
            }
            let queue: (any JobQueue)?
            switch selection.queue {
            case .store:
                queue = nil
            case .sqs(let name):
                queue = try await SQSJobQueue(client: client!, name: name, retryPolicy: configuration.retries, logger: logger)
            }
            let close = closers
            logger.info("backends opened", metadata: ["selection": "\(selection)"])
            return PlatformBackends(store: store, blobs: blobs, queue: queue, close: { for close in close.reversed() { close() } })
        } catch {
            closeAll()
            throw error
        }
    }

    private static func createDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw VideoStackError(.io, "Could not create the directory \(url.path): \(error.localizedDescription). Check that the parent exists and is writable.", cause: error)
        }
    }
}
