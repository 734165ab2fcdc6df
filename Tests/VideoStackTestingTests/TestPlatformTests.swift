import Foundation
import TestSupport
import Synchronization
import Testing
import VideoCore
import VideoPlatform
import VideoStackTesting

@Suite struct TestPlatformTests {
    /// One call gives a running platform: an upload goes through the saga to `ready`, with HLS in
    /// the blob store; stopping removes the temporary directory.
    @Test func aWholePlatformInOneCall() async throws {
        let clip = try await TestMedia.clip(seconds: 3, logger: testLogger)
        let directory = try await TestPlatform.withPlatform(logger: testLogger) { test in
            let ada = try await test.signUp(username: "ada")
            let id = try await test.upload(clip, owner: ada.username, title: "Engines", tags: ["history"])
            let video = try await test.waitForVideo(id, toReach: .ready)
            let master = try #require(video.media?.playlist)
            let playlist = String(decoding: try await test.platform.blobs.get(master), as: UTF8.self)
            #expect(playlist.hasPrefix("#EXTM3U"))
            #expect(playlist.contains("360p") || playlist.contains("240p"))
            #expect(FileManager.default.fileExists(atPath: test.dataDirectory.path))
            return test.dataDirectory
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }

    /// A failing upload ends the wait with the reason, not a timeout.
    @Test func waitingForAFailedVideoSaysWhy() async throws {
        try await TestPlatform.withPlatform(logger: testLogger) { test in
            let grace = try await test.signUp(username: "grace")
            let id = try await test.upload(Data("not a video at all".utf8), owner: grace.username, title: "Broken", filename: "broken.mp4")
            let error = await #expect(throws: WaitError.self) { try await test.waitForVideo(id, toReach: .ready) }
            #expect(error?.last.hasPrefix("it failed") == true)
            #expect(try await test.waitForVideo(id, toReach: .failed).failureReason != nil)
        }
    }

    /// A caller's directory is kept, so a second platform on it sees the first one's data.
    @Test func aGivenDirectoryOutlivesThePlatform() async throws {
        try await withTemporaryDirectory(prefix: "testplatform") { directory in
            try await TestPlatform.withPlatform(dataDirectory: directory, logger: testLogger) { test in
                _ = try await test.signUp(username: "ada")
            }
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("videostack.sqlite").path))
            try await TestPlatform.withPlatform(dataDirectory: directory, logger: testLogger) { test in
                #expect(try await test.platform.catalog.user(named: "ada") != nil)
                // Stopping twice is harmless.
                try await test.stop()
            }
        }
    }

    /// A configuration the platform refuses fails the start and leaves no directory behind.
    @Test func aRefusedConfigurationLeavesNothingBehind() async throws {
        // The directory this start made (other tests make theirs at the same time, so the
        // temporary folder as a whole is no measure).
        let made = Mutex<URL?>(nil)
        await #expect(throws: (any Error).self) {
            _ = try await TestPlatform.start(configure: { configuration in
                made.withLock { $0 = configuration.dataDirectory }
                configuration.playback.mediaPathPrefix = "not-absolute"
            }, logger: testLogger)
        }
        let directory = try #require(made.withLock { $0 })
        #expect(directory.lastPathComponent.hasPrefix("videostack-testing-"))
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}
