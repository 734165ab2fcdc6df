import Foundation
import Testing
import TestSupport

/// Runs the `videostack` executable built next to the test bundle.
@Suite struct CommandLineTests {
    private var tool: String {
        get throws {
            let directory = Bundle.main.bundleURL.deletingLastPathComponent()
            let candidates = [directory, Bundle.main.executableURL?.deletingLastPathComponent()].compactMap { $0 }
                .map { $0.appendingPathComponent("videostack").path }
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
                throw TestFailure(message: "videostack is not built next to the tests (looked at \(candidates)); run swift build --build-tests")
            }
            return found
        }
    }

    @Test func probeJSON() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 2, size: "320x240", rate: "25")
            let output = try await run(try tool, ["probe", clip.path, "--json"])
            let json = try #require(try JSONSerialization.jsonObject(with: output.stdout) as? [String: Any])
            #expect((json["format"] as? String)?.contains("mp4") == true)
            #expect(abs((json["duration"] as? Double ?? 0) - 2) < 0.1)
            let streams = try #require(json["streams"] as? [[String: Any]])
            let video = try #require(streams.first { $0["type"] as? String == "video" })
            #expect(video["codec"] as? String == "h264")
            #expect(video["width"] as? Int == 320 && video["height"] as? Int == 240)
            #expect(video["frameRate"] as? Double == 25)
            let audio = try #require(streams.first { $0["type"] as? String == "audio" })
            #expect(audio["codec"] as? String == "aac")
            #expect(audio["sampleRate"] as? Int == 44100 && audio["channels"] as? Int == 1)
        }
    }

    @Test func transcodeWritesOneMP4PerRenditionNamedByHeight() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 2, size: "640x360")
            let out = directory.appendingPathComponent("out")
            let result = try await run(try tool, ["transcode", clip.path, "--out", out.path, "--ladder", "360p,240p", "--format", "mp4"])
            #expect(result.status == 0)
            let files = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
            #expect(files.isSuperset(of: ["360p.mp4", "240p.mp4", "poster.jpg", "sprite.jpg", "storyboard.vtt"]))
            let streams = try await ffprobeStreams(out.appendingPathComponent("240p.mp4"))
            #expect(streams.first { $0["codec_type"] as? String == "video" }?["height"] as? Int == 240)
            // Not a terminal: plain progress lines, not a redrawn bar.
            #expect(result.stderr.contains("progress 100%"))
            #expect(!result.stderr.contains("\r"))
        }
    }

    /// The real-world report: a Matroska file (MPEG-4 Part 2, AAC) that transcoded to 100% and
    /// then failed seeking for the poster. Written by ffmpeg to a pipe, it has no cues and no duration.
    @Test func publishesMatroskaThatCannotSeek() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("upload.mkv")
            let made = try await run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3",
                                          "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=3",
                                          "-c:v", "mpeg4", "-c:a", "aac", "-f", "matroska", "-"])
            try made.stdout.write(to: clip)
            let out = directory.appendingPathComponent("out")
            let result = try await run(try tool, ["transcode", clip.path, "--out", out.path, "--ladder", "240p"], check: false)
            #expect(result.status == 0, "\(result.stderr)")
            let files = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
            #expect(files.isSuperset(of: ["master.m3u8", "poster.jpg", "sprite.jpg", "storyboard.vtt"]), "\(files.sorted())")
            #expect(try await ffprobeStreams(out.appendingPathComponent("poster.jpg")).first?["codec_name"] as? String == "mjpeg")
            let vtt = try String(contentsOf: out.appendingPathComponent("storyboard.vtt"), encoding: .utf8)
            #expect(vtt.hasPrefix("WEBVTT") && vtt.contains("sprite.jpg#xywh=0,0,"))
        }
    }

    @Test func failsWithOneLineReason() async throws {
        try await withTemporaryDirectory { directory in
            let text = directory.appendingPathComponent("notes.bin")
            try Data("hello, this is not a video\n".utf8).write(to: text)
            for arguments in [["probe", text.path], ["transcode", text.path, "--out", directory.appendingPathComponent("o").path],
                              ["probe", directory.appendingPathComponent("missing.mp4").path]] {
                let result = try await run(try tool, arguments, check: false)
                #expect(result.status != 0)
                let lines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("progress") }
                #expect(lines.count == 1, "\(result.stderr)")
                #expect(lines.first?.hasPrefix("videostack: ") == true)
            }
        }
    }
}
