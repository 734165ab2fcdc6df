import Foundation
import Logging
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite("Workers under SIGKILL") struct WorkerCrashTests {
    let logger = Logger(label: "test.worker-crash", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Every key a published video's playlists, poster and storyboard refer to, so anything else
    /// under its media prefix is an orphan.
    static func referencedKeys(master: String, in blobs: any BlobStore) async throws -> Set<String> {
        let directory = String(master[...master.lastIndex(of: "/")!])
        var keys: Set<String> = [master, directory + "poster.jpg", directory + "storyboard.vtt"]
        func uris(in text: String) -> [String] {
            text.split(separator: "\n").flatMap { line -> [String] in
                if line.hasPrefix("#") {
                    guard let range = line.range(of: "URI=\"") else { return [] }
                    let rest = line[range.upperBound...]
                    return rest.firstIndex(of: "\"").map { [String(rest[..<$0])] } ?? []
                }
                return line.isEmpty ? [] : [String(line)]
            }
        }
        let storyboard = String(decoding: try await blobs.get(directory + "storyboard.vtt"), as: UTF8.self)
        for line in storyboard.split(separator: "\n") where line.contains("#xywh=") {
            keys.insert(directory + String(line.split(separator: "#")[0]))
        }
        for playlist in uris(in: String(decoding: try await blobs.get(master), as: UTF8.self)) {
            let key = directory + playlist
            keys.insert(key)
            let base = String(key[...key.lastIndex(of: "/")!])
            for item in uris(in: String(decoding: try await blobs.get(key), as: UTF8.self)) { keys.insert(base + item) }
        }
        return keys
    }

    @Test func aWorkerKilledMidTranscodeIsReplacedAndTheVideoPublishesOnceWithNoOrphanedMedia() async throws {
        let worker = try ChildProcess.executable("PlatformWorker")
        try await withTemporaryDirectory(prefix: "worker-crash") { directory in
            let data = directory.appendingPathComponent("data")
            // This process takes the upload (API role); only the child processes run jobs.
            var configuration = PlatformConfiguration(dataDirectory: data, roles: .api)
            configuration.accounts.passwordHashing = PasswordHashingConfiguration(memoryKiB: 1024, iterations: 1, threads: 1)
            let platform = try await Platform(configuration: configuration, logger: logger)
            defer { platform.close() }
            try await platform.accounts.signUp(username: "ada", email: "ada@example.com", password: "Vq8-zr-Lumen-42x", displayName: "Ada")
            let clip = try PublishMedia.clip(seconds: 20, size: "640x360", in: directory)
            let id = try await PublishTests.send(try [UInt8](Data(contentsOf: clip)), to: platform, owner: "ada", metadata: ["filename": "long.mp4"])
            #expect(try await platform.catalog.video(id)?.status == .processing)

            // The first worker dies mid-transcode: as soon as the first segments are stored.
            let first = try await ChildProcess.run(worker, arguments: [data.path, id.description], killAfter: 1, linesStarting: "PLAYABLE")
            #expect(first.reason == .uncaughtSignal && !first.lines.contains { $0.hasPrefix("DONE") },
                    "the first worker was to be killed mid-transcode: \(first.lines)")
            let partial = try await platform.blobs.listAll(prefix: "videos/\(id)/")
            #expect(!partial.isEmpty, "the first worker had stored segments before it died")
            #expect(try await platform.catalog.video(id)?.status == .processing)

            // A second worker takes the job once the dead one's lease runs out, and finishes it.
            let second = try await ChildProcess.run(worker, arguments: [data.path, id.description])
            #expect(second.lines.last == "DONE ready", "\(second.lines.suffix(3))")
            let video = try #require(try await platform.catalog.video(id))
            #expect(video.status == .ready)

            // Exactly once: the queue is empty, nothing was dead-lettered, and the ready write was
            // the video's only move to ready (a second one would be refused as a conflict).
            #expect(try await (platform.queue as? StoreJobQueue)?.depth() == 0)
            #expect(try await platform.queue.deadLetters(limit: 10, after: nil).letters.isEmpty)
            await #expect(throws: VideoStackError.self) {
                try await platform.catalog.transition(id, to: .ready, from: .processing)
            }

            // No orphans: every object under the video's media prefix is referenced.
            let media = try #require(video.media)
            let stored = Set(try await platform.blobs.listAll(prefix: "videos/\(id)/").map(\.key))
            let referenced = try await Self.referencedKeys(master: media.playlist, in: platform.blobs)
            #expect(stored == referenced, "orphans: \(stored.subtracting(referenced).sorted()); missing: \(referenced.subtracting(stored).sorted())")
        }
    }
}
