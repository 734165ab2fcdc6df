import Foundation
import HLSPackager
import Synchronization
import Testing
import VideoCore
import TestSupport

/// Feeds every track of the MP4 at `path` into `package`, rendition by rendition as `routes` says.
func feed(_ file: MP4File, into package: HLSPackage, routes: [Int: (Int, Int)]) async throws {
    for (track, packet) in file.packets() {
        guard let route = routes[track] else { continue }
        try await package.append(packet, rendition: route.0, track: route.1)
    }
}

@Suite struct PackagingModeTests {
    /// Two rungs encoded separately with keyframes forced every 2 s, plus a separate audio
    /// rendition: same segment count and boundaries on both rungs, and a master with both.
    @Test func ladderRungsAreAligned() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let keyframes = ["-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0"]
        try await makeTestMP4(fixture.dir.path("hi.mp4"), seconds: 11, size: "426x240", extra: keyframes + ["-b:v", "600k"])
        try await makeTestMP4(fixture.dir.path("lo.mp4"), seconds: 11, size: "256x144", extra: keyframes + ["-b:v", "150k"], audio: false)
        let hi = try MP4File(url: URL(fileURLWithPath: fixture.dir.path("hi.mp4")))
        let lo = try MP4File(url: URL(fileURLWithPath: fixture.dir.path("lo.mp4")))
        let hiVideo = hi.tracks.firstIndex { $0.format.kind == .video }!
        let hiAudio = hi.tracks.firstIndex { $0.format.kind == .audio }!
        let package = try HLSPackage(store: fixture.store, directory: "ladder", renditions: [
            RenditionSpec(name: "240p", tracks: [hi.tracks[hiVideo].format]),
            RenditionSpec(name: "144p", tracks: [lo.tracks[0].format]),
            RenditionSpec(name: "audio", tracks: [hi.tracks[hiAudio].format]),
        ], logger: testLogger)
        try await feed(hi, into: package, routes: [hiVideo: (0, 0), hiAudio: (2, 0)])
        try await feed(lo, into: package, routes: [0: (1, 0)])
        let result = try await package.finish()

