import Foundation

/// What a finished child process left.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs a program to completion with `input` on its standard input, on a thread of its own (so
/// waiting never ties up a thread of Swift's cooperative pool).
func runProcess(_ executable: String, _ arguments: [String], input: Data = Data(), environment: [String: String]? = nil) async throws -> ProcessOutput {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = [executable] + arguments
                if let environment { process.environment = environment }
                let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
                process.standardInput = stdin
                process.standardOutput = stdout
                process.standardError = stderr
                try process.run()
                // Read both pipes while writing, so a chatty child never blocks on a full pipe.
                let group = DispatchGroup()
                nonisolated(unsafe) var out = Data(), err = Data()
                DispatchQueue.global().async(group: group) { out = stdout.fileHandleForReading.readDataToEndOfFile() }
                DispatchQueue.global().async(group: group) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
                stdin.fileHandleForWriting.write(input)
                try stdin.fileHandleForWriting.close()
                group.wait()
                process.waitUntilExit()
                return ProcessOutput(status: process.terminationStatus, stdout: out, stderr: err)
            })
        }.start()
    }
}
