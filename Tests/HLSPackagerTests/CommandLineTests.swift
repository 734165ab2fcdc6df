import Foundation
import HLSPackager
import Testing
import TestSupport

/// The `videostack` commands this module backs: `transcode --format hls` (the default) and `package`.
@Suite struct HLSCommandLineTests {
    var tool: String {
        get throws {
            let directory = Bundle.main.bundleURL.deletingLastPathComponent()
            let candidates = [directory, Bundle.main.executableURL?.deletingLastPathComponent()].compactMap { $0 }
                .map { $0.appendingPathComponent("videostack").path }
            return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                                "videostack is not built next to the tests; run swift build --build-tests")
        }
    }

    @Test func transcodeDefaultsToHLSAndPackageRemuxes() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let source = dir.path("in.mp4")
        try await makeTestMP4(source, seconds: 5, size: "426x240")

        let transcoded = try await run([try tool, "transcode", source, "--out", dir.path("t"), "--ladder", "240p"])
        #expect(transcoded.status == 0, "\(transcoded.stderr)")
        let packaged = try await run([try tool, "package", source, "--out", dir.path("p"), "--segment-format", "ts"])
        #expect(packaged.status == 0, "\(packaged.stderr)")
        for out in ["t", "p"] {
            let master = try MasterPlaylist(parsing: try String(contentsOfFile: dir.path("\(out)/master.m3u8"), encoding: .utf8))
            #expect(master.variants.count == 1)
            for variant in master.variants {
                let media = try MediaPlaylist(parsing: try String(contentsOfFile: dir.path("\(out)/\(variant.uri)"), encoding: .utf8))
                #expect(media.playlistType == .vod && media.endList)
            }
            #expect(try await checkAllPlaylists(dir.url.appendingPathComponent(out)) == [])
            let server = try HTTPServer(directory: dir.url.appendingPathComponent(out))
            defer { server.stop() }
            #expect(try await ffmpegPlaybackWarnings(server.url("master.m3u8")) == "")
        }
        #expect(FileManager.default.fileExists(atPath: dir.path("t/poster.jpg")))
        #expect(FileManager.default.fileExists(atPath: dir.path("p/video/seg_00000.ts")))

        let bad = try await run([try tool, "package", dir.path("missing.mp4"), "--out", dir.path("x")])
        #expect(bad.status != 0)
        #expect(bad.stderr.hasPrefix("videostack: "))
    }
}
