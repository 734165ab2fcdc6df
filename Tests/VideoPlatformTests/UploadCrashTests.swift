import Foundation
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

/// Uploads written by a child process (`UploadCrashWriter`) that is killed with SIGKILL.
@Suite("Uploads under SIGKILL")
struct UploadCrashTests: UploadTestCase {
    @Test func aKilledServerResumesAtTheAcknowledgedOffset() async throws {
        let writer = try ChildProcess.executable("UploadCrashWriter")
        try await withTemporaryDirectory(prefix: "upload-crash") { root in
            let database = root.appendingPathComponent("uploads.sqlite").path
            let directory = root.appendingPathComponent("uploads", isDirectory: true)
            let source = randomBytes(6 << 20, seed: 2024)
            let sourceFile = root.appendingPathComponent("source.bin")
            try Data(source).write(to: sourceFile)
            let handler = RecordingCompletionHandler()
            let id = try await withService(database: database, directory: directory, handler: handler) { service in
                try await service.create(owner: "ada", length: Int64(source.count), attachment: "crash").id
            }

            var lastAcknowledged: Int64 = 0
            for round in 0..<3 {
                // Killed once it has acknowledged a few PATCHes: the kill lands wherever the
                // next PATCH is (writing, fsyncing, recording), not after a guessed delay.
                let acks = 3 + round
                let outcome = try await ChildProcess.run(writer, arguments: ["append", database, directory.path, sourceFile.path, id.text, String(256 << 10)],
                                                         killAfter: acks, linesStarting: "ACK ")
                #expect(outcome.reason == .uncaughtSignal && outcome.status == SIGKILL, "the writer was not killed: \(outcome.lines.suffix(3))")
                let acknowledged = outcome.lines.compactMap { $0.hasPrefix("ACK ") ? Int64($0.dropFirst(4)) : nil }
                #expect(acknowledged.count >= acks)
                #expect(acknowledged == acknowledged.sorted() && (acknowledged.first ?? 0) > lastAcknowledged)
                lastAcknowledged = try #require(acknowledged.last)

                // The restarted server: at or past what was acknowledged, and those bytes intact.
                let offset = try await withService(database: database, directory: directory, handler: handler) { service in
                    try await service.status(id).offset
                }
                #expect(offset >= lastAcknowledged && offset < Int64(source.count))
                let staged = try [UInt8](Data(contentsOf: directory.appendingPathComponent("\(id).upload")))
                #expect(staged.count >= Int(offset))
                #expect(digest(staged.prefix(Int(offset))) == digest(source.prefix(Int(offset))), "round \(round): the acknowledged bytes differ")
                lastAcknowledged = offset
            }

            // The rest from this process: the file is the source, byte for byte.
            try await withService(database: database, directory: directory, handler: handler) { service in
                let offset = try await service.status(id).offset
                let info = try await service.append(id, at: offset, body: uploadBody(source[Int(offset)...], pieces: [100_000, 1_000_000]))
                #expect(info.state == .finished)
            }
            #expect(handler.deliveries.count == 1)
            #expect(handler.deliveries.map { digest($0.bytes) } == [digest(source)])
        }
    }

    @Test func aCrashBetweenCompletingAndFinishedHandsTheUploadOverAgain() async throws {
        let writer = try ChildProcess.executable("UploadCrashWriter")
        try await withTemporaryDirectory(prefix: "upload-crash") { root in
            let database = root.appendingPathComponent("uploads.sqlite").path
            let directory = root.appendingPathComponent("uploads", isDirectory: true)
            let source = randomBytes(700_000, seed: 99)
            let sourceFile = root.appendingPathComponent("source.bin")
            try Data(source).write(to: sourceFile)
            let handler = RecordingCompletionHandler()
            let id = try await withService(database: database, directory: directory, handler: handler) { service in
                try await service.create(owner: "ada", length: Int64(source.count), metadata: ["filename": "a.mp4"], attachment: "video-7").id
            }

            // The child's handler is called and the process dies inside it.
            let outcome = try await ChildProcess.run(writer, arguments: ["complete", database, directory.path, sourceFile.path, id.text, String(200_000)])
            #expect(outcome.reason == .uncaughtSignal && outcome.status == SIGKILL)
            #expect(outcome.lines.last == "HANDLING \(id) 1")
            #expect(outcome.lines.filter { $0.hasPrefix("ACK ") }.count == 3)   // the last PATCH never returned

            try await withService(database: database, directory: directory, handler: handler) { service in
                // Every byte is acknowledged and the upload waits for its hand-over.
                let pending = try await service.status(id)
                #expect(pending.state == .completing && pending.offset == Int64(source.count))
                #expect(handler.deliveries.isEmpty)
                #expect(try await service.resumePendingCompletions() == 1)
                #expect(handler.deliveries.count == 1)
                let delivery = try #require(handler.deliveries.first)
                #expect(digest(delivery.bytes) == digest(source))
                #expect(delivery.upload.attachment == "video-7" && delivery.upload.metadata == ["filename": "a.mp4"])
                #expect(try await service.status(id).state == .finished)
                #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("\(id).upload").path))
                // Exactly once from here on.
                #expect(try await service.resumePendingCompletions() == 0)
                _ = try await service.sweepExpired()
                #expect(handler.deliveries.count == 1)
            }
        }
    }

    /// Runs `body` with a service over its own store connection, closed afterwards (as a server
    /// process would have it).
    private func withService<T>(database: String, directory: URL, handler: RecordingCompletionHandler,
                                _ body: (UploadService) async throws -> T) async throws -> T {
        let store = try await SQLiteItemStore(url: URL(fileURLWithPath: database), schema: .singleTable)
        defer { store.close() }
        let service = try UploadService(store: store, directory: directory, completionHandler: handler, logger: UploadFixture.logger)
        return try await body(service)
    }
}
