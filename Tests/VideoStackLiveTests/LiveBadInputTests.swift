import Foundation
import HLSPackager
import SingleTableStore
import Testing
import TestSupport
import VideoCore
import VideoPlatform
@testable import VideoStackLive

/// Hostile and broken publishers are disconnected with a logged reason while a good stream on
/// the same port goes on undisturbed.
@Suite(.serialized) struct LiveBadInputTests {
    @Test(.timeLimit(.minutes(4)))
    func badPublishersAreDisconnectedAndAGoodStreamGoesOn() async throws {
        try await LiveFixture.with(prefix: "live-bad", configure: {
            $0.rtmp.session.maxMessageSize = 1 << 20
            $0.rtmp.session.maxChunkSize = 1 << 16
            $0.publishRecording = false
        }) { fixture in
            let good = try await fixture.live.createStream(owner: "ada", title: "Steady")
            let sorenson = try await fixture.live.createStream(owner: "bob", title: "Old encoder")
            let publisher = try Publisher.start(fixture.publishURL(good), seconds: 14)
            _ = try await fixture.waitFor(good.videoID, status: .live)
            let before = await fixture.live.status(of: good.videoID)?.segments ?? 0

            // Garbage instead of a handshake.
            var generator = SeededGenerator(seed: 99)
            let garbage = (0..<8192).map { _ in UInt8(truncatingIfNeeded: generator.next()) | 0x80 }
            #expect(try await RawClient.send(port: fixture.rtmpPort, handshake: false, payload: garbage).closedByServer)
            // Garbage after a correct handshake.
            #expect(try await RawClient.send(port: fixture.rtmpPort, handshake: true, payload: garbage).closedByServer)
            // A chunk size far above the limit.
            var writer = RTMPChunkWriter()
            #expect(try await RawClient.send(port: fixture.rtmpPort, handshake: true,
                                             payload: writer.chunks(.setChunkSize(0x7FFF_FFFF), chunkStream: 2)).closedByServer)
            // A message header announcing 16 MiB, above the 1 MiB limit: refused before any of it is buffered.
            var header: [UInt8] = [0x06, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 1, 0, 0, 0]
            header += [UInt8](repeating: 0, count: 128)
            #expect(try await RawClient.send(port: fixture.rtmpPort, handshake: true, payload: header).closedByServer)
            // A publisher that stalls after the handshake.
            #expect(try await RawClient.send(port: fixture.rtmpPort, handshake: true, payload: []).closedByServer)
            // FFmpeg publishing Sorenson H.263 (FLV's own codec) with a valid key.
            let old = try await Publisher.start(fixture.publishURL(sorenson), seconds: 5, videoCodec: ["-c:v", "flv"]).wait()
            #expect(old.status != 0)

            #expect(!fixture.logs.reasons(containing: "does not speak RTMP").isEmpty)
            #expect(!fixture.logs.reasons(containing: "above the limit").isEmpty)
            #expect(!fixture.logs.reasons(containing: "larger than the limit").isEmpty)
            #expect(!fixture.logs.reasons(containing: "sent nothing").isEmpty)
            #expect(!fixture.logs.reasons(containing: "Sorenson H.263").isEmpty)
            #expect(try await fixture.platform.catalog.video(sorenson.videoID)?.status == .liveScheduled)

            // The good stream never noticed.
            let result = try await publisher.wait()
            #expect(result.status == 0, "good publisher: \(result.stderr)")
            let ended = try await fixture.waitFor(good.videoID, status: .liveEnded)
            let playlist = try MediaPlaylist(parsing: String(decoding: try await fixture.platform.blobs.get("videos/\(good.videoID)/live/source/dvr.m3u8"), as: UTF8.self))
            #expect(playlist.endList)
            #expect(!playlist.segments.contains { $0.discontinuity })
            #expect(playlist.segments.count > before)
            #expect(abs((playlist.totalDuration - .seconds(14)) / .seconds(1)) < 1.5, "\(playlist.totalDuration)")
            #expect(ended.duration.map { abs(($0 - .seconds(14)) / .seconds(1)) < 1.5 } == true)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func keysAreOwnedRotatedAndRevoked() async throws {
        try await LiveFixture.with(prefix: "live-keys", configure: { $0.publishRecording = false }) { fixture in
            let ada = AuthenticatedUser(username: "ada", role: .member, sessionFamily: "t")
            let bob = AuthenticatedUser(username: "bob", role: .member, sessionFamily: "t")
            let created = try await fixture.live.createStream(owner: "ada", title: "Keys")
            #expect(try await fixture.live.keys.grant(for: created.streamKey) == StreamKeyGrant(video: created.videoID, owner: "ada"))
            await #expect(throws: VideoStackError.self) { try await fixture.live.rotateKey(of: created.videoID, by: bob) }
            let rotated = try await fixture.live.rotateKey(of: created.videoID, by: ada)
            #expect(rotated.streamKey != created.streamKey)
            #expect(try await fixture.live.keys.grant(for: created.streamKey) == nil)
            #expect(try await fixture.live.keys.grant(for: rotated.streamKey)?.video == created.videoID)
            // The store keeps hashes only.
            let page = try await fixture.platform.store.scan(.init())
            #expect(!page.items.contains { item in item.values.contains { $0.string == rotated.streamKey } })

            // The old key is refused at publish, after the connection was accepted.
            let refused = try await Publisher.start(fixture.publishURL(created), seconds: 2).wait()
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("Unknown or revoked stream key"), "\(refused.stderr)")
            try await fixture.live.revokeKey(of: created.videoID, by: ada)
            let revoked = try await Publisher.start(fixture.publishURL(rotated), seconds: 2).wait()
            #expect(revoked.status != 0)
            #expect(fixture.logs.reasons(containing: "Unknown or revoked stream key").count >= 2)

            // Deleting removes the video.
            try await fixture.live.deleteStream(created.videoID, by: ada)
            #expect(try await fixture.platform.catalog.video(created.videoID) == nil)
        }
    }
}
