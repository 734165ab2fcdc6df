// One node of the fleet test: a Platform on the backends its flags select (the example server's
// flag names), with the AWS endpoint, region and credentials from the standard environment. It
// runs until it is signalled (SIGTERM ends it at once, as a crash would) and reports on standard output, one line per event:
//   READY                   the platform runs
//   LEASED <job-id>         its workers took a job
//   COMPLETED <job-id>      a job of this node finished
//
// usage: fleet-node --data DIR --role api|worker|all [--store sqlite|dynamodb] [--table NAME]
//                   [--blobs files|s3] [--bucket NAME] [--queue store|sqs] [--queue-name NAME]
import Foundation
import Logging
import ServiceLifecycle
import VideoCore
import VideoPlatform
import VideoStackAWS

func say(_ line: String) {
    // One unbuffered write per line: a pipe write under PIPE_BUF bytes is atomic.
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The queue the platform gets, reporting leases and completions as they happen.
struct ReportingQueue: JobQueue {
    let base: any JobQueue

    func enqueue(_ job: Job) async throws { try await base.enqueue(job) }

    func lease(max: Int, visibility: Duration, wait: Duration) async throws -> [LeasedJob] {
        let leased = try await base.lease(max: max, visibility: visibility, wait: wait)
        for lease in leased { say("LEASED \(lease.job.id)") }
        return leased
    }

    func heartbeat(_ lease: LeasedJob, visibility: Duration) async throws -> LeasedJob { try await base.heartbeat(lease, visibility: visibility) }

    func complete(_ lease: LeasedJob) async throws {
        try await base.complete(lease)
        say("COMPLETED \(lease.job.id)")
    }

    func fail(_ lease: LeasedJob, error: String, permanent: Bool) async throws {
        try await base.fail(lease, error: error, permanent: permanent)
        say("FAILED \(lease.job.id) \(error.prefix(200).replacingOccurrences(of: "\n", with: " "))")
    }

    func release(_ lease: LeasedJob) async throws { try await base.release(lease) }
    func deadLetters(limit: Int, after token: String?) async throws -> (letters: [DeadLetter], next: String?) { try await base.deadLetters(limit: limit, after: token) }
    func redrive(_ id: String) async throws { try await base.redrive(id) }
}

/// The configuration every node of the fleet test shares: a two-rung ladder and short leases,
/// so a killed worker's job comes back within seconds (long enough that heartbeats keep them
/// on a loaded machine).
func fleetConfiguration(_ directory: URL, roles: PlatformConfiguration.Roles) -> PlatformConfiguration {
    var configuration = PlatformConfiguration(dataDirectory: directory, roles: roles)
    configuration.ladder = Ladder(Array(Ladder.standard.renditions.suffix(2)))
    configuration.segmentDuration = .seconds(2)
    configuration.workers = JobWorkerConfiguration(concurrency: 1, visibilityTimeout: .seconds(10), heartbeatInterval: .seconds(2),
                                                   pollWait: .seconds(1))
    return configuration
}

func runNode() async throws {
    var options: [String: String] = [:]
    var arguments = CommandLine.arguments.dropFirst()
    while let flag = arguments.popFirst() {
        guard flag.hasPrefix("--"), let value = arguments.popFirst() else {
            FileHandle.standardError.write(Data("fleet-node: '\(flag)' needs a value\n".utf8))
            exit(2)
        }
        options[String(flag.dropFirst(2))] = value
    }
    guard let data = options["data"] else {
        FileHandle.standardError.write(Data("usage: fleet-node --data DIR --role api|worker|all [--store …] [--blobs …] [--queue …]\n".utf8))
        exit(2)
    }
    let roles: PlatformConfiguration.Roles
    switch options["role"] ?? "all" {
    case "api": roles = .api
    case "worker": roles = .worker
    case "all": roles = .all
    default:
        FileHandle.standardError.write(Data("fleet-node: --role is api, worker or all\n".utf8))
        exit(2)
    }
    var logger = Logger(label: "fleet-node")
    logger.logLevel = .warning
    let selection = try BackendSelection(store: options["store"] ?? "sqlite", blobs: options["blobs"] ?? "files", queue: options["queue"] ?? "store",
                                         table: options["table"], bucket: options["bucket"], queueName: options["queue-name"])
    let configuration = fleetConfiguration(URL(fileURLWithPath: data), roles: roles)
    var backends = try await PlatformBackends.open(selection, configuration: configuration, logger: logger)
    if let queue = backends.queue { backends.queue = ReportingQueue(base: queue) }
    let platform = try await Platform(configuration: configuration, backends: backends, logger: logger)
    defer { platform.close() }
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform], logger: logger))
    say("READY")
    try await group.run()
}

do {
    try await runNode()
} catch {
    FileHandle.standardError.write(Data("fleet-node: \(error)\n".utf8))
    exit(1)
}
