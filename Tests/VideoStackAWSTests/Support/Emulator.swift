import Foundation
import Logging
import TestSupport
import VideoCore
import VideoStackAWS
#if canImport(Glibc)
import Glibc
#endif

/// A local AWS implementation the tests start on 127.0.0.1 (a free port of its own) and stop at
/// the end: moto (`moto_server`) or ministack, each an independent reimplementation.
enum Emulator: String, CaseIterable, Sendable, CustomStringConvertible {
    case moto
    case ministack

    var description: String { rawValue }

    static let credentials = AWSCredentials(accessKeyID: "AKIAVIDEOSTACKTEST", secretAccessKey: "local/emulator+secret")
    static let region = "eu-west-1"

    /// Starts the emulator, runs `body` with its endpoint, and stops it, whatever `body` did.
    func run<T>(_ body: (URL) async throws -> T) async throws -> T {
        let server = try await EmulatorProcess.start(self)
        do {
            let result = try await body(server.endpoint)
            try await server.stop()
            return result
        } catch {
            try? await server.stop()
            throw error
        }
    }

    /// A client of this emulator: fixed test credentials, no retry waits longer than a millisecond.
    static func client(endpoint: URL, retry: AWSRetryStrategy = AWSRetryStrategy(maxAttempts: 4, baseDelay: .milliseconds(1))) -> AWSClient {
        AWSClient(configuration: AWSConfiguration(region: region, credentials: credentials, endpoint: endpoint), retryStrategy: retry,
                  logger: Logger(label: "videostack.aws.test"))
    }
}

/// One running emulator process.
final class EmulatorProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is only started in `start` and stopped in `stop`, which a
    // test calls once, after everything else that uses the server.
    let process: Process
    let endpoint: URL
    let scratch: TemporaryDirectory

    private init(process: Process, endpoint: URL, scratch: TemporaryDirectory) {
        self.process = process
        self.endpoint = endpoint
        self.scratch = scratch
    }

    static func start(_ kind: Emulator) async throws -> EmulatorProcess {
        // A port can be taken between choosing it and the server binding it: try a few.
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try freePort()
            let scratch = try TemporaryDirectory(prefix: "emulator-\(kind)")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            var environment = ProcessInfo.processInfo.environment
            environment["TMPDIR"] = scratch.url.path  // ministack's pid file and logs stay in the scratch directory
            switch kind {
            case .moto:
                process.arguments = ["moto_server", "-H", "127.0.0.1", "-p", String(port)]
            case .ministack:
                process.arguments = ["ministack"]
                environment["GATEWAY_PORT"] = String(port)
                environment["BIND_HOST"] = "127.0.0.1"
                environment["SERVICES"] = "s3,dynamodb,dynamodbstreams,sqs"
                environment["S3_DATA_DIR"] = scratch.path("s3")
                environment["LOG_LEVEL"] = "WARNING"
                // ministack checks the SigV4 signatures of presigned S3 URLs against its root
                // credentials (and AUTH=true turns its IAM checks on).
                environment["AWS_ACCESS_KEY_ID"] = Emulator.credentials.accessKeyID
                environment["AWS_SECRET_ACCESS_KEY"] = Emulator.credentials.secretAccessKey
                environment["AWS_SESSION_TOKEN"] = nil
                environment["AUTH"] = "true"
            }
            process.environment = environment
            let log = FileHandle(forWritingAtPath: scratch.path("server.log")) ?? {
                _ = FileManager.default.createFile(atPath: scratch.path("server.log"), contents: nil)
                return FileHandle(forWritingAtPath: scratch.path("server.log"))!
            }()
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let server = EmulatorProcess(process: process, endpoint: URL(string: "http://127.0.0.1:\(port)")!, scratch: scratch)
            do {
                try await server.waitUntilListening(port: port)
                return server
            } catch {
                lastError = error
                try? await server.stop()
            }
        }
        throw lastError!
    }

    /// Waits until the port accepts connections, or fails as soon as the process exits.
    private func waitUntilListening(port: Int) async throws {
        // Startup takes seconds (Python imports); the deadline only guards against a hung server.
        for _ in 0..<1200 {
            if !process.isRunning {
                let log = (try? String(contentsOfFile: scratch.path("server.log"), encoding: .utf8)) ?? ""
                throw VideoStackError(.io, "The emulator exited with status \(process.terminationStatus) before listening: \(log.suffix(2000))")
            }
            if Self.canConnect(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw VideoStackError(.io, "The emulator did not listen on port \(port) within a minute.")
    }

    /// Stops the server and waits for it to exit, so no process outlives the test.
    func stop() async throws {
        if process.isRunning { process.terminate() }
        let process = self.process
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread {
                // SIGTERM first; a server that ignores it for ten seconds is killed.
                for _ in 0..<200 where process.isRunning { usleep(50_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                continuation.resume()
            }.start()
        }
        scratch.cleanup()
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw VideoStackError(.io, "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw VideoStackError(.io, "bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
