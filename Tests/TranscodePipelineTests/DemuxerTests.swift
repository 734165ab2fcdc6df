import Foundation
import Testing
import TestSupport
import TranscodePipeline
import VideoCore

@Suite struct DemuxerTests {
    @Test func readsEncodedPacketsWithoutDecoding() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 3, size: "320x240", rate: "25",
                         extra: ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p"])
            let demuxer = try await Demuxer.open(clip, logger: testLogger)
            #expect(demuxer.tracks.map(\.kind) == [.video, .audio])
            let video = demuxer.tracks[0], audio = demuxer.tracks[1]
            #expect(video.codec == "h264" && video.width == 320 && video.height == 240)
            #expect(video.codecString?.hasPrefix("avc1.") == true)
            #expect(video.extradata.first == 1)  // an avcC record, as MP4 stores it
            #expect(audio.codec == "aac" && audio.codecString == "mp4a.40.2" && audio.sampleRate == 44100)

            var packets: [DemuxedPacket] = []
            for try await packet in demuxer.packets() { packets.append(packet) }
            let videoPackets = packets.filter { $0.track == 0 }
            // ffprobe's count of the same file's video packets and keyframes.
            let reference = try await run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=flags",
                                                "-of", "csv=p=0", clip.path])
            let flags = String(decoding: reference.stdout, as: UTF8.self).split(separator: "\n")
            #expect(videoPackets.count == flags.count)
            #expect(videoPackets.filter(\.packet.isKeyframe).count == flags.filter { $0.contains("K") }.count)
            #expect(videoPackets.first?.packet.isKeyframe == true)
            for track in 0..<2 {
                let stamps = packets.filter { $0.track == track }.map(\.packet.dts)
                #expect(stamps == stamps.sorted())
                #expect(!stamps.contains(Int64.min))
            }
            let end = try #require(videoPackets.map { Double($0.packet.pts + $0.packet.duration) / Double(video.timescale) }.max())
            #expect(abs(end - 3) < 0.05)
            #expect(try await demuxer.read().isEmpty)
        }
    }
}