        let rungs = result.renditions.prefix(2)
        #expect(rungs[0].segmentStarts.count == 3)
        #expect(rungs[0].segmentStarts == rungs[1].segmentStarts, "rung boundaries differ")
        #expect(rungs[0].segmentDurations == rungs[1].segmentDurations)
        #expect(rungs[0].peakBitRate > rungs[1].peakBitRate)
        for name in ["240p", "144p"] {
            let playlist = try MediaPlaylist(parsing: try await fixture.text("ladder/\(name)/index.m3u8"))
            let starts = try await checkFMP4Rendition(fixture.root.appendingPathComponent("ladder/\(name)"), playlist: playlist, scratch: fixture.dir)
            #expect(starts.map { (($0 - starts[0]) * 1000).rounded() } == [0, 4000, 8000])
        }
        let master = result.master
        #expect(master.variants.map(\.uri) == ["240p/index.m3u8", "144p/index.m3u8"])
        #expect(master.variants.map(\.resolution) == [Resolution(width: 426, height: 240), Resolution(width: 256, height: 144)])
        #expect(master.variants.allSatisfy { $0.audio == "audio" && $0.codecs?.hasSuffix(",mp4a.40.2") == true })
        #expect(master.iFrameStreams.count == 2)
        #expect(try await checkAllPlaylists(fixture.root) == [])

        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("ladder/master.m3u8")) == "")
        #expect(try await ffmpegPlaybackWarnings(server.url("ladder/144p/index.m3u8")) == "")
        let gst = try await gstreamerPlay(server.url("ladder/master.m3u8"))
        #expect(gst.status == 0, "GStreamer failed: \(gst.stderr)")
    }

    /// MPEG-TS segments (for old clients) and single-file byte-range mode both play.
    @Test(arguments: [(HLSConfiguration.SegmentFormat.mpegts, false), (.fmp4, true), (.mpegts, true)])
    func segmentFormatsPlay(format: HLSConfiguration.SegmentFormat, singleFile: Bool) async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("in.mp4")
        try await makeTestMP4(source, seconds: 9, extra: ["-g", "50", "-sc_threshold", "0"])
        let configuration = HLSConfiguration(segmentFormat: format, singleFile: singleFile, separateAudio: false)
        let result = try await Remuxer.package(file: URL(fileURLWithPath: source), store: fixture.store, directory: "out", configuration: configuration,
                                               logger: testLogger)
        #expect(try await checkAllPlaylists(fixture.root) == [])
        let media = try MediaPlaylist(parsing: try await fixture.text("out/stream/index.m3u8"))
        #expect(media.segments.count == 3)
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.root.appendingPathComponent("out/stream").path).sorted()
        let ext = format == .fmp4 ? "mp4" : "ts"
        if singleFile {
            #expect(files == ["iframes.m3u8", "index.m3u8", "media.\(ext)"], "files: \(files)")
            #expect(media.segments.allSatisfy { $0.uri == "media.\(ext)" && $0.byteRange != nil })
            // The ranges tile the file exactly.
            let size = try #require(try await fixture.store.metadata("out/stream/media.\(ext)")).size
            let initLength = media.segments[0].map?.byteRange?.length ?? 0
            #expect(Int64(initLength + media.segments.reduce(0) { $0 + $1.byteRange!.length }) == size)
        } else {
            #expect(files.filter { $0.hasSuffix(".ts") }.count == 3)
            // Every TS segment starts with a keyframe, as ffprobe sees it.
            for segment in media.segments {
                let packets = try await probePackets(fixture.root.appendingPathComponent("out/stream/\(segment.uri)").path)
                #expect(packets.first?.isKeyframe == true, "\(segment.uri) does not start with a keyframe")
                #expect(abs(packets.count - Int((segment.duration.inSeconds * 25).rounded())) <= 1)
            }
        }
        #expect(result.master.variants.first?.codecs == "avc1.64000d,mp4a.40.2")
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("out/master.m3u8")) == "")
        let gst = try await gstreamerPlay(server.url("out/master.m3u8"))
        #expect(gst.status == 0, "GStreamer failed: \(gst.stderr)")
        // The I-frame playlist's byte ranges hold decodable keyframes, one per segment. (With audio
        // muxed in, ffmpeg notes that the audio listed in the init/PMT has no packets there; nothing else.)
        let iFrameWarnings = try await ffmpegPlaybackWarnings(server.url("out/stream/iframes.m3u8"))
        #expect(iFrameWarnings.split(separator: "\n").allSatisfy { $0.contains("codec parameters for stream 1") || $0.contains("analyzeduration") },
                "\(iFrameWarnings)")
        let frames = try await run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames",
                              "-of", "csv=p=0", server.url("out/stream/iframes.m3u8")])
        #expect(frames.stdout.split(separator: "\n").first.flatMap { Int($0) } == media.segments.count, "\(frames.stdout) \(frames.stderr)")
        // Decoded duration matches the playlist.
        let probe = try await run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", server.url("out/stream/index.m3u8")])
        let duration = try #require(Double(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(abs(duration - media.totalDuration.inSeconds) < 0.1, "ffprobe says \(duration) s, playlist \(media.totalDuration)")
    }

    /// EVENT mode: the playlist grows one segment at a time without ENDLIST, every version is
    /// valid, the master appears as soon as each rendition has a segment, and the end is VOD.
    @Test func eventPlaylistGrowsThenBecomesVOD() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("in.mp4")
        try await makeTestMP4(source, seconds: 13, extra: ["-g", "25", "-sc_threshold", "0"])
        let file = try MP4File(url: URL(fileURLWithPath: source))
        let package = try HLSPackage(store: fixture.store, directory: "live", renditions: [
            RenditionSpec(name: "main", tracks: file.tracks.map(\.format)),
        ], configuration: HLSConfiguration(segmentDuration: .seconds(2), mode: .event), logger: testLogger)
        let snapshots = Mutex<[String]>([])
        let store = fixture.store
        await package.renditions[0].onPlaylistUpdate { _ in
            let text = (try? await store.get("live/main/index.m3u8")).map { String(decoding: $0, as: UTF8.self) } ?? ""
            snapshots.withLock { $0.append(text) }
        }
        let masterSeen = Mutex(false)
        await package.onFirstMasterPlaylist {
            let exists = (try? await store.metadata("live/master.m3u8")) != nil
            masterSeen.withLock { $0 = exists }
        }
        try await feed(file, into: package, routes: [0: (0, 0), 1: (0, 1)])
        let growing = snapshots.withLock { $0 }
        #expect(masterSeen.withLock { $0 })
        // Mid-stream: a valid EVENT playlist that a player can already open.
        #expect(growing.count >= 5)
        var previous = 0
        for text in growing {
            let playlist = try MediaPlaylist(parsing: text)
            #expect(playlist.playlistType == .event && !playlist.endList)
            #expect(playlist.segments.count == previous + 1)
            previous = playlist.segments.count
        }
        _ = try await package.finish()
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        let final = try MediaPlaylist(parsing: try await fixture.text("live/main/index.m3u8"))
        #expect(final.playlistType == .vod && final.endList)
        #expect(final.segments.count == previous + 1)
        #expect(try await checkAllPlaylists(fixture.root) == [])
        #expect(try await ffmpegPlaybackWarnings(server.url("live/master.m3u8")) == "")
        #expect(try await gstreamerPlay(server.url("live/master.m3u8")).status == 0)
    }

    /// Live mode: a sliding window of 3 segments; MEDIA-SEQUENCE counts the segments that slid
    /// out and DISCONTINUITY-SEQUENCE the discontinuities among them. PROGRAM-DATE-TIME advances by EXTINF.
    @Test func liveWindowSlides() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let source = fixture.dir.path("in.mp4")
        try await makeTestMP4(source, seconds: 6, extra: ["-g", "25", "-sc_threshold", "0"], audio: false)
        let file = try MP4File(url: URL(fileURLWithPath: source))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let packager = try RenditionPackager(store: fixture.store, directory: "tv", tracks: [file.tracks[0].format],
                                             configuration: HLSConfiguration(segmentDuration: .seconds(2), mode: .live(windowSize: 3), programDateTime: start),
                                             logger: testLogger)
        // The same 6 s clip three times, each after a discontinuity (timestamps restart).
        for round in 0..<3 {
            if round > 0 { try await packager.discontinuity() }
            for (_, packet) in file.packets() { try await packager.append(packet, track: 0) }
        }
        _ = try await packager.finish()
        let playlist = try MediaPlaylist(parsing: try await fixture.text("tv/index.m3u8"))
        // 3 rounds × 3 segments = 9; the window keeps the last 3, so 6 slid out, of which
        // the first segments of rounds 2 (index 3) carried a discontinuity.
        #expect(playlist.segments.count == 3)
        #expect(playlist.mediaSequence == 6)
        #expect(playlist.discontinuitySequence == 1)
        #expect(playlist.segments[0].discontinuity, "round 3 starts the window with its discontinuity")
        #expect(playlist.segments.map(\.uri) == ["seg_00006.m4s", "seg_00007.m4s", "seg_00008.m4s"])
        #expect(playlist.playlistType == nil && playlist.endList)
        let dates = playlist.segments.compactMap(\.programDateTime)
        #expect(dates.count == 3)
        #expect(abs(dates[0].timeIntervalSince(start) - 12) < 0.002)
        #expect(abs(dates[1].timeIntervalSince(dates[0]) - playlist.segments[0].duration.inSeconds) < 0.002)
        // Old segments leave the store once they are a full window behind.
        #expect(try await fixture.store.metadata("tv/seg_00000.m4s") == nil)
        #expect(try await fixture.store.metadata("tv/seg_00006.m4s") != nil)
        #expect(try await checkAllPlaylists(fixture.root) == [])
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("tv/index.m3u8")) == "")
    }
}
