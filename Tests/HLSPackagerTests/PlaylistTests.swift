import Foundation
import HLSPackager
import Testing
import TestSupport
import VideoCore

@Suite struct PlaylistTests {
    static let sampleMedia = MediaPlaylist(
        targetDuration: 5, mediaSequence: 0, playlistType: .vod, independentSegments: true, endList: true,
        segments: [
            MediaSegment(uri: "seg_00000.m4s", duration: .milliseconds(4004), map: MediaInitializationSection(uri: "init.mp4"),
                         programDateTime: Date(timeIntervalSince1970: 1_790_000_000)),
            MediaSegment(uri: "seg_00001.m4s", duration: .milliseconds(3900), title: "second, with comma"),
            MediaSegment(uri: "seg_00002.m4s", duration: .milliseconds(4500), discontinuity: true,
                         map: MediaInitializationSection(uri: "init2.mp4"), programDateTime: Date(timeIntervalSince1970: 1_790_000_100.25)),
        ])

    static let sampleByteRange = MediaPlaylist(
        targetDuration: 4, playlistType: .vod, endList: true,
        segments: [
            MediaSegment(uri: "main.mp4", duration: .seconds(4), byteRange: ByteRange(length: 1000, offset: 700),
                         map: MediaInitializationSection(uri: "main.mp4", byteRange: ByteRange(length: 700, offset: 0))),
            MediaSegment(uri: "main.mp4", duration: .seconds(4), byteRange: ByteRange(length: 1200, offset: nil)),
            MediaSegment(uri: "main.mp4", duration: .milliseconds(2500), byteRange: ByteRange(length: 300, offset: 2900)),
        ])

    static let sampleLive = MediaPlaylist(
        targetDuration: 4, mediaSequence: 1234, discontinuitySequence: 7,
        segments: [
            MediaSegment(uri: "seg_01234.m4s", duration: .seconds(4), map: MediaInitializationSection(uri: "init.mp4")),
            MediaSegment(uri: "seg_01235.m4s", duration: .seconds(4), discontinuity: true, map: MediaInitializationSection(uri: "init.mp4")),
        ])

    static let sampleMaster = MasterPlaylist(
        version: 6, independentSegments: true,
        media: [
            AlternativeMedia(type: .audio, groupID: "aac", name: "English", uri: "audio/index.m3u8", language: "en",
                             isDefault: true, autoselect: true, channels: "2"),
            AlternativeMedia(type: .closedCaptions, groupID: "cc", name: "CC1", instreamID: "CC1"),
        ],
        variants: [
            VariantStream(uri: "720p/index.m3u8", bandwidth: 3_200_000, averageBandwidth: 2_800_000, codecs: "avc1.64001f,mp4a.40.2",
                          resolution: Resolution(width: 1280, height: 720), frameRate: 29.97, audio: "aac", closedCaptions: "cc"),
            VariantStream(uri: "360p/index.m3u8", bandwidth: 900_000, codecs: "avc1.42c01e,mp4a.40.2",
                          resolution: Resolution(width: 640, height: 360), frameRate: 25, audio: "aac", closedCaptions: "NONE"),
        ],
        iFrameStreams: [
            IFrameStream(uri: "720p/iframes.m3u8", bandwidth: 200_000, averageBandwidth: 150_000, codecs: "avc1.64001f",
                         resolution: Resolution(width: 1280, height: 720)),
        ])

    @Test func mediaPlaylistRoundTrips() throws {
        for playlist in [Self.sampleMedia, Self.sampleByteRange, Self.sampleLive] {
            let text = try playlist.render()
            let parsed = try MediaPlaylist(parsing: text)
            #expect(parsed == playlist, "round trip changed the playlist:\n\(text)")
        }
        #expect(Self.sampleMedia.version == 6, "EXT-X-MAP needs version 6")
        #expect(Self.sampleByteRange.version == 6)
        var iframes = Self.sampleByteRange
        iframes.iFramesOnly = true
        #expect(iframes.requiredVersion == 5, "I-frames-only with EXT-X-MAP needs version 5")
        #expect(MediaPlaylist(targetDuration: 4, segments: [MediaSegment(uri: "a.ts", duration: .seconds(4))]).version == 1)
        #expect(MediaPlaylist(targetDuration: 4, segments: [MediaSegment(uri: "a.ts", duration: .milliseconds(3500))]).version == 3)
    }

