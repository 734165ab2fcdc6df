// VideoServer: the whole VideoStack platform behind one HTTP server, with its web page.
//
//     swift run VideoServer --port 8080 --data-dir ./data      (what `make demo` runs)
//
// Everything is embedded under the data directory: the SQLite store, media files, uploads,
// the search snapshot and keys; the job workers transcode in this process. A second start on the
// same directory keeps everything. Ctrl-C (SIGINT) or SIGTERM stops it cleanly: requests in
// flight finish, running jobs are released for the next start, the search index is saved.
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import VideoCore
import VideoPlatform
import VideoStackLive
import VideoStackAWS

@main
struct VideoServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "VideoServer",
        abstract: "The VideoStack example server: REST API, tus uploads, HLS delivery and the web page.",
        discussion: """
            Each option can also come from an environment variable: VIDEOSTACK_HOST, VIDEOSTACK_PORT, \
            VIDEOSTACK_DATA_DIR, VIDEOSTACK_ROLE, VIDEOSTACK_PUBLIC_DIR (a flag wins over its variable).
            """
    )

    @Option(help: "The address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on (default 8080; 0 picks a free port and prints it).")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Where the data lives (default ./data; created when missing).")
    var dataDir: String?

    @Option(help: "What this process does: all (HTTP and job workers), api (HTTP only) or worker (job workers only, no HTTP).")
    var role: ServerRole?

    @Option(name: .customLong("public-dir"), help: "Serve the web page from this folder instead of the built-in copy.")
    var publicDir: String?

    @Flag(name: .customLong("no-sample"), help: "Do not publish the sample video on a new data directory.")
    var noSample = false

    @Option(help: "The item store: sqlite (embedded) or dynamodb.")
    var store: StoreBackend = .sqlite

    @Option(help: "The media store: files (embedded) or s3.")
    var blobs: BlobBackend = .files

    @Option(help: "The job queue: store (in the item store) or sqs.")
    var queue: QueueBackend = .store

    @Option(help: "The DynamoDB table (with --store dynamodb).")
    var table: String?

    @Option(help: "The S3 bucket (with --blobs s3).")
    var bucket: String?

    @Option(name: .customLong("queue-name"), help: "The SQS queue (with --queue sqs).")
    var queueName: String?

    @Option(name: .customLong("rtmp-port"), help: "The RTMP port live streams are published to (default 1935; 0 turns live streaming off).")
    var rtmpPort: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    func run() async throws {
        let settings = try ServerSettings(self, environment: ProcessInfo.processInfo.environment)
        var logger = Logger(label: "videostack.server")
        let level = logLevel ?? ProcessInfo.processInfo.environment["VIDEOSTACK_LOG_LEVEL"] ?? "info"
        guard let parsed = Logger.Level(rawValue: level) else {
            throw ValidationError("The log level '\(level)' is not one of trace, debug, info, notice, warning, error, critical.")
        }
        logger.logLevel = parsed
        try await VideoServer(settings: settings, logger: logger).run()
    }
}

/// The server's parts, put together from the settings.
struct VideoServer {
    let settings: ServerSettings
    let logger: Logger

    func run() async throws {
        PrometheusMetrics.bootstrap()
        var configuration = PlatformConfiguration(dataDirectory: settings.dataDirectory, roles: settings.role.platformRoles)
        configuration.searchSnapshotInterval = .seconds(60)
        // The standard AWS environment (AWS_ENDPOINT_URL, AWS_REGION, credentials) is read only
        // when a service runs on AWS; the table, bucket and queues are created when missing.
        let backends = try await PlatformBackends.open(settings.backends, configuration: configuration, logger: logger)
        let platform = try await Platform(configuration: configuration, backends: backends, logger: logger)
        defer { platform.close() }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: platform)]
        if settings.role.servesHTTP {
            let page = try PageFiles(directory: PageFiles.locate(override: settings.publicDirectory))
            if settings.seedSample {
                // Ends once the sample is handed to the workers; the rest go on.
                services.append(.init(service: SampleVideo(platform: platform, dataDirectory: settings.dataDirectory, logger: logger),
                                      successTerminationBehavior: .ignore))
            }
            // Live ingest beside the API: publishers connect over RTMP, viewers watch through /media.
            var live: LiveStreaming?
            if settings.rtmpPort != 0 {
                var liveConfiguration = LiveConfiguration()
                liveConfiguration.rtmp.host = settings.host
                liveConfiguration.rtmp.port = settings.rtmpPort
                let service = try LiveStreaming(platform: platform, configuration: liveConfiguration, logger: logger)
                services.append(.init(service: service))
                live = service
            }
            let router = ServerRoutes(platform: platform, live: live, page: page, logger: logger).router()
            let host = settings.host
            let application = Application(
                router: router,
                configuration: ApplicationConfiguration(address: .hostname(host, port: settings.port), serverName: "VideoStack"),
                onServerRunning: { channel in
                    // The one line tests and people wait for: the URL to open, with the bound port.
                    let port = channel.localAddress?.port ?? 0
                    let shown = host.contains(":") ? "[\(host)]" : host
                    print("VideoServer ready at http://\(shown):\(port)/ (data in \(settings.dataDirectory.path))")
                    fflush(nil)
                },
                logger: logger
            )
            services.append(.init(service: application))
        } else {
            // Said from inside the group, once it handles SIGTERM and SIGINT: a signal sent on
            // seeing this line stops the worker cleanly instead of killing it.
            let line = "VideoServer worker running (data in \(settings.dataDirectory.path)); no HTTP in this role"
            services.append(.init(service: Announcement(line: line), successTerminationBehavior: .ignore))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        print("VideoServer stopped")
    }
}

/// Prints one line when its service group starts it, then ends.
struct Announcement: Service {
    let line: String

    func run() async throws {
        print(line)
        fflush(nil)
    }
}
