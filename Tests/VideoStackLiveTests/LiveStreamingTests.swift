import Foundation
import HLSPackager
import Testing
import TestSupport
import VideoCore
import VideoPlatform
@testable import VideoStackLive

/// The live path end to end with real encoders and players: FFmpeg publishes over RTMP in real
/// time, ffprobe and GStreamer play the live playlists over HTTP, and the recordings come back
/// as videos on demand.
@Suite(.serialized) struct LiveStreamingTests {
    @Test(.timeLimit(.minutes(6)))
    func twoStreamsLiveAWrongKeyAReconnectAndTheRecordingsAsVOD() async throws {
        try await LiveFixture.with(prefix: "live-main") { fixture in
            let owner = AuthenticatedUser(username: "ada", role: .member, sessionFamily: "test")
            let first = try await fixture.live.createStream(owner: "ada", title: "Lighthouse live", tags: ["sea"])
            let second = try await fixture.live.createStream(owner: "bob", title: "Harbour cam")
            #expect(first.ingestURL == "rtmp://127.0.0.1:\(fixture.rtmpPort)/live")
            #expect(try await fixture.platform.catalog.video(first.videoID)?.status == .liveScheduled)

            // Two publishers at once on one port.
            let publisherA = try Publisher.start(fixture.publishURL(first), seconds: 40)
            let publisherB = try Publisher.start(fixture.publishURL(second), seconds: 10)

            // A wrong key: the connection is accepted, then publish is refused with an error status.
            let wrong = try await Publisher.start("rtmp://127.0.0.1:\(fixture.rtmpPort)/live/live_not-a-key", seconds: 3).wait()
            #expect(wrong.status != 0)
            #expect(wrong.stderr.contains("Unknown or revoked stream key"), "ffmpeg said: \(wrong.stderr)")
            #expect(!fixture.logs.reasons(containing: "Unknown or revoked stream key").isEmpty)

            let liveA = try await fixture.waitFor(first.videoID, status: .live)
            let master = try #require(liveA.media?.playlist)
            #expect(master == "videos/\(first.videoID)/live/master.m3u8")
            _ = try await fixture.waitFor(second.videoID, status: .live)
            try await fixture.waitForStream(first.videoID) { ($0?.segments ?? 0) >= 3 }

            // While live: ffprobe reads the live master playlist over HTTP…
            let probe = try await ToolProcess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0",
                                                   fixture.mediaURL(master)])
            #expect(probe.status == 0, "ffprobe: \(probe.stderr)")
            #expect(probe.output.contains("h264,640,360"), "ffprobe saw: \(probe.output)")
            #expect(probe.output.contains("aac"))
            #expect(!probe.stderr.contains("404"))
            // …and GStreamer plays it: 90 video frames (3 s) through, then end of stream.
            let gst = try await ToolProcess.run(["gst-launch-1.0", "-q", "playbin3", "uri=\(fixture.mediaURL(master))",
                                                 "video-sink=identity eos-after=90 ! fakesink", "audio-sink=identity eos-after=120 ! fakesink"])
            #expect(gst.status == 0, "gst-launch: \(gst.stderr)")

            // The live playlist: a sliding window with program date-times; the DVR playlist keeps more.
            let edge = try MediaPlaylist(parsing: String(decoding: try await fixture.platform.blobs.get("videos/\(first.videoID)/live/source/index.m3u8"), as: UTF8.self))
            #expect(!edge.endList && edge.playlistType == nil)
            #expect(edge.segments.count <= 4)
            #expect(edge.segments.allSatisfy { $0.programDateTime != nil })
            #expect(edge.segments.allSatisfy { $0.duration <= .milliseconds(2100) })

            // Stream B ends by itself (ffmpeg says FCUnpublish/deleteStream); A goes on.
            let resultB = try await publisherB.wait()
            #expect(resultB.status == 0, "publisher B: \(resultB.stderr)")

            // A's publisher dies without a word and a new one takes over within the window.
            killProcess(publisherA)
            _ = try await publisherA.wait()
            try await fixture.waitForStream(first.videoID) { $0?.state == .waitingForReconnect }
            #expect(try await fixture.platform.catalog.video(first.videoID)?.status == .live)
            let segmentsBefore = await fixture.live.status(of: first.videoID)?.segments ?? 0
            let publisherA2 = try Publisher.start(fixture.publishURL(first), seconds: 8)
            try await fixture.waitForStream(first.videoID) { $0?.state == .publishing && $0?.publishes == 2 }
            // While the second publisher runs: the DVR playlist shows the discontinuity, and the
            // recorded timeline holds both parts.
            var sawDiscontinuity = false
            var recorded = Duration.zero
            while let status = await fixture.live.status(of: first.videoID), status.state == .publishing {
                recorded = max(recorded, status.recorded)
                if !sawDiscontinuity, let text = try? await fixture.platform.blobs.get("videos/\(first.videoID)/live/source/dvr.m3u8") {
                    let dvr = try MediaPlaylist(parsing: String(decoding: text, as: UTF8.self))
                    sawDiscontinuity = dvr.segments.contains { $0.discontinuity } && dvr.segments.count > segmentsBefore
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(sawDiscontinuity, "a reconnect is a discontinuity")
            #expect(fixture.logs.records.contains { $0.message.contains("publisher reconnected") })
            let resultA2 = try await publisherA2.wait()
            #expect(resultA2.status == 0, "publisher A again: \(resultA2.stderr)")

            // B's recording is published on its own meanwhile.
            let endedB = try await fixture.waitFor(second.videoID, status: .ready)
            #expect(endedB.duration.map { abs(($0 - .seconds(10)) / .seconds(1)) < 1.5 } == true, "\(String(describing: endedB.duration))")

            // A's recording is a video on demand with the full duration (both publishers), poster and storyboard.
            let ended = try await fixture.waitFor(first.videoID, status: .ready)
            let duration = try #require(ended.duration)
            #expect(abs((duration - recorded) / .seconds(1)) < 2.5, "VOD \(duration) vs live \(recorded)")
            #expect(duration > .seconds(12))
            let media = try #require(ended.media)
            #expect(media.poster != nil && media.storyboard != nil)
            let vod = try await ToolProcess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", fixture.mediaURL(media.playlist)])
            #expect(vod.status == 0, "ffprobe VOD: \(vod.stderr)")
            let vodSeconds = try #require(Double(vod.output.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(abs(vodSeconds - duration / .seconds(1)) < 2.5)
            let vodPlay = try await ToolProcess.run(["gst-launch-1.0", "-q", "playbin3", "uri=\(fixture.mediaURL(media.playlist))",
                                                     "video-sink=fakesink sync=false", "audio-sink=fakesink sync=false"])
            #expect(vodPlay.status == 0, "gst VOD: \(vodPlay.stderr)")

            // An ended stream's key no longer publishes.
            let late = try await Publisher.start(fixture.publishURL(first), seconds: 2).wait()
            #expect(late.status != 0)
            _ = owner
        }
    }
}
