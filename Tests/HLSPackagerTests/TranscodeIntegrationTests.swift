import Foundation
import HLSPackager
import Synchronization
import Testing
import TranscodePipeline
import VideoCore
import TestSupport

@Suite struct TranscodeIntegrationTests {
    /// Watch while it transcodes: the transcoder's packets go straight into EVENT playlists;
    /// when master.m3u8 first appears, the transcode is still running (the rungs' playlists are
    /// open EVENT playlists with fewer segments than at the end) and the first segment of every
    /// rung already decodes; at the end the playlists are VOD, rungs are aligned on the sink's
    /// segment length, and real players accept the result.
    @Test func transcodeIntoGrowingHLS() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("src.mp4")
        try await makeTestMP4(source, seconds: 12, size: "640x360")
        let rungs = [
            Rendition(name: "360p", width: 640, height: 360, videoBitRate: 600_000, audioBitRate: 96_000),
            Rendition(name: "180p", width: 320, height: 180, videoBitRate: 200_000, audioBitRate: 96_000),
        ]
        // The one segment length: the sink's configuration, which the transcoder takes as its keyframe spacing.
        let sink = HLSSink(store: fixture.store, directory: "watch", configuration: HLSConfiguration(segmentDuration: .seconds(2), mode: .event),
                           logger: testLogger)
        #expect(sink.keyframeInterval == .seconds(2))
        let scratch = fixture.dir
        let root = fixture.root
        let firstPlayable = Mutex<(openPlaylists: [MediaPlaylist], decodeErrors: [String])?>(nil)
        await sink.onFirstPlayable {
            // At this moment every rung listed in the master has a first segment; decode each one,
            // and read each rung's playlist as a player would now.
            var errors: [String] = []
            var open: [MediaPlaylist] = []
            let masterText = (try? String(contentsOf: root.appendingPathComponent("watch/master.m3u8"), encoding: .utf8)) ?? ""
            let master = try? MasterPlaylist(parsing: masterText)
            for variant in master?.variants ?? [] {
                let playlistURL = root.appendingPathComponent("watch").appendingPathComponent(variant.uri)
                if let text = try? String(contentsOf: playlistURL, encoding: .utf8), let playlist = try? MediaPlaylist(parsing: text) {
                    open.append(playlist)
                } else {
                    errors.append("\(variant.uri): no readable media playlist yet")
                }
                let dir = playlistURL.deletingLastPathComponent()
                let joined = scratch.path("first-\(UUID().uuidString).mp4")
                do {
                    try concatenate([dir.appendingPathComponent("init.mp4").path, dir.appendingPathComponent("seg_00000.m4s").path], to: joined)
                    let result = try await run(["ffmpeg", "-v", "error", "-nostdin", "-i", joined, "-f", "null", "-"])
                    if result.status != 0 || !result.stderr.isEmpty { errors.append("\(variant.uri): \(result.stderr)") }
                } catch {
                    errors.append("\(variant.uri): \(error)")
                }
            }
            if master?.variants.count != 2 { errors.append("master has \(master?.variants.count ?? 0) variants") }
            firstPlayable.withLock { $0 = (open, errors) }
        }
        let transcoder = Transcoder(logger: testLogger)
        let transcode = try await transcoder.transcode(input: URL(fileURLWithPath: source), renditions: rungs, sink: sink)

        let first = try #require(firstPlayable.withLock { $0 }, "master.m3u8 never appeared during the transcode")
        #expect(first.decodeErrors == [])
        // Still growing when the master appeared: EVENT, no ENDLIST, not all 6 segments yet.
        #expect(first.openPlaylists.count == 2)
        for playlist in first.openPlaylists {
            #expect(playlist.playlistType == .event && !playlist.endList)
            #expect(!playlist.segments.isEmpty && playlist.segments.count < 6, "\(playlist.segments.count) segments listed at first")
        }

