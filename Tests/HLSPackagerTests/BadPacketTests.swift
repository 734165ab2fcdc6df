import Foundation
import HLSPackager
import Testing
import VideoCore
import TestSupport

@Suite struct BadPacketTests {
    static let video = TrackFormat(kind: .video, codec: "h264", extradata: [], timescale: 25, width: 320, height: 240)

    /// A real keyframe access unit (Annex B with SPS/PPS) from a raw H.264 stream made by ffmpeg.
    static func rawFrames(_ dir: TemporaryDirectory) async throws -> [(data: [UInt8], key: Bool)] {
        let path = dir.path("raw.h264")
        let result = try await run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3",
                              "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "25", "-pix_fmt", "yuv420p", "-f", "h264", path])
        try #require(result.status == 0, "\(result.stderr)")
        return AnnexBReader.accessUnits(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func packager(_ fixture: StoreFixture, _ configuration: HLSConfiguration = HLSConfiguration()) throws -> RenditionPackager {
        try RenditionPackager(store: fixture.store, directory: "bad", tracks: [Self.video], configuration: configuration, logger: testLogger)
    }

    func expectInvalidPackets(_ body: () async throws -> Void, mentioning text: String) async {
        do {
            try await body()
            Issue.record("no error")
        } catch let error as VideoStackError {
            #expect(error.code == .invalidPackets)
            #expect(error.message.contains(text), "message: \(error.message)")
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func rejectsPacketsWithoutTimestamps() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let frames = try await Self.rawFrames(fixture.dir)
        let packager = try packager(fixture)
        await expectInvalidPackets({
            try await packager.append(EncodedPacket(data: frames[0].data, pts: .min, dts: .min, duration: 1, isKeyframe: true), track: 0)
        }, mentioning: "no timestamp")
    }

    @Test func rejectsNonMonotonicTimestamps() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let frames = try await Self.rawFrames(fixture.dir)
        let packager = try packager(fixture)
        try await packager.append(EncodedPacket(data: frames[0].data, pts: 5, dts: 5, duration: 1, isKeyframe: true), track: 0)
        try await packager.append(EncodedPacket(data: frames[1].data, pts: 6, dts: 6, duration: 1, isKeyframe: false), track: 0)
        await expectInvalidPackets({
            try await packager.append(EncodedPacket(data: frames[2].data, pts: 6, dts: 6, duration: 1, isKeyframe: false), track: 0)
        }, mentioning: "strictly increase")
        await expectInvalidPackets({
            try await packager.append(EncodedPacket(data: frames[2].data, pts: 7, dts: 9, duration: 1, isKeyframe: false), track: 0)
        }, mentioning: "before it is decoded")
    }

    @Test func leadingNonKeyframesAreRejectedOrDropped() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let frames = try await Self.rawFrames(fixture.dir)
        #expect(frames[0].key && !frames[1].key)
        let strict = try packager(fixture)
        await expectInvalidPackets({
            try await strict.append(EncodedPacket(data: frames[1].data, pts: 1, dts: 1, duration: 1, isKeyframe: false), track: 0)
        }, mentioning: "not a keyframe")

        // Repair: start mid-GOP, drop up to the next keyframe (frame 25), then package the rest.
        let unsized = TrackFormat(kind: .video, codec: "h264", extradata: [], timescale: 25)
        let lenient = try RenditionPackager(store: fixture.store, directory: "bad", tracks: [unsized],
                                            configuration: HLSConfiguration(segmentDuration: .seconds(2), leadingNonKeyframes: .drop), logger: testLogger)
        for (index, frame) in frames.enumerated().dropFirst(3) {
            try await lenient.append(EncodedPacket(data: frame.data, pts: Int64(index), dts: Int64(index), duration: 0, isKeyframe: frame.key), track: 0)
        }
        let summary = try await lenient.finish()
        // The size came from the SPS: this test's track format says 0x0.
        #expect(summary.video?.width == 320 && summary.video?.height == 240)
        #expect(summary.segmentStarts.first == .seconds(1), "the first segment starts at the first keyframe (frame 25 = 1 s)")
        let playlist = try MediaPlaylist(parsing: try await fixture.text("bad/index.m3u8"))
        // duration 0 on every packet is repaired from the dts gaps: 50 frames = 2 s remain.
        #expect(abs(playlist.totalDuration.inSeconds - 2) < 0.001)
        // The avcC came from the SPS/PPS inside the keyframe, since extradata was empty.
        try await checkFMP4Rendition(fixture.root.appendingPathComponent("bad"), playlist: playlist, scratch: fixture.dir)
        let server = try HTTPServer(directory: fixture.root)
        defer { server.stop() }
        #expect(try await ffmpegPlaybackWarnings(server.url("bad/index.m3u8")) == "")
    }

    @Test func rejectsBadConfiguration() async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        #expect(throws: VideoStackError.self) { try packager(fixture, HLSConfiguration(segmentDuration: .milliseconds(500))) }
        #expect(throws: VideoStackError.self) { try packager(fixture, HLSConfiguration(mode: .event, singleFile: true)) }
        #expect(throws: VideoStackError.self) { try packager(fixture, HLSConfiguration(mode: .live(windowSize: 1))) }
        // Opening segments shorter than half a second, or boundaries out of order.
        for opening: [Duration] in [[.milliseconds(200)], [.seconds(2), .seconds(1)], [.seconds(1), .milliseconds(1200)], [.zero]] {
            #expect(throws: VideoStackError.self, "\(opening)") { try packager(fixture, HLSConfiguration(openingBoundaries: opening)) }
        }
        #expect(throws: Never.self) { try HLSConfiguration(openingBoundaries: [.seconds(1), .seconds(2)]).validate() }
        let vp9 = TrackFormat(kind: .video, codec: "vp9", extradata: [], timescale: 1000)
        #expect(throws: VideoStackError.self) {
            try RenditionPackager(store: fixture.store, directory: "x", tracks: [vp9], logger: testLogger)
        }
        // No SPS anywhere: a typed error, not a crash.
        let noSPS = try self.packager(fixture)
        await expectInvalidPackets({
            try await noSPS.append(EncodedPacket(data: [0, 0, 0, 1, 0x65, 0x88, 0x84], pts: 0, dts: 0, duration: 1, isKeyframe: true), track: 0)
        }, mentioning: "no SPS/PPS")
        let empty = try self.packager(fixture)
        await expectInvalidPackets({ _ = try await empty.finish() }, mentioning: "No segment")
    }
}

