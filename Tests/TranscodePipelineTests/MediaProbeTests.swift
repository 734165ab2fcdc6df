import Foundation
import Testing
import TestSupport
import TranscodePipeline
import VideoCore

@Suite struct MediaProbeTests {
    @Test func probesVideoAndAudioStreams() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 2, size: "320x240", rate: "25")
            let info = try await MediaProbe.probe(clip, logger: testLogger)
            #expect(info.format.contains("mp4"))
            #expect(abs(info.duration.inSeconds - 2) < 0.1)
            let video = try #require(info.video)
            #expect(video.codec == "h264")
            #expect(video.width == 320 && video.height == 240)
            #expect(video.averageFrameRate == Rational(25, 1))
            #expect(video.pixelFormat == "yuv420p")
            #expect(video.bitDepth == 8)
            #expect(video.rotation == 0)
            #expect(video.isVariableFrameRate == false)
            let audio = try #require(info.audio)
            #expect(audio.codec == "aac")
            #expect(audio.sampleRate == 44100)
            #expect(audio.channels == 1)
            #expect(audio.profile == "LC")
        }
    }

    @Test func readsTenBitAspectRotationAndInterlacing() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("anamorphic.mkv")
            try await makeClip(clip, seconds: 1, size: "720x576", audio: false, videoFilter: "setsar=16/15",
                         extra: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
                                 "-flags", "+ilme+ildct", "-x264opts", "tff=1", "-field_order", "tt"])
            let video = try #require(try await MediaProbe.probe(clip, logger: testLogger).video)
            #expect(video.bitDepth == 10)
            #expect(video.pixelFormat == "yuv420p10le")
            #expect(video.sampleAspectRatio == Rational(16, 15))
            #expect(video.displayAspectRatio == Rational(4, 3))
            #expect(video.isInterlaced == true)

            let rotated = directory.appendingPathComponent("rotated.mp4")
            try await makeClip(clip.deletingLastPathComponent().appendingPathComponent("plain.mp4"), seconds: 1, audio: false)
            // FFmpeg 5.1's mov muxer turns the `rotate` tag into a display matrix.
            try await run("ffmpeg", ["-v", "error", "-y", "-i", directory.appendingPathComponent("plain.mp4").path,
                               "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated.path])
            let turned = try #require(try await MediaProbe.probe(rotated, logger: testLogger).video)
            // ffprobe prints the display matrix's counterclockwise angle; players turn the other way.
            let sideData = try await ffprobeStreams(rotated).first?["side_data_list"] as? [[String: Any]]
            let counterclockwise = try #require(sideData?.compactMap { $0["rotation"] as? Int }.first)
            #expect(turned.rotation == ((-counterclockwise) % 360 + 360) % 360)
            #expect(turned.rotation != 0)
            #expect(turned.displaySize?.width == 240 && turned.displaySize?.height == 320)
        }
    }

    @Test func deepCheckPassesAnIntactFile() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 2)
            let report = try await MediaProbe.deepCheck(clip, logger: testLogger)
            #expect(report.isIntact, "\(report.problems)")
            #expect(report.videoFrames == 60)
            #expect(report.audioFrames > 0)
            #expect(!report.isTruncated)
        }
    }
}
