import Foundation
import SingleTableStore
import Synchronization
import Testing
import TestSupport
import VideoCore
import VideoPlatform

/// Cheap Argon2id settings for tests that hash many passwords: still real Argon2id through
/// libargon2, with 1 MiB instead of 19.
let quickHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 2)

/// A real SQLite store in a temporary directory with accounts, share links and playback over it.
struct PlatformFixture {
    let directory: URL
    let store: SQLiteItemStore
    let catalog: Catalog
    let clock: ManualClock

    func accounts(_ configuration: AccountsConfiguration = AccountsConfiguration(passwordHashing: quickHashing),
                  hasher: (any PasswordHasher)? = nil) throws -> Accounts {
        try Accounts(catalog: catalog, configuration: configuration, dataDirectory: directory, hasher: hasher, now: clock.source)
    }

    static func with<T>(_ body: (PlatformFixture) async throws -> T) async throws -> T {
        try await withTemporaryDirectory(prefix: "accounts") { directory in
            let store = try await SQLiteItemStore(url: directory.appendingPathComponent("platform.sqlite"), schema: .singleTable)
            defer { store.close() }
            return try await body(PlatformFixture(directory: directory, store: store, catalog: try Catalog(store: store), clock: ManualClock()))
        }
    }
}

/// The error `body` throws, or nil when it returns.
func thrownError<T>(_ body: () async throws -> T) async -> VideoStackError? {
    do { _ = try await body(); return nil } catch let error as VideoStackError { return error } catch {
        Issue.record("not a VideoStackError: \(error)")
        return nil
    }
}

/// Runs a Python script (from stdin) with arguments; returns its standard output, and records
/// an issue with its standard error when it fails.
func python(_ script: String, _ arguments: [String] = []) async throws -> String {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", "-c", script] + arguments
                let out = Pipe(), err = Pipe()
                process.standardOutput = out
                process.standardError = err
                try process.run()
                // Outputs here are small: reading one pipe to the end cannot block the other.
                let output = out.fileHandleForReading.readDataToEndOfFile()
                let error = err.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else {
                    throw VideoStackError(.internal, "python3 failed: \(String(decoding: error, as: UTF8.self))")
                }
                return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            })
        }.start()
    }
}