/// A test-only splitter of an Annex B H.264 stream into access units (a new one starts at the
/// first slice of a picture, or at SPS/PPS/AUD/SEI after a slice).
enum AnnexBReader {
    static func accessUnits(_ data: [UInt8]) -> [(data: [UInt8], key: Bool)] {
        var starts: [Int] = []
        var index = 0
        while index + 3 <= data.count {
            if data[index] == 0, data[index + 1] == 0, data[index + 2] == 1 {
                starts.append(index + 3)
                index += 3
            } else {
                index += 1
            }
        }
        var units: [(data: [UInt8], key: Bool)] = []
        var current: [UInt8] = []
        var key = false
        var sawSlice = false
        for (n, start) in starts.enumerated() {
            var end = n + 1 < starts.count ? starts[n + 1] - 3 : data.count
            while end > start, data[end - 1] == 0 { end -= 1 }
            let type = data[start] & 0x1F
            let isSlice = type == 1 || type == 5
            let firstSliceOfPicture = isSlice && start + 1 < data.count && data[start + 1] & 0x80 != 0
            if sawSlice && (firstSliceOfPicture || [6, 7, 8, 9].contains(type)) {
                units.append((current, key))
                current = []
                key = false
                sawSlice = false
            }
            current += [0, 0, 0, 1] + data[start..<end]
            if isSlice { sawSlice = true }
            if type == 5 { key = true }
        }
        if !current.isEmpty { units.append((current, key)) }
        return units
    }
}

@Suite struct CodecParsingTests {
    /// Picture sizes read from the SPS, including the cropped 1080 (coded as 1088) and odd sizes.
    @Test(arguments: [(1920, 1080), (426, 240), (320, 180), (720, 576)])
    func sizeFromSPS(width: Int, height: Int) async throws {
        let fixture = try StoreFixture()
        defer { fixture.dir.cleanup() }
        let path = fixture.dir.path("one.h264")
        let result = try await run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(width)x\(height):rate=25:duration=0.2",
                              "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "h264", path])
        try #require(result.status == 0, "\(result.stderr)")
        let frames = AnnexBReader.accessUnits(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let packager = try RenditionPackager(store: fixture.store, directory: "s", tracks: [TrackFormat(kind: .video, codec: "h264", extradata: [], timescale: 25)],
                                             configuration: HLSConfiguration(iFramePlaylist: false), logger: testLogger)
        for (index, frame) in frames.enumerated() {
            try await packager.append(EncodedPacket(data: frame.data, pts: Int64(index), dts: Int64(index), duration: 1, isKeyframe: frame.key), track: 0)
        }
        let summary = try await packager.finish()
        #expect(summary.video?.width == width && summary.video?.height == height)
        let master = MasterPlaylist(renditions: [summary], directory: "")
        #expect(master.variants.first?.resolution == Resolution(width: width, height: height))
    }
}
