public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Helper executables that tests launch as child processes (crash tests kill them mid-work).
public enum ChildProcess {
    /// What a child printed and how it ended.
    public struct Outcome: Sendable {
        public var reason: Process.TerminationReason
        /// The exit code, or the signal number when `reason` is `.uncaughtSignal`.
        public var status: Int32
        /// Standard output, line by line.
        public var lines: [String]
    }

    /// The executable target `name`, built next to the tests by `swift build --build-tests`.
    public static func executable(_ name: String) throws -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        // swift test may run the tests from a helper; fall back to the package's build folder.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for configuration in ["debug", "release"] {
            let candidate = root.appendingPathComponent(".build/\(configuration)/\(name)")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw MissingExecutable(name: name)
    }

    /// Runs `executable` to its end, or kills it with SIGKILL as soon as it has printed `count`
    /// lines starting with `prefix` (an event, not a timer). Reads on a thread of its own.
    public static func run(_ executable: URL, arguments: [String], killAfter count: Int? = nil, linesStarting prefix: String = "") async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = executable
                    process.arguments = arguments
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = FileHandle.nullDevice
                    try process.run()
                    var text = Data()
                    var seen = 0
                    var killed = false
                    while true {
                        let data = output.fileHandleForReading.availableData
                        if data.isEmpty { break }
                        text.append(data)
                        if let count, !killed {
                            seen = String(decoding: text, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix(prefix) }.count
                            if seen >= count {
                                kill(process.processIdentifier, SIGKILL)
                                killed = true
                            }
                        }
                    }
                    process.waitUntilExit()
                    let lines = String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init)
                    return Outcome(reason: process.terminationReason, status: process.terminationStatus, lines: lines)
                })
            }.start()
        }
    }

    /// Thrown when a helper executable was not built.
    public struct MissingExecutable: Error, CustomStringConvertible {
        public var name: String
        public var description: String { "The test helper '\(name)' was not built; run `swift build --build-tests` first." }
    }
}
