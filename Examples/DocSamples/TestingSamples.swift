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

func testingServer(logger: Logger) async throws {
    try await TestServer.withServer(logger: logger) { server in
        let client = server.client()
        try await client.signUpAndIn(username: "ada")
        let clip = try await TestMedia.clip(logger: logger)
        let upload = try await client.upload(clip, title: "Engines", tags: ["history"])
        let video = try await client.waitUntilPlayable(upload.videoID)
        print(video.playbackUrl ?? "")   // /media/videos/<id>/hls/master.m3u8
        do {
            _ = try await client.anotherSession().postReview(of: video.id, rating: 5, comment: "Great")
        } catch let error as APIClientError where error.code == .unauthorized {
            print(error.status)          // 401: reviews need a signed-in user
        }
    }
}
