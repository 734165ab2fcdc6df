import Foundation
import HLSPackager
import Testing
import TestSupport
import VideoCore
import VideoPlatform
@testable import VideoStackLive

/// The live ladder: the platform's transcoder reading the stream as it arrives, and the
/// automatic fall back to pass-through when it trails too far.
@Suite(.serialized) struct LiveTranscodeTests {
    @Test(.timeLimit(.minutes(4)))
    func theLadderModeAddsTranscodedRungsBesideTheSource() async throws {
        try await LiveFixture.with(prefix: "live-ladder", configure: {
            $0.transcode = .ladder
            $0.publishRecording = false
        }) { fixture in
            let stream = try await fixture.live.createStream(owner: "ada", title: "Ladder")
            let publisher = try Publisher.start(fixture.publishURL(stream), seconds: 12)
            _ = try await fixture.waitFor(stream.videoID, status: .live)
            #expect(await fixture.live.status(of: stream.videoID)?.transcoding == true)
            // The rung joins the master playlist once it has a segment.
            while true {
                let master = String(decoding: (try? await fixture.platform.blobs.get("videos/\(stream.videoID)/live/master.m3u8")) ?? [], as: UTF8.self)
                if master.contains("240p/index.m3u8") {
                    #expect(master.contains("source/index.m3u8"))
                    #expect(master.contains("RESOLUTION=426x240"))
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            let probe = try await ToolProcess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0",
                                                   fixture.mediaURL("videos/\(stream.videoID)/live/240p/index.m3u8")])
            #expect(probe.output.contains("h264,426,240"), "\(probe.output) \(probe.stderr)")
            #expect(try await publisher.wait().status == 0)
            _ = try await fixture.waitFor(stream.videoID, status: .liveEnded)
            let rung = try MediaPlaylist(parsing: String(decoding: try await fixture.platform.blobs.get("videos/\(stream.videoID)/live/240p/dvr.m3u8"), as: UTF8.self))
            #expect(rung.endList)
            #expect(abs((rung.totalDuration - .seconds(12)) / .seconds(1)) < 2, "\(rung.totalDuration)")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func aTranscodeThatFallsBehindIsDroppedForPassThrough() async throws {
        try await LiveFixture.with(prefix: "live-fallback", configure: {
            $0.transcode = .automatic
            $0.maxTranscodeLag = .milliseconds(1)  // no encoder can be this close: it must fall back
            $0.publishRecording = false
        }) { fixture in
            let stream = try await fixture.live.createStream(owner: "ada", title: "Fallback")
            let publisher = try Publisher.start(fixture.publishURL(stream), seconds: 12)
            try await fixture.waitForStream(stream.videoID) { $0?.fallbackReason != nil }
            let status = try #require(await fixture.live.status(of: stream.videoID))
            #expect(!status.transcoding)
            #expect(status.fallbackReason?.contains("behind") == true, "\(status.fallbackReason ?? "")")
            #expect(!fixture.logs.reasons(containing: "behind the source").isEmpty)
            let segmentsAtFallback = status.segments
            #expect(try await publisher.wait().status == 0)
            _ = try await fixture.waitFor(stream.videoID, status: .liveEnded)
            let master = String(decoding: try await fixture.platform.blobs.get("videos/\(stream.videoID)/live/master.m3u8"), as: UTF8.self)
            #expect(master.contains("source/index.m3u8"))
            #expect(!master.contains("240p"))
            let source = try MediaPlaylist(parsing: String(decoding: try await fixture.platform.blobs.get("videos/\(stream.videoID)/live/source/dvr.m3u8"), as: UTF8.self))
            #expect(source.segments.count > segmentsAtFallback)
            #expect(abs((source.totalDuration - .seconds(12)) / .seconds(1)) < 1.5)
        }
    }
}
