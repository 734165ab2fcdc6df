// A worker process for the platform's crash test: runs a Platform with the worker role on a
// data directory until VIDEO is ready or failed, printing "PROGRESS <fraction>" whenever the
// video's recorded progress grows, "PLAYABLE" once its growing playlist is recorded (the first
// segment of every rung is stored) and "DONE <status>" at the end.
//
// usage: platform-worker DATA-DIRECTORY VIDEO-ID
import Foundation
import Logging
import ServiceLifecycle
import VideoCore
import VideoPlatform

func say(_ line: String) {
    // One unbuffered write per line: a pipe write under PIPE_BUF bytes is atomic.
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// The configuration the crash test shares with this worker: short leases, so a killed
/// worker's job comes back within seconds.
func workerConfiguration(_ directory: URL) -> PlatformConfiguration {
    var configuration = PlatformConfiguration(dataDirectory: directory, roles: .worker)
    configuration.ladder = Ladder(Array(Ladder.standard.renditions.suffix(2)))
    configuration.segmentDuration = .seconds(2)
    configuration.workers = JobWorkerConfiguration(concurrency: 1, visibilityTimeout: .seconds(3), heartbeatInterval: .seconds(1),
                                                   pollWait: .milliseconds(100))
    return configuration
}

func runWorker() async throws {
    let arguments = CommandLine.arguments
    guard arguments.count == 3, let video = VideoID(arguments[2]) else {
        FileHandle.standardError.write(Data("usage: platform-worker DATA-DIRECTORY VIDEO-ID\n".utf8))
        exit(2)
    }
    let logger = Logger(label: "platform-worker", factory: { _ in SwiftLogNoOpLogHandler() })
    let platform = try await Platform(configuration: workerConfiguration(URL(fileURLWithPath: arguments[1])), logger: logger)
    defer { platform.close() }
    let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform], logger: logger))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var reported = 0.0
        var playable = false
        while true {
            guard let current = try await platform.catalog.video(video) else { say("DONE missing"); break }
            if let progress = current.progress, progress > reported {
                reported = progress
                say("PROGRESS \(progress)")
            }
            if !playable, current.status == .processing, current.media != nil {
                playable = true
                say("PLAYABLE")
            }
            if current.status == .ready || current.status == .failed {
                say("DONE \(current.status)")
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
}

try await runWorker()