    /// Chromium plays a playlist without `EXT-X-MEDIA-SEQUENCE` as finished VOD: one that can
    /// still grow names its first sequence number even when it is 0; a finished one need not.
    @Test func aGrowingPlaylistAlwaysNamesItsMediaSequence() throws {
        let first = MediaSegment(uri: "seg_00000.m4s", duration: .seconds(2), map: MediaInitializationSection(uri: "init.mp4"))
        let live = try MediaPlaylist(targetDuration: 2, segments: [first]).render()
        #expect(live.contains("#EXT-X-MEDIA-SEQUENCE:0\n"))
        let event = try MediaPlaylist(targetDuration: 2, playlistType: .event, segments: [first]).render()
        #expect(event.contains("#EXT-X-MEDIA-SEQUENCE:0\n"))
        let finished = try MediaPlaylist(targetDuration: 2, playlistType: .vod, endList: true, segments: [first]).render()
        #expect(!finished.contains("MEDIA-SEQUENCE"))
    }

    @Test func masterPlaylistRoundTrips() throws {
        let text = try Self.sampleMaster.render()
        #expect(try MasterPlaylist(parsing: text) == Self.sampleMaster, "round trip changed the playlist:\n\(text)")
        #expect(text.contains("FRAME-RATE=29.970"))
        #expect(text.contains("CLOSED-CAPTIONS=NONE"))
    }

