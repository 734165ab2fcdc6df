public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs real third-party programs from tests (curl, python3, ffprobe, nginx) as child processes
/// (`ChildProcess` is for the package's own helper executables).
///
/// Waits happen on threads of their own, never on Swift's cooperative pool, so a test that runs
/// a client against an in-process server cannot starve the server of threads.
public final class ToolProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is only started in `init` and then read or signalled, which
    // Foundation's Process allows from any thread; the output files are read once it has ended.

    /// How a finished child exited and what it printed.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        /// `stdout` as UTF-8 text.
        public var output: String { String(decoding: stdout, as: UTF8.self) }
    }

    private let process = Process()
    private let outURL: URL
    private let errURL: URL

    /// Starts `arguments` (the first is looked up on PATH) with stdin closed; output goes to
    /// temporary files, so a chatty child never blocks on a full pipe.
    public init(_ arguments: [String], environment: [String: String]? = nil) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        outURL = base.appendingPathExtension("out")
        errURL = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Runs `arguments` to completion.
    public static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> Result {
        try await ToolProcess(arguments, environment: environment).wait()
    }

    /// Waits for the child to exit and returns what it printed.
    public func wait() async throws -> Result {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread { [process] in
                process.waitUntilExit()
                continuation.resume()
            }
            thread.start()
        }
        return Result(
            status: process.terminationStatus,
            stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        )
    }

    /// How the child ended, or nil while it runs.
    public func exitedResult() -> Result? {
        guard !process.isRunning else { return nil }
        return Result(
            status: process.terminationStatus,
            stdout: (try? Data(contentsOf: outURL)) ?? Data(),
            stderr: String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        )
    }

    /// What the child has written to stdout so far.
    public var stdoutSoFar: String {
        String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
    }

    /// Sends `signal` to the child (SIGKILL to test a crash, SIGINT for Ctrl-C).
    public func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// What the child has written to stderr so far.
    public var stderrSoFar: String {
        String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
    }

    /// Asks the child to stop (SIGTERM) and waits for it.
    @discardableResult
    public func stop() async throws -> Result {
        if process.isRunning { process.terminate() }
        return try await wait()
    }
}
