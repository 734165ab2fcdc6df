import Foundation
import NIOHTTP1
import TestSupport
import Testing
import VideoPlatform
import VideoStackTesting

/// The typed client against a real in-process server (TestServer): every call of the contract,
/// and errors that carry the JSON error code.
@Suite struct ClientTests {
    @Test func theContractEndToEnd() async throws {
        let clip = try await TestMedia.clip(seconds: 3, logger: testLogger)
        try await TestServer.withServer(logger: testLogger) { server in
            try await server.withClient { ada in
                let session = try await ada.signUpAndIn(username: "ada", name: "Ada Lovelace")
                #expect(session.user.username == "ada" && session.expiresIn > 0)
                let me = try await ada.me()
                #expect(me.name == "Ada Lovelace" && me.email == "ada@example.com" && me.role == "member")

                // Duplicates and bad input carry their codes.
                let taken = await #expect(throws: APIClientError.self) {
                    _ = try await ada.signUp(username: "ada", email: "other@example.com", password: "correct-horse-battery-staple", name: "A")
                }
                #expect(taken?.status == 409 && taken?.code == .conflict && taken?.requestID != nil)
                let anonymous = ada.anotherSession()
                let unauthorized = await #expect(throws: APIClientError.self) { _ = try await anonymous.me() }
                #expect(unauthorized?.code == .unauthorized && unauthorized?.status == 401)
                let missing = await #expect(throws: APIClientError.self) { _ = try await anonymous.video("01ARZ3NDEKTSV4RRFFQ69G5FAV") }
                #expect(missing?.code == .notFound)
                let wrong = await #expect(throws: APIClientError.self) { _ = try await anonymous.signIn(email: "ada@example.com", password: "not-the-password-1") }
                #expect(wrong?.code == .unauthorized)

                // tus: creation with the first bytes, a wrong offset (409), resume, checksum.
                let upload = try await ada.createUpload(length: Int64(clip.count),
                                                        metadata: .init(title: "Engines", description: "Babbage", tags: ["history", "computing"]),
                                                        firstBytes: clip.prefix(1000))
                #expect(upload.offset == 1000)
                let conflict = await #expect(throws: APIClientError.self) { try await ada.appendUpload(upload, at: 5, bytes: clip.subdata(in: 5..<10)) }
                #expect(conflict?.code == .conflict)
                #expect(try await ada.uploadOffset(upload) == (1000, Int64(clip.count)))
                try await ada.resumeUpload(upload, data: clip, chunkSize: 64 << 10)

                let ready = try await ada.waitForVideo(upload.videoID, toReach: "ready")
                #expect(ready.title == "Engines" && ready.tags == ["history", "computing"] && ready.owner == "ada")
                #expect(ready.playbackUrl == "/media/videos/\(ready.id)/hls/master.m3u8")
                #expect(ready.duration.map { abs($0 - 3) < 0.5 } == true)
                let playlist = try await anonymous.send(.GET, try #require(ready.playbackUrl))
                #expect(playlist.status == 200 && playlist.text.hasPrefix("#EXTM3U"))

                let renamed = try await ada.updateVideo(ready.id, .init(title: "Engines, explained"))
                #expect(renamed.title == "Engines, explained")
                #expect(try await ada.videos(of: "ada").items.map(\.id) == [ready.id])
                let page = try await ada.waitUntilSearchable("engines expl", finds: ready.id)
                #expect(page.items.first?.highlights?.title != nil || page.items.first?.highlights?.titleRanges?.isEmpty == false)

                // Reviews: created, then replaced.
                let first = try await ada.postReview(of: ready.id, rating: 4, comment: "Clear")
                #expect(!first.replaced && first.review.rating == 4)
                let second = try await ada.postReview(of: ready.id, rating: 5, comment: "Clearer")
                #expect(second.replaced)
                #expect(try await ada.reviews(of: ready.id).items.map(\.comment) == ["Clearer"])
                let rating = try await ada.video(ready.id).rating
                #expect(rating.average == 5 && rating.count == 1)

                // Share link and views.
                let link = try await ada.share(ready.id)
                #expect(link.url == server.baseURL.absoluteString + "/s/\(link.code)")
                #expect(try await anonymous.resolveShare(link.code) == "/watch/\(ready.id)")
                let view = try await anonymous.recordView(of: ready.id)
                #expect(view.counted && view.views >= 1)
                #expect(try await anonymous.recordView(of: ready.id).counted == false)

                // Sign-out forgets the tokens; the refresh token no longer works.
                let refreshed = try await ada.refresh()
                #expect(refreshed.accessToken == ada.accessToken)
                let oldRefresh = try #require(ada.refreshToken)
                try await ada.signOut()
                #expect(ada.accessToken == nil)
                ada.refreshToken = oldRefresh
                await #expect(throws: APIClientError.self) { _ = try await ada.refresh() }

                try await anonymous.signIn(email: "ada@example.com", password: "correct-horse-battery-staple")
                try await anonymous.deleteVideo(ready.id)
                let gone = await #expect(throws: APIClientError.self) { _ = try await anonymous.video(ready.id) }
                #expect(gone?.code == .notFound)
            }
        }
    }

    /// An upload over the size limit is refused with payload_too_large before any byte is sent.
    @Test func limitsComeBackTyped() async throws {
        try await TestServer.withServer(configure: { $0.uploads.maxUploadSize = 1000 }, logger: testLogger) { server in
            try await server.withClient { client in
                try await client.signUpAndIn(username: "grace")
                let error = await #expect(throws: APIClientError.self) {
                    _ = try await client.createUpload(length: 5000, metadata: .init(title: "Too big"))
                }
                #expect(error?.status == 413 && error?.code == .payloadTooLarge)
                let deleted = try await client.createUpload(length: 10, metadata: .init(title: "Abandoned"))
                try await client.deleteUpload(deleted)
                await #expect(throws: APIClientError.self) { _ = try await client.uploadOffset(deleted) }
            }
        }
    }
}