    @Test func writtenPlaylistsPassPythonM3U8Strict() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        var files: [String] = []
        for (index, playlist) in [Playlist.media(Self.sampleMedia), .media(Self.sampleByteRange), .media(Self.sampleLive),
                                  .master(Self.sampleMaster)].enumerated() {
            let path = dir.path("p\(index).m3u8")
            try Data(try playlist.render().utf8).write(to: URL(fileURLWithPath: path))
            files.append(path)
        }
        #expect(try await m3u8StrictFailures(files) == [])
    }

    @Test(arguments: [
        ("#EXTM3U\n#EXTINF:4,\na.ts\n", "TARGETDURATION"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:5.6,\na.ts\n", "rounds to more than"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-TARGETDURATION:4\n", "more than once"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\u{01}\na.ts\n", "control character"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:99999999999999999999999\n", "fits in 63 bits"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\na.ts\n", "not preceded by EXTINF"),
        ("#EXTM3U\n#EXT-X-VERSION:2\n#EXT-X-TARGETDURATION:4\n#EXTINF:3.5,\na.ts\n", "need version 3"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n", "not followed by a segment URI"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", "mixes master"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,BANDWIDTH=2\na.m3u8\n", "appears twice"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"avc1\"\na.m3u8\n", "BANDWIDTH is missing"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"a\"\na.m3u8\n", "no EXT-X-MEDIA"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-BYTERANGE:100\n#EXTINF:4,\na.ts\n", "same URI"),
        ("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n#EXTINF:4,\na.ts\n", "ISO 8601"),
        ("EXTM3U\n", "exactly #EXTM3U"),
        ("", "empty"),
    ])
    func rejectsMalformed(text: String, expected: String) {
        do {
            let playlist = try Playlist.parse(text)
            Issue.record("accepted malformed playlist as \(playlist)")
        } catch let error as VideoStackError {
            #expect(error.code == .invalidPlaylist)
            #expect(error.message.contains(expected), "message '\(error.message)' does not mention '\(expected)'")
        } catch {
            Issue.record("untyped error \(error)")
        }
    }

    @Test func rejectsByteOrderMarkAndInvalidUTF8() {
        #expect(throws: VideoStackError.self) { try Playlist.parse(bytes: [0xEF, 0xBB, 0xBF] + Array("#EXTM3U\n".utf8)) }
        #expect(throws: VideoStackError.self) { try Playlist.parse(bytes: Array("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,".utf8) + [0xFF, 0x0A]) }
    }

    @Test func unknownTagsAreIgnoredAndKeysRefused() throws {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-SOMETHING-NEW:1\n# a comment\n\n#EXTINF:4,\na.ts\n"
        let playlist = try MediaPlaylist(parsing: text)
        #expect(playlist.segments.map(\.uri) == ["a.ts"])
        #expect(throws: VideoStackError.self) {
            try Playlist.parse("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n#EXTINF:4,\na.ts\n")
        }
    }

    @Test func renderRefusesValuesThatCannotBeWritten() {
        let bad = MediaPlaylist(targetDuration: 4, segments: [MediaSegment(uri: "a\nb.ts", duration: .seconds(4))])
        #expect(throws: VideoStackError.self) { try bad.render() }
        let badQuote = MasterPlaylist(variants: [VariantStream(uri: "a.m3u8", bandwidth: 1, codecs: "avc1\"")])
        #expect(throws: VideoStackError.self) { try badQuote.render() }
        let negative = MediaPlaylist(targetDuration: 4, segments: [MediaSegment(uri: "a.ts", duration: .seconds(-1))])
        #expect(throws: VideoStackError.self) { try negative.render() }
    }

    /// Thousands of seeded mutations of valid playlists: the parser must return a model or a
    /// typed error, never crash; and whatever it accepts must render and parse back unchanged.
    @Test func mutatedPlaylistCorpusNeverCrashes() throws {
        let seeds = try [Self.sampleMedia.render(), Self.sampleByteRange.render(), Self.sampleLive.render(), Self.sampleMaster.render()]
        var generator = SeededGenerator(seed: 0x5EED_4115)
        let insertions = ["99999999999999999999999999", "-1", "18446744073709551616", "\u{00}", "\u{1B}", "\u{7F}", "\r",
                          "\"", ",", "=", "@", "#EXT-X-ENDLIST", "#EXT-X-TARGETDURATION:1", "#EXTINF:", "1e309", "nan", "0x10",
                          "#EXT-X-MAP:URI=", "#EXT-X-STREAM-INF:BANDWIDTH=", "é", "\u{FEFF}"]
        var accepted = 0, rejected = 0
        for iteration in 0..<6000 {
            var bytes = Array(seeds[iteration % seeds.count].utf8)
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                mutate(&bytes, insertions: insertions, using: &generator)
            }
            do {
                let playlist = try Playlist.parse(bytes: bytes)
                accepted += 1
                let again = try Playlist.parse(try playlist.render())
                #expect(again == playlist, "re-rendering changed an accepted playlist:\n\(String(decoding: bytes, as: UTF8.self))")
            } catch let error as VideoStackError {
                #expect(error.code == .invalidPlaylist || error.code == .unsupported || error.code == .invalidInput,
                        "unexpected code \(error.code)")
                #expect(!error.message.isEmpty)
                rejected += 1
            }
        }
        // Both outcomes must occur, or the mutations are too weak (or the parser accepts everything).
        #expect(accepted > 100)
        #expect(rejected > 1000)
    }

    private func mutate(_ bytes: inout [UInt8], insertions: [String], using generator: inout SeededGenerator) {
        guard !bytes.isEmpty else { bytes = Array("#EXTM3U".utf8); return }
        let position = Int.random(in: 0..<bytes.count, using: &generator)
        switch Int.random(in: 0..<8, using: &generator) {
        case 0: bytes.removeSubrange(position...)
        case 1: bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &generator)
        case 2: bytes[position] = UInt8.random(in: 0...255, using: &generator)
        case 3, 4: bytes.insert(contentsOf: Array(insertions.randomElement(using: &generator)!.utf8), at: position)
        case 5:
            // Duplicate one whole line.
            let lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            let line = lines[Int.random(in: 0..<lines.count, using: &generator)]
            bytes.insert(contentsOf: Array(line) + [0x0A], at: bytes[..<position].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
        case 6:
            // Drop the value of a tag: cut from a ':' to the end of its line.
            if let colon = bytes[position...].firstIndex(of: 0x3A) {
                let end = bytes[colon...].firstIndex(of: 0x0A) ?? bytes.count
                bytes.removeSubrange((colon + 1)..<end)
            }
        default:
            // Replace a run of digits with a huge number.
            if let digit = bytes[position...].firstIndex(where: { (0x30...0x39).contains($0) }) {
                let end = bytes[digit...].firstIndex(where: { !(0x30...0x39).contains($0) }) ?? bytes.count
                bytes.replaceSubrange(digit..<end, with: Array("9223372036854775807".utf8))
            }
        }
    }
}
