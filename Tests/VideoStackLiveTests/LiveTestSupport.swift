import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
import VideoCore
import VideoPlatform
import VideoStackHTTP
@testable import VideoStackLive
#if canImport(Glibc)
import Glibc
#endif

extension LogRecorder {
    /// Records at `.notice` and above whose message or `reason` metadata contains `text`.
    func reasons(containing text: String) -> [String] {
        records.filter { $0.level >= .notice }.compactMap { record in
            let reason = record.metadata["reason"].map { "\($0)" } ?? ""
            return (record.message + " " + reason).contains(text) ? reason : nil
        }
    }

    var logger: Logger { logger(label: "live-test", level: .info) }
}

/// A platform with live streaming and media delivery over HTTP, in a temporary directory.
struct LiveFixture: Sendable {
    let directory: URL
    let platform: Platform
    let live: LiveStreaming
    let logs: LogRecorder
    let rtmpPort: Int
    let httpPort: Int

    static func platformConfiguration(_ directory: URL) -> PlatformConfiguration {
        var configuration = PlatformConfiguration(dataDirectory: directory.appendingPathComponent("data"))
        configuration.ladder = Ladder(Array(Ladder.standard.renditions.suffix(1)))
        configuration.segmentDuration = .seconds(2)
        configuration.workers = JobWorkerConfiguration(concurrency: 1, visibilityTimeout: .seconds(120), heartbeatInterval: .seconds(5), pollWait: .milliseconds(100))
        configuration.retries = RetryPolicy(initialDelay: .milliseconds(10), maxDelay: .milliseconds(50), maxAttempts: 2)
        configuration.accounts.passwordHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 1)
        return configuration
    }

    /// Runs `body` with the platform, the live service and a media server running; stops them after.
    static func with<T: Sendable>(prefix: String, configure: (inout LiveConfiguration) -> Void = { _ in },
                                  _ body: @Sendable (LiveFixture) async throws -> T) async throws -> T {
        let temporary = try TemporaryDirectory(prefix: prefix)
        defer { temporary.cleanup() }
        let logs = LogRecorder()
        let platform = try await Platform(configuration: platformConfiguration(temporary.url), logger: logs.logger)
        defer { platform.close() }
        var configuration = LiveConfiguration(rtmp: RTMPServerConfiguration(port: 0, stallTimeout: .seconds(3)), segmentDuration: .seconds(2), window: 4,
                                              dvrWindow: .seconds(120), scratchDirectory: temporary.url.appendingPathComponent("scratch"),
                                              viewerUpdateInterval: .milliseconds(500))
        configure(&configuration)
        let live = try LiveStreaming(platform: platform, configuration: configuration, logger: logs.logger)
        let router = Router(context: VideoStackRequestContext.self)
        MediaDelivery(blobs: platform.blobs).addRoutes(to: router.group("media"))
        VideoStackAPI(platform: platform, live: live, logger: Logger(label: "api", factory: { _ in SwiftLogNoOpLogHandler() })).addRoutes(to: router)
        let ports = AsyncStream.makeStream(of: Int.self)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                              onServerRunning: { channel in ports.continuation.yield(channel.localAddress?.port ?? 0) },
                              logger: Logger(label: "media", factory: { _ in SwiftLogNoOpLogHandler() }))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [platform, live, app], logger: logs.logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            var iterator = ports.stream.makeAsyncIterator()
            let httpPort = await iterator.next() ?? 0
            let rtmpPort = try await live.listeningPort()
            try await platform.accounts.signUp(username: "ada", email: "ada@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Ada")
            try await platform.accounts.signUp(username: "bob", email: "bob@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Bob")
            let fixture = LiveFixture(directory: temporary.url, platform: platform, live: live, logs: logs, rtmpPort: rtmpPort, httpPort: httpPort)
            do {
                let result = try await body(fixture)
                await group.triggerGracefulShutdown()
                for try await _ in tasks {}
                return result
            } catch {
                await group.triggerGracefulShutdown()
                for try await _ in tasks {}
                throw error
            }
        }
    }

    func publishURL(_ credentials: LiveStreamCredentials) -> String {
        "rtmp://127.0.0.1:\(rtmpPort)/live/\(credentials.streamKey)"
    }

    func mediaURL(_ key: String) -> String { "http://127.0.0.1:\(httpPort)/media/\(key)" }

    /// Waits (polling the catalog, no deadline of its own: the test's time limit bounds it) until `video` is in `status`.
    func waitFor(_ video: VideoID, status: VideoStatus, while publisher: ToolProcess? = nil) async throws -> Video {
        while true {
            if let current = try await platform.catalog.video(video), current.status == status { return current }
            if let current = try await platform.catalog.video(video), current.status == .failed {
                throw VideoStackError(.internal, "video \(video) failed: \(current.failureReason ?? "")")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until `condition` holds for the stream's status.
    func waitForStream(_ video: VideoID, _ condition: @Sendable (LiveStreamStatus?) -> Bool) async throws {
        while true {
            if condition(await live.status(of: video)) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// FFmpeg publishing a generated picture and tone in real time.
enum Publisher {
    static func start(_ url: String, seconds: Int, size: String = "640x360", videoCodec: [String] = ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "60"],
                      audio: Bool = true) throws -> ToolProcess {
        var arguments = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re",
                         "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=30:duration=\(seconds)"]
        if audio { arguments += ["-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=\(seconds)"] }
        arguments += videoCodec + ["-pix_fmt", "yuv420p"]
        if audio { arguments += ["-c:a", "aac", "-b:a", "96k"] }
        arguments += ["-f", "flv", url]
        return try ToolProcess(arguments)
    }
}

func killProcess(_ tool: ToolProcess) {
    kill(tool.pid, SIGKILL)
}

/// A raw TCP client for hostile publishers: sends bytes, then reads until the server closes.
/// Runs on a thread of its own; every read has a 30-second timeout so a test cannot hang on it.
enum RawClient {
    struct Outcome: Sendable {
        /// The server closed the connection (end of file or reset) rather than the read timing out.
        var closedByServer: Bool
        var received: Int
    }

    /// Connects to 127.0.0.1:`port`, optionally does the RTMP handshake, sends `payload`, then
    /// waits for the server to close the connection.
    static func send(port: Int, handshake: Bool, payload: [UInt8]) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try run(port: port, handshake: handshake, payload: payload) })
            }.start()
        }
    }

    private static func run(port: Int, handshake: Bool, payload: [UInt8]) throws -> Outcome {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw VideoStackError(.io, "socket() failed: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw VideoStackError(.io, "connect() failed: errno \(errno)") }
        var received = 0
        func write(_ bytes: [UInt8]) {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return }
                offset += sent
            }
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        if handshake {
            write([3] + [UInt8](repeating: 1, count: 1536))
            while received < 3073 {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count <= 0 { return Outcome(closedByServer: count == 0 || errno == ECONNRESET, received: received) }
                received += count
            }
            write([UInt8](repeating: 2, count: 1536))
        }
        write(payload)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 || (count < 0 && errno == ECONNRESET) { return Outcome(closedByServer: true, received: received) }
            if count < 0 { return Outcome(closedByServer: false, received: received) }
            received += count
        }
    }
}
