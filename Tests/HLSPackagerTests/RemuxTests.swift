import Foundation
import HLSPackager
import Testing
import TestSupport
import VideoCore

@Suite struct RemuxTests {
    /// A B-frame H.264 + AAC file remuxed to fMP4 HLS with a separate audio group: real players
    /// accept it, segments start on keyframes and match their EXTINF, CODECS come from the stream.
    @Test func remuxedFileIsValidHLS() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("in.mp4")
        // keyint 50 at 25 fps: keyframes every 2 s, so 4 s segments cut on them.
        try await makeTestMP4(source, seconds: 9, extra: ["-g", "50", "-keyint_min", "50", "-sc_threshold", "0"])

        let result = try await Remuxer.package(file: URL(fileURLWithPath: source), store: fixture.store, directory: "v1", logger: testLogger)
        #expect(result.masterKey == "v1/master.m3u8")
        #expect(try await checkAllPlaylists(fixture.root) == [])

        let master = try MasterPlaylist(parsing: try await fixture.text("v1/master.m3u8"))
        #expect(master.variants.count == 1)
        #expect(master.media.count == 1 && master.media[0].type == .audio && master.media[0].uri == "audio/index.m3u8")
        let variant = try #require(master.variants.first)
        #expect(variant.audio == master.media[0].groupID)
        #expect(variant.resolution == Resolution(width: 320, height: 240))
        #expect(variant.frameRate == 25)
        #expect(master.iFrameStreams.count == 1)

        // CODECS from the SPS: profile and level must agree with what ffprobe reads from the stream.
        let probe = try await run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=profile,level", "-of", "csv=p=0", source])
        let fields = probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        let level = try #require(Int(fields.last ?? ""))
        let codecs = try #require(variant.codecs).split(separator: ",").map(String.init)
        #expect(codecs.count == 2)
        #expect(codecs[0].hasPrefix(fields.first == "High" ? "avc1.64" : "avc1.") && codecs[0].hasSuffix(String(format: "%02x", level)),
                "video codec \(codecs[0]) disagrees with ffprobe's \(fields)")
        #expect(codecs[1] == "mp4a.40.2")

        // BANDWIDTH is the peak segment rate, AVERAGE-BANDWIDTH the mean, both including audio.
        let videoSummary = result.renditions[0]
        let audioSummary = result.renditions[1]
        #expect(variant.bandwidth == videoSummary.peakBitRate + audioSummary.peakBitRate)
        #expect(variant.averageBandwidth == videoSummary.averageBitRate + audioSummary.averageBitRate)
        #expect(variant.bandwidth >= variant.averageBandwidth!)

        let videoDir = fixture.root.appendingPathComponent("v1/video")
        let media = try MediaPlaylist(parsing: try await fixture.text("v1/video/index.m3u8"))
        #expect(media.playlistType == .vod && media.endList)
        #expect(media.segments.count == 3, "9 s cut at 4 s boundaries on 2 s keyframes gives 4+4+1")
        for segment in media.segments.dropLast() { #expect(abs(segment.duration.inSeconds - 4) < 0.001) }
        #expect(abs(media.totalDuration.inSeconds - 9) < 0.05)
        try await checkFMP4Rendition(videoDir, playlist: media, scratch: fixture.dir)
        let audio = try MediaPlaylist(parsing: try await fixture.text("v1/audio/index.m3u8"))
        try await checkFMP4Rendition(fixture.root.appendingPathComponent("v1/audio"), playlist: audio, scratch: fixture.dir, hasVideo: false)

        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("v1/master.m3u8")) == "")
        let gst = try await gstreamerPlay(server.url("v1/master.m3u8"))
        #expect(gst.status == 0, "GStreamer failed: \(gst.stderr) \(gst.stdout)")
        // The I-frame playlist is a playable media playlist of its own.
        #expect(try await ffmpegPlaybackWarnings(server.url("v1/video/iframes.m3u8")) == "")
    }

    /// Each I-frame byte range, placed after the init segment, decodes as exactly one keyframe
    /// at the segment's start time.
    @Test func iFrameRangesHoldOneKeyframeEach() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("in.mp4")
        try await makeTestMP4(source, seconds: 9, extra: ["-g", "50", "-sc_threshold", "0"], audio: true)
        _ = try await Remuxer.package(file: URL(fileURLWithPath: source), store: fixture.store, directory: "", configuration: HLSConfiguration(separateAudio: false), logger: testLogger)
        let iFrames = try MediaPlaylist(parsing: try await fixture.text("stream/iframes.m3u8"))
        let media = try MediaPlaylist(parsing: try await fixture.text("stream/index.m3u8"))
        #expect(iFrames.iFramesOnly)
        #expect(iFrames.segments.count == media.segments.count)
        let initBytes = try await fixture.store.get("stream/init.mp4")
        for (index, segment) in iFrames.segments.enumerated() {
            let range = try #require(segment.byteRange)
            let offset = try #require(range.offset)
            let bytes = try await fixture.store.get("stream/" + segment.uri, range: Int64(offset)..<Int64(offset + range.length))
            let path = fixture.dir.path("iframe\(index).mp4")
            try Data(initBytes + bytes).write(to: URL(fileURLWithPath: path))
            let packets = try await probePackets(path)
            #expect(packets.count == 1 && packets[0].isKeyframe, "I-frame range \(index) holds \(packets.count) packets")
        }
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("master.m3u8")) == "")
    }

    /// An MP4 written with negative composition offsets (ctts version 1, no edit list) packages and plays.
    @Test func negativeCompositionOffsetsAreShifted() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let plain = fixture.dir.path("plain.mp4")
        try await makeTestMP4(plain, seconds: 5, extra: ["-g", "50"])
        let negative = fixture.dir.path("negative.mp4")
        try await run(["ffmpeg", "-v", "error", "-y", "-i", plain, "-c", "copy", "-movflags", "negative_cts_offsets", negative])
        let result = try await Remuxer.package(file: URL(fileURLWithPath: negative), store: fixture.store, directory: "n", logger: testLogger)
        let media = try MediaPlaylist(parsing: try await fixture.text("n/video/index.m3u8"))
        #expect(abs(media.totalDuration.inSeconds - 5) < 0.05)
        try await checkFMP4Rendition(fixture.root.appendingPathComponent("n/video"), playlist: media, scratch: fixture.dir)
        #expect(result.renditions.count == 2)
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("n/master.m3u8")) == "")
    }

    @Test func damagedFilesGetTypedErrors() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("in.mp4")
        try await makeTestMP4(source, seconds: 3)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
        // moov at the end (ffmpeg's default): cutting the file removes the index.
        let truncated = fixture.dir.path("cut.mp4")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        await #expect { try await Remuxer.package(file: URL(fileURLWithPath: truncated), store: fixture.store, directory: "x", logger: testLogger) } throws: { error in
            (error as? VideoStackError)?.code == .corrupt
        }
        let garbage = fixture.dir.path("garbage.mp4")
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: garbage))
        await #expect { try await Remuxer.package(file: URL(fileURLWithPath: garbage), store: fixture.store, directory: "x", logger: testLogger) } throws: { error in
            (error as? VideoStackError)?.code == .corrupt
        }
        await #expect { try await Remuxer.package(file: URL(fileURLWithPath: fixture.dir.path("missing.mp4")), store: fixture.store, directory: "x", logger: testLogger) } throws: { error in
            (error as? VideoStackError)?.code == .notFound
        }
        // moov first, data cut: the sample table points past the end.
        let faststart = fixture.dir.path("fast.mp4")
        try await run(["ffmpeg", "-v", "error", "-y", "-i", source, "-c", "copy", "-movflags", "+faststart", faststart])
        let fast = try Data(contentsOf: URL(fileURLWithPath: faststart))
        let cutFast = fixture.dir.path("cutfast.mp4")
        try fast.prefix(fast.count * 2 / 3).write(to: URL(fileURLWithPath: cutFast))
        await #expect { try await Remuxer.package(file: URL(fileURLWithPath: cutFast), store: fixture.store, directory: "x", logger: testLogger) } throws: { error in
            (error as? VideoStackError)?.code == .corrupt
        }
        // A seeded corpus of byte flips in the index: a typed error or a package, never a crash.
        var generator = SeededGenerator(seed: 42)
        for round in 0..<60 {
            var damaged = [UInt8](fast)
            for _ in 0..<8 {
                let index = Int.random(in: 0..<min(damaged.count, 4000), using: &generator)
                damaged[index] = UInt8.random(in: 0...255, using: &generator)
            }
            let path = fixture.dir.path("flip\(round).mp4")
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            do {
                _ = try await Remuxer.package(file: URL(fileURLWithPath: path), store: fixture.store, directory: "flip\(round)", logger: testLogger)
            } catch let error as VideoStackError {
                #expect(!error.message.isEmpty)
            }
            try FileManager.default.removeItem(atPath: path)
        }
    }
}