        let result = try #require(await sink.result)
        let video = result.renditions.filter(\.hasVideo)
        #expect(video.count == 2)
        #expect(video[0].segmentStarts == video[1].segmentStarts, "rungs are not aligned")
        #expect(video[0].segmentStarts.count == 6)
        // Cut where the transcoder put its keyframes: every 2 s.
        #expect(video[0].segmentDurations.dropLast().allSatisfy { abs($0.inSeconds - 2) < 0.001 }, "\(video[0].segmentDurations)")
        #expect(transcode.keyframeTimes.count == 6)
        #expect(result.renditions.count == 3, "one shared audio rendition: \(result.renditions.map(\.directory))")
        #expect(result.master.media.count == 1)
        #expect(result.master.variants.allSatisfy { $0.audio == result.master.media[0].groupID })
        #expect(transcode.renditions.count == 2)
        for rendition in result.renditions {
            let playlist = try MediaPlaylist(parsing: try await fixture.text(rendition.playlistKey))
            #expect(playlist.playlistType == .vod && playlist.endList)
            try await checkFMP4Rendition(fixture.root.appendingPathComponent(rendition.directory), playlist: playlist, scratch: fixture.dir,
                                   hasVideo: rendition.hasVideo)
        }
        #expect(try await checkAllPlaylists(fixture.root) == [])
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("watch/master.m3u8")) == "")
        let gst = try await gstreamerPlay(server.url("watch/master.m3u8"))
        #expect(gst.status == 0, "GStreamer failed: \(gst.stderr)")
    }

    /// Short opening segments: with 4-second segments and opening boundaries at 1 s and 2 s, the
    /// transcoder forces keyframes there too, the master appears when every rung has its 1-second
    /// first segment (the transcode still running), the open playlists already say
    /// `TARGETDURATION:4` (it must not change between reloads) and pass m3u8's strict parser, and
    /// the segments read back with ffprobe start at keyframes at 0, 1, 2, 4 and 8 s on every rung.
    @Test func shortOpeningSegmentsAreCutWhereTheTranscoderPutKeyframes() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("src.mp4")
        try await makeTestMP4(source, seconds: 10, size: "640x360", rate: 30)
        let rungs = [
            Rendition(name: "360p", width: 640, height: 360, videoBitRate: 600_000, audioBitRate: 96_000),
            Rendition(name: "180p", width: 320, height: 180, videoBitRate: 200_000, audioBitRate: 96_000),
        ]
        let configuration = HLSConfiguration(segmentDuration: .seconds(4), mode: .event,
                                             openingBoundaries: [.seconds(1), .seconds(2), .seconds(6)])
        let sink = HLSSink(store: fixture.store, directory: "watch", configuration: configuration, logger: testLogger)
        #expect(sink.keyframeInterval == .seconds(4))
        // 6 s is past the first regular boundary: ignored, so the grid stays at multiples of 4 s.
        #expect(sink.openingKeyframes == [.seconds(1), .seconds(2)])
        let root = fixture.root
        let scratch = fixture.dir
        let atFirstPlayable = Mutex<[(uri: String, text: String)]?>(nil)
        await sink.onFirstPlayable {
            let master = try? MasterPlaylist(parsing: (try? String(contentsOf: root.appendingPathComponent("watch/master.m3u8"), encoding: .utf8)) ?? "")
            var open: [(uri: String, text: String)] = []
            for uri in (master?.variants.map(\.uri) ?? []) + (master?.media.compactMap(\.uri) ?? []) {
                let text = (try? String(contentsOf: root.appendingPathComponent("watch").appendingPathComponent(uri), encoding: .utf8)) ?? ""
                open.append((uri, text))
            }
            atFirstPlayable.withLock { $0 = open }
        }
        let transcode = try await Transcoder(logger: testLogger).transcode(input: URL(fileURLWithPath: source), renditions: rungs, sink: sink)
        // The keyframes as the transcoder saw them go out.
        #expect(transcode.keyframeTimes.map { ($0.inSeconds * 1000).rounded() / 1000 } == [0, 1, 2, 4, 8])

        let open = try #require(atFirstPlayable.withLock { $0 }, "master.m3u8 never appeared during the transcode")
        #expect(open.count == 3, "two rungs and the shared audio: \(open.map(\.uri))")
        var openFiles: [String] = []
        for (index, playlist) in open.enumerated() {
            let parsed = try MediaPlaylist(parsing: playlist.text)
            // Playable one second in: the first segment is the 1-second opening one, the playlist still open.
            #expect(parsed.playlistType == .event && !parsed.endList, "\(playlist.uri)")
            #expect(parsed.segments.count < 5, "\(playlist.uri) listed \(parsed.segments.count) segments at first")
            let first = try #require(parsed.segments.first)
            #expect(abs(first.duration.inSeconds - 1) < 0.03, "\(playlist.uri) opens with \(first.duration)")
            #expect(parsed.targetDuration == 4, "\(playlist.uri) says TARGETDURATION \(parsed.targetDuration) at first")
            let file = scratch.path("open-\(index).m3u8")
            try playlist.text.write(toFile: file, atomically: true, encoding: .utf8)
            openFiles.append(file)
        }
        #expect(try await m3u8StrictFailures(openFiles) == [])

        let result = try #require(await sink.result)
        let video = result.renditions.filter(\.hasVideo)
        #expect(video.count == 2)
        #expect(video[0].segmentStarts == video[1].segmentStarts, "rungs are not aligned")
        for rendition in result.renditions {
            let playlist = try MediaPlaylist(parsing: try await fixture.text(rendition.playlistKey))
            #expect(playlist.targetDuration == 4)
            let durations = playlist.segments.map { ($0.duration.inSeconds * 10).rounded() / 10 }
            #expect(durations == [1, 1, 2, 4, 2], "\(rendition.directory): \(durations)")
            // Read back from the output: each segment starts with a keyframe, at the boundary
            // (shifted by the 1 s presentation offset), and its media spans its EXTINF.
            let starts = try await checkFMP4Rendition(fixture.root.appendingPathComponent(rendition.directory), playlist: playlist,
                                                      scratch: fixture.dir, hasVideo: rendition.hasVideo)
            if rendition.hasVideo {
                #expect(starts.map { ($0 * 1000).rounded() / 1000 } == [1, 2, 3, 5, 9], "\(rendition.directory): \(starts)")
            }
        }
        #expect(try await checkAllPlaylists(fixture.root) == [])
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("watch/master.m3u8")) == "")
        let gst = try await gstreamerPlay(server.url("watch/master.m3u8"))
        #expect(gst.status == 0, "GStreamer failed: \(gst.stderr)")
    }

    /// The remux path with FFmpeg's demuxer as the packet source: MKV (no dts on B-frames),
    /// MPEG-TS (Annex B H.264, ADTS AAC) and fragmented MP4 (which the Swift MP4 reader declines).
    @Test(arguments: ["mkv", "ts", "frag.mp4"])
    func remuxThroughFFmpegDemuxer(container: String) async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let mp4 = fixture.dir.path("in.mp4")
        try await makeTestMP4(mp4, seconds: 9, extra: ["-g", "50", "-sc_threshold", "0"])
        let input = fixture.dir.path("in.\(container)")
        let flags = container == "frag.mp4" ? ["-movflags", "frag_keyframe+empty_moov"] : []
        try await run(["ffmpeg", "-v", "error", "-y", "-i", mp4, "-c", "copy"] + flags + [input])
        // The FFmpeg demuxer is the packet source; the packager never links FFmpeg.
        let demuxer = try await Demuxer.open(URL(fileURLWithPath: input), logger: testLogger)
        let result = try await Remuxer.package(source: demuxer, store: fixture.store, directory: "r", logger: testLogger)
        #expect(result.renditions.count == 2)
        let media = try MediaPlaylist(parsing: try await fixture.text("r/video/index.m3u8"))
        #expect(media.segments.count == 3)
        try await checkFMP4Rendition(fixture.root.appendingPathComponent("r/video"), playlist: media, scratch: fixture.dir)
        #expect(result.master.variants.first?.codecs == "avc1.64000d,mp4a.40.2")
        #expect(try await checkAllPlaylists(fixture.root) == [])
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("r/master.m3u8")) == "")
        #expect(try await gstreamerPlay(server.url("r/master.m3u8")).status == 0)
    }
}
