import Foundation
import HTTPTypes
import Testing
import VideoCore
import VideoPlatform
@testable import VideoStackHTTP

/// The calls Examples/VideoServer/Public/app.js and tus.js make, in the order a visitor's
/// session makes them, with the fields the page reads.
@Suite struct PageFlowTests {
    @Test func signUpUploadWatchReviewShareSignOut() async throws {
        let fixture = try await APIFixture.make()
        try await fixture.withServer { api in
            // Sign up, then sign in (the page does both), and keep the tokens and the user.
            let fields = #"{"username":"visitor","email":"visitor@example.com","password":"\#(APIFixture.password)","name":"Visitor"}"#
            #expect(try await api.call(.post, "/api/v1/auth/signup", json: fields, headers: ["Accept": "application/json"]).status == 201)
            let session = try await api.call(.post, "/api/v1/auth/signin", json: #"{"email":"visitor@example.com","password":"\#(APIFixture.password)"}"#)
            let access = try #require(session["accessToken"] as? String)
            let refresh = try #require(session["refreshToken"] as? String)
            #expect((session["user"] as? [String: Any])?["username"] as? String == "visitor")
            // My videos: empty at first.
            let empty = try await api.call(.get, "/api/v1/users/visitor/videos?limit=50", token: access)
            #expect(empty.arrayItems.isEmpty)

            // tus.js: POST with the metadata it sends, then PATCH in chunks.
            let file = Array(repeating: UInt8(9), count: 10_000)
            let metadata = ["filename": "clip.mp4", "filetype": "video/mp4", "title": "My clip", "description": "", "tags": "fun"]
                .map { "\($0.key) \(Data($0.value.utf8).base64EncodedString())" }.joined(separator: ",")
            let created = try await api.call(.post, "/api/v1/uploads", token: access, headers: [
                "Tus-Resumable": "1.0.0", "Upload-Length": String(file.count), "Upload-Metadata": metadata,
            ])
            #expect(created.status == 201)
            let url = try #require(created.header("Location"))
            let videoID = try #require(created.header("Video-Id"))
            var offset = 0
            while offset < file.count {
                let end = min(offset + 4096, file.count)
                let patched = try await api.call(.patch, url, token: access, headers: [
                    "Tus-Resumable": "1.0.0", "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream",
                ], body: Array(file[offset..<end]))
                #expect(patched.status == 204)
                offset = Int(patched.header("Upload-Offset") ?? "") ?? file.count
            }
            // My videos shows it with its status and progress.
            let mine = try await api.call(.get, "/api/v1/users/visitor/videos?limit=50", token: access)
            let row = try #require(mine.arrayItems.first)
            #expect(row["id"] as? String == videoID)
            #expect(row["status"] as? String == "processing")
            #expect(row["progress"] is Double)
            #expect(row["title"] as? String == "My clip")

            // The worker would publish it; here the test finishes the job's last step itself.
            let id = try #require(VideoID(videoID))
            let prefix = "videos/\(id)/"
            try await fixture.platform.catalog.transition(id, to: .ready, from: .processing, duration: .seconds(4),
                                                         media: VideoMedia(playlist: prefix + "hls/master.m3u8", poster: prefix + "poster.jpg"))
            // The watch page: the video, a view, the reviews, a review, a share link.
            let watched = try await api.call(.get, "/api/v1/videos/\(videoID)")
            #expect(watched["playbackUrl"] as? String == "/media/videos/\(videoID)/hls/master.m3u8")
            #expect(watched["storyboardUrl"] is NSNull)
            #expect(try await api.call(.post, "/api/v1/videos/\(videoID)/views", token: access).status == 200)
            #expect(try await api.call(.get, "/api/v1/videos/\(videoID)/reviews?limit=50").arrayItems.isEmpty)
            #expect(try await api.call(.post, "/api/v1/videos/\(videoID)/reviews", token: access, json: #"{"rating":5,"comment":"Great"}"#).status == 201)
            let after = try await api.call(.get, "/api/v1/videos/\(videoID)", token: access)
            #expect((after["rating"] as? [String: Any])?["average"] as? Double == 5)
            let link = try await api.call(.post, "/api/v1/videos/\(videoID)/share", token: access)
            let code = try #require(link["code"] as? String)
            #expect(try await api.call(.get, "/s/\(code)").header("Location") == "/watch/\(videoID)")

            // The home page lists the newest videos with an empty query.
            var home: [[String: Any]] = []
            for _ in 0..<200 {
                home = try await api.call(.get, "/api/v1/search?limit=24&sort=newest&q=").arrayItems
                if !home.isEmpty { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(home.compactMap { ($0["video"] as? [String: Any])?["id"] as? String } == [videoID])

            // An expired or revoked access token: 401, the page refreshes and retries.
            #expect(try await api.call(.get, "/api/v1/me", token: access + "x").status == 401)
            let renewed = try await api.call(.post, "/api/v1/auth/refresh", json: #"{"refreshToken":"\#(refresh)"}"#)
            let newAccess = try #require(renewed["accessToken"] as? String)
            let newRefresh = try #require(renewed["refreshToken"] as? String)
            #expect(try await api.call(.get, "/api/v1/me", token: newAccess).status == 200)
            // Sign out as the page does: the refresh token in the body, with the bearer token.
            #expect(try await api.call(.post, "/api/v1/auth/signout", token: newAccess, json: #"{"refreshToken":"\#(newRefresh)"}"#).status == 204)
            #expect(try await api.call(.get, "/api/v1/me", token: newAccess).status == 401)
        }
    }
}
