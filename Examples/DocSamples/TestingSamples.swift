// The samples of VideoStackTesting.md.
import Foundation
import Logging
import VideoCore
import VideoPlatform
import VideoStackTesting

func testingOverview(logger: Logger) async throws {
    try await TestPlatform.withPlatform(logger: logger) { test in
        let ada = try await test.signUp(username: "ada")
        let clip = try await TestMedia.clip(seconds: 4, width: 320, height: 240, frameRate: 30, logger: logger)
        let id = try await test.upload(clip, owner: ada.username, title: "Engines")
        let video = try await test.waitForVideo(id, toReach: .ready)
        print(video.media?.playlist ?? "")   // videos/<id>/hls/master.m3u8
    }
}
