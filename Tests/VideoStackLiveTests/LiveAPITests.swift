import Foundation
import Testing
import TestSupport
import VideoCore
import VideoPlatform
@testable import VideoStackLive

/// `POST /api/v1/live`, `POST /api/v1/live/{id}/key` and `DELETE /api/v1/live/{id}` over real
/// HTTP (curl), on the API of VideoStackHTTP.
@Suite(.serialized) struct LiveAPITests {
    struct Reply {
        var status: Int
        var body: [String: Any]
    }

    static func call(_ fixture: LiveFixture, _ method: String, _ path: String, token: String? = nil, json: String? = nil) async throws -> Reply {
        var arguments = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "http://127.0.0.1:\(fixture.httpPort)/api/v1\(path)"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        let result = try await ToolProcess.run(arguments)
        var lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        let text = lines.joined(separator: "\n")
        let body = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        return Reply(status: status, body: body)
    }

    static func token(_ fixture: LiveFixture, _ email: String) async throws -> String {
        let reply = try await call(fixture, "POST", "/auth/signin", json: #"{"email": "\#(email)", "password": "Vq8-zr-Lumen-42x"}"#)
        return try #require(reply.body["accessToken"] as? String, "sign-in: \(reply.status) \(reply.body)")
    }

    @Test(.timeLimit(.minutes(2)))
    func liveEndpointsCreateRotateAndDelete() async throws {
        try await LiveFixture.with(prefix: "live-api", configure: { $0.publishRecording = false }) { fixture in
            let ada = try await Self.token(fixture, "ada@example.com")
            let bob = try await Self.token(fixture, "bob@example.com")
            #expect(try await Self.call(fixture, "POST", "/live", json: #"{"title": "x"}"#).status == 401)
            #expect(try await Self.call(fixture, "POST", "/live", token: ada, json: #"{"description": "no title"}"#).status == 400)

            let created = try await Self.call(fixture, "POST", "/live", token: ada, json: #"{"title": "Launch day", "tags": ["space"]}"#)
            #expect(created.status == 201)
            let id = try #require(created.body["videoId"] as? String)
            let key = try #require(created.body["streamKey"] as? String)
            #expect(created.body["ingestUrl"] as? String == "rtmp://127.0.0.1:\(fixture.rtmpPort)/live")
            #expect(try await fixture.live.keys.grant(for: key)?.video.description == id)
            let video = try await Self.call(fixture, "GET", "/videos/\(id)", token: ada)
            #expect(video.status == 200)
            #expect(video.body["title"] as? String == "Launch day")

            #expect(try await Self.call(fixture, "POST", "/live/\(id)/key", token: bob).status == 403)
            let rotated = try await Self.call(fixture, "POST", "/live/\(id)/key", token: ada)
            #expect(rotated.status == 200)
            let newKey = try #require(rotated.body["streamKey"] as? String)
            #expect(newKey != key)
            #expect(try await fixture.live.keys.grant(for: key) == nil)

            // The new key publishes; the stream goes live through the API's view of the video.
            let publisher = try Publisher.start("rtmp://127.0.0.1:\(fixture.rtmpPort)/live/\(newKey)", seconds: 30)
            let videoID = try #require(VideoID(id))
            _ = try await fixture.waitFor(videoID, status: .live)
            let live = try await Self.call(fixture, "GET", "/videos/\(id)")
            #expect(live.body["status"] as? String == "live")
            #expect((live.body["playbackUrl"] as? String)?.hasSuffix("/live/master.m3u8") == true, "\(live.body)")

            #expect(try await Self.call(fixture, "DELETE", "/live/\(id)", token: bob).status == 403)
            #expect(try await Self.call(fixture, "DELETE", "/live/\(id)", token: ada).status == 204)
            #expect(try await Self.call(fixture, "GET", "/videos/\(id)", token: ada).status == 404)
            #expect(try await fixture.platform.blobs.listAll(prefix: "videos/\(id)/").isEmpty)
            // The publisher was disconnected.
            let result = try await publisher.wait()
            #expect(result.status != 0 || !result.stderr.isEmpty)
            #expect(try await Self.call(fixture, "DELETE", "/live/\(id)", token: ada).status == 404)
        }
    }
}