@Suite struct HEVCRemuxTests {
    /// HEVC (x265, B-frames) + AAC remuxed to fMP4 and TS HLS: `hvc1` sample entry with the source's
    /// hvcC, a CODECS string that agrees with ffprobe's profile and level, and clean playback.
    @Test(arguments: [HLSConfiguration.SegmentFormat.fmp4, .mpegts])
    func hevcRemuxPlays(format: HLSConfiguration.SegmentFormat) async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("hevc.mp4")
        try await makeTestMP4(source, seconds: 9, extra: ["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1",
                                                    "-x265-params", "keyint=50:min-keyint=50:scenecut=0:log-level=error"])
        let result = try await Remuxer.package(file: URL(fileURLWithPath: source), store: fixture.store, directory: "h", configuration: HLSConfiguration(segmentFormat: format),
                                               logger: testLogger)
        let codecs = try #require(result.master.variants.first?.codecs).split(separator: ",").map(String.init)
        let probe = try await run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=profile,level", "-of", "csv=p=0", source])
        let fields = probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        #expect(fields.first == "Main" ? codecs[0].hasPrefix("hvc1.1.") : true, "\(codecs[0]) vs \(fields)")
        #expect(codecs[0].contains(".L\(fields.last ?? "")"), "\(codecs[0]) does not carry level \(fields.last ?? "")")
        #expect(codecs[1] == "mp4a.40.2")
        let media = try MediaPlaylist(parsing: try await fixture.text("h/video/index.m3u8"))
        #expect(media.segments.count == 3)
        if format == .fmp4 {
            try await checkFMP4Rendition(fixture.root.appendingPathComponent("h/video"), playlist: media, scratch: fixture.dir)
        }
        #expect(try await checkAllPlaylists(fixture.root) == [])
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("h/master.m3u8")) == "")
        let gst = try await gstreamerPlay(server.url("h/master.m3u8"))
        #expect(gst.status == 0, "GStreamer failed: \(gst.stderr)")
    }
}
