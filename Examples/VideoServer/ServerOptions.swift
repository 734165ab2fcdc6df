import ArgumentParser
import Foundation
import VideoCore
import VideoPlatform
import VideoStackAWS

/// What this process does: `all` (the default) serves HTTP and runs the job workers; `api` serves
/// HTTP and keeps the search replica; `worker` runs only the job workers, with no HTTP.
enum ServerRole: String, ExpressibleByArgument, CaseIterable, Sendable {
    case api, worker, all

    var platformRoles: PlatformConfiguration.Roles {
        switch self {
        case .api: .api
        case .worker: .worker
        case .all: .all
        }
    }

    var servesHTTP: Bool { self != .worker }
}

/// Where items live: the embedded SQLite file, or DynamoDB.
enum StoreBackend: String, ExpressibleByArgument, CaseIterable, Sendable { case sqlite, dynamodb }
/// Where media lives: local files, or S3.
enum BlobBackend: String, ExpressibleByArgument, CaseIterable, Sendable { case files, s3 }
/// Where jobs wait: in the item store, or SQS.
enum QueueBackend: String, ExpressibleByArgument, CaseIterable, Sendable { case store, sqs }

/// The settings after flags, environment variables and defaults are combined (a flag wins over
/// its variable, which wins over the default).
struct ServerSettings: Sendable, Equatable {
    var host: String
    var port: Int
    var dataDirectory: URL
    var role: ServerRole
    var publicDirectory: URL?
    var seedSample: Bool
    /// The RTMP ingest port; 0 runs no live ingest.
    var rtmpPort: Int
    var store: StoreBackend
    var blobs: BlobBackend
    var queue: QueueBackend
    var table: String?
    var bucket: String?
    var queueName: String?
    /// The backends the flags select (embedded by default; DynamoDB, S3 and SQS by name).
    var backends: BackendSelection

    /// Combines `options` with `environment`; throws a `ValidationError` naming what is wrong.
    init(_ options: VideoServerCommand, environment: [String: String]) throws {
        host = options.host ?? environment["VIDEOSTACK_HOST"] ?? "127.0.0.1"
        guard !host.isEmpty else { throw ValidationError("The host is empty; pass --host 127.0.0.1 or another address to listen on.") }
        if let port = options.port {
            self.port = port
        } else if let text = environment["VIDEOSTACK_PORT"] {
            guard let port = Int(text) else { throw ValidationError("VIDEOSTACK_PORT is '\(text)', not a port number (0 to 65535).") }
            self.port = port
        } else {
            port = 8080
        }
        guard (0...65535).contains(port) else { throw ValidationError("The port \(port) is not from 0 to 65535 (0 picks a free one).") }
        let directory = options.dataDir ?? environment["VIDEOSTACK_DATA_DIR"] ?? "./data"
        guard !directory.isEmpty else { throw ValidationError("The data directory is empty; pass --data-dir ./data or another folder.") }
        dataDirectory = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        role = options.role ?? environment["VIDEOSTACK_ROLE"].flatMap(ServerRole.init(rawValue:)) ?? .all
        if let text = environment["VIDEOSTACK_ROLE"], options.role == nil, ServerRole(rawValue: text) == nil {
            throw ValidationError("VIDEOSTACK_ROLE is '\(text)'; use api, worker or all.")
        }
        publicDirectory = (options.publicDir ?? environment["VIDEOSTACK_PUBLIC_DIR"]).map { URL(fileURLWithPath: $0, isDirectory: true) }
        seedSample = !options.noSample && environment["VIDEOSTACK_NO_SAMPLE"] == nil
        if let rtmpPort = options.rtmpPort {
            self.rtmpPort = rtmpPort
        } else if let text = environment["VIDEOSTACK_RTMP_PORT"] {
            guard let rtmpPort = Int(text) else { throw ValidationError("VIDEOSTACK_RTMP_PORT is '\(text)', not a port number (0 to 65535; 0 turns live streaming off).") }
            self.rtmpPort = rtmpPort
        } else {
            rtmpPort = 1935
        }
        guard (0...65535).contains(rtmpPort) else { throw ValidationError("The RTMP port \(rtmpPort) is not from 0 to 65535 (0 turns live streaming off).") }
        store = options.store
        blobs = options.blobs
        queue = options.queue
        table = options.table
        bucket = options.bucket
        queueName = options.queueName
        // One value picks each service's backend; its checks (a bucket for S3, no --table with
        // SQLite…) run here so a bad combination fails before anything opens.
        do {
            backends = try BackendSelection(store: store.rawValue, blobs: blobs.rawValue, queue: queue.rawValue,
                                            table: table, bucket: bucket, queueName: queueName)
        } catch let error as VideoStackError {
            throw ValidationError(error.message)
        }
    }
}
