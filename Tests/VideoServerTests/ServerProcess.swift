import Foundation
import Logging
import TestSupport
import Testing
import VideoStackTesting

/// The real `VideoServer` executable running as a child process on a free loopback port.
final class ServerProcess: @unchecked Sendable {
    // @unchecked Sendable: the fields are set once in `start` and read afterwards; ToolProcess is Sendable.
    let process: ToolProcess
    let baseURL: URL
    let dataDirectory: URL

    private init(process: ToolProcess, baseURL: URL, dataDirectory: URL) {
        self.process = process
        self.baseURL = baseURL
        self.dataDirectory = dataDirectory
    }

    static var executable: URL {
        get throws { try ChildProcess.executable("VideoServer") }
    }

    /// Starts the server on `dataDirectory` with port 0 (and RTMP ingest on `rtmpPort`, none by
    /// default) and waits for the line that names the bound port (an event; the limit only keeps
    /// a broken build from hanging the suite).
    static func start(dataDirectory: URL, arguments: [String] = [], environment: [String: String] = [:], rtmpPort: Int = 0) async throws -> ServerProcess {
        let process = try ToolProcess([try executable.path, "--port", "0", "--rtmp-port", String(rtmpPort), "--data-dir", dataDirectory.path, "--log-level", "warning"] + arguments,
                                      environment: environment)
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            let output = process.stdoutSoFar
            if let match = output.firstMatch(of: /VideoServer ready at (http:\/\/127\.0\.0\.1:(\d+)\/)/) {
                return ServerProcess(process: process, baseURL: URL(string: String(match.1))!, dataDirectory: dataDirectory)
            }
            if let result = process.exitedResult() {
                throw ServerFailure("VideoServer exited with \(result.status) before it was ready: \(result.stderr.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try await process.stop()
        throw ServerFailure("VideoServer did not print its URL within 180 s: \(process.stderrSoFar.suffix(3000))")
    }

    /// Stops the server with SIGTERM (as `kill` or a service manager would) and returns how it ended.
    func stop() async throws -> ToolProcess.Result {
        try await process.stop()
    }

    /// Kills the server with SIGKILL: no shutdown code runs, as in a power cut.
    func crash() async throws {
        process.send(SIGKILL)
        _ = try await process.wait()
    }

    /// A client for this server (tokens of its own).
    func client() -> VideoStackClient {
        VideoStackClient(baseURL: baseURL)
    }
}

struct ServerFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Where the Python scripts of these tests are.
enum Scripts {
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts").appendingPathComponent(name).path
    }

    /// Runs a script with python3 and decodes its last line as JSON.
    static func run(_ name: String, _ arguments: [String]) async throws -> (result: ToolProcess.Result, json: [String: Any]) {
        let result = try await ToolProcess.run(["python3", path(name)] + arguments)
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let json = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] ?? [:]
        return (result, json)
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "videostack.server-tests")
    logger.logLevel = .warning
    return logger
}()
