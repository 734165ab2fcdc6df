import Foundation
import Testing
import TestSupport
import TranscodePipeline
import VideoCore

/// Each kind of bad upload gets a typed error or a report, never a crash or a hang.
@Suite struct BadInputTests {
    private func transcodeError(_ url: URL, renditions: [Rendition] = [Ladder.standard.renditions[4]], in directory: URL)
        async throws -> VideoStackError {
        let out = directory.appendingPathComponent("out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let sink = try MP4FileSink(directory: out, logger: testLogger)
        do {
            _ = try await Transcoder(logger: testLogger).transcode(input: url, renditions: renditions, sink: sink)
        } catch let error as VideoStackError {
            return error
        }
        Issue.record("the transcode of \(url.lastPathComponent) succeeded")
        throw TestFailure(message: "no error")
    }

    private func probeError(_ url: URL) async throws -> VideoStackError {
        do {
            _ = try await MediaProbe.probe(url, logger: testLogger)
        } catch let error as VideoStackError {
            return error
        }
        Issue.record("probing \(url.lastPathComponent) succeeded")
        throw TestFailure(message: "no error")
    }

    @Test func emptyFile() async throws {
        try await withTemporaryDirectory { directory in
            let empty = directory.appendingPathComponent("empty.mp4")
            try Data().write(to: empty)
            let error = try await probeError(empty)
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("empty"))
            let checked1 = try await transcodeError(empty, in: directory)
            #expect(checked1.code == .invalidInput)
        }
    }

    @Test func missingFile() async throws {
        try await withTemporaryDirectory { directory in
            let checked2 = try await probeError(directory.appendingPathComponent("nothing.mp4"))
            #expect(checked2.code == .notFound)
        }
    }

    @Test func textFiles() async throws {
        try await withTemporaryDirectory { directory in
            let text = String(repeating: "This is a shopping list, not a video.\n", count: 200)
            // FFmpeg reads a `.txt` file as ANSI art; any other name as unknown data.
            for name in ["notes.txt", "upload.bin"] {
                let url = directory.appendingPathComponent(name)
                try Data(text.utf8).write(to: url)
                let error = try await probeError(url)
                #expect(error.code == .unsupported || error.code == .corrupt, "\(name): \(error)")
                #expect(!error.message.isEmpty)
                let failed = try await transcodeError(url, in: directory)
                #expect(failed.code == .unsupported || failed.code == .corrupt)
            }
        }
    }

    @Test func truncatedWithIndexAtTheEndFailsToOpen() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 3)
            let bytes = try Data(contentsOf: clip)
            let cut = directory.appendingPathComponent("cut.mp4")
            try bytes.prefix(bytes.count * 6 / 10).write(to: cut)
            let error = try await probeError(cut)
            #expect(error.code == .corrupt)
            #expect(error.message.contains("upload"))
            let checked3 = try await transcodeError(cut, in: directory)
            #expect(checked3.code == .corrupt)
        }
    }

    @Test func truncatedWithIndexAtTheFrontIsFoundByTheDeepCheck() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 4, extra: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                                                   "-movflags", "+faststart"])
            let bytes = try Data(contentsOf: clip)
            let cut = directory.appendingPathComponent("cut.mp4")
            try bytes.prefix(bytes.count / 2).write(to: cut)
            // It opens and claims its full length…
            let info = try await MediaProbe.probe(cut, logger: testLogger)
            #expect(info.duration > .seconds(3.9))
            // …but the data ends early.
            let report = try await MediaProbe.deepCheck(cut, logger: testLogger)
            #expect(report.isTruncated)
            #expect(!report.isIntact)
            #expect(report.lastTimestamp < .seconds(3))
            #expect(report.declaredDuration > .seconds(3.9))
            let intact = try await MediaProbe.deepCheck(clip, logger: testLogger)
            #expect(!intact.isTruncated)
        }
    }

    @Test func bitFlipsAreCountedNotSilent() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 3, size: "320x240", audio: false,
                         extra: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart"])
            var bytes = [UInt8](try Data(contentsOf: clip))
            // Flip bits in the media data only (the index at the front stays readable).
            var generator = SeededGenerator(seed: 7)
            let start = bytes.count / 3
            for _ in 0..<200 {
                let index = Int.random(in: start..<bytes.count, using: &generator)
                bytes[index] ^= UInt8.random(in: 1...255, using: &generator)
            }
            let damaged = directory.appendingPathComponent("damaged.mp4")
            try Data(bytes).write(to: damaged)
            let report = try await MediaProbe.deepCheck(damaged, logger: testLogger)
            #expect(report.decodeErrors + report.loggedErrors > 0)
            #expect(!report.isIntact)
            let checked4 = try await MediaProbe.deepCheck(clip, logger: testLogger)
            #expect(checked4.decodeErrors == 0)

            // A transcode goes through (as a player would) and reports the damage.
            let out = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let result = try await Transcoder(logger: testLogger).transcode(
                input: damaged, renditions: [Ladder.standard.renditions[4]], sink: try MP4FileSink(directory: out, logger: testLogger))
            #expect(result.decodeErrors > 0)
        }
    }

    @Test func noVideoStream() async throws {
        try await withTemporaryDirectory { directory in
            let song = directory.appendingPathComponent("song.m4a")
            try await run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100:duration=2",
                               "-c:a", "aac", song.path])
            let error = try await transcodeError(song, in: directory)
            #expect(error.code == .invalidInput)
            #expect(error.message.contains("no video"))
            // Planned from the probe, it becomes an audio-only rendition.
            let plan = try LadderPlanner.plan(for: try await MediaProbe.probe(song, logger: testLogger))
            #expect(plan.count == 1 && !plan[0].hasVideo && plan[0].hasAudio)
            let out = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            _ = try await Transcoder(logger: testLogger).transcode(input: song, renditions: plan,
                                                                   sink: try MP4FileSink(directory: out, logger: testLogger))
            let streams = try await ffprobeStreams(out.appendingPathComponent("audio.mp4"))
            #expect(streams.map { $0["codec_type"] as? String } == ["audio"])
            #expect(streams.first?["sample_rate"] as? String == "48000")
        }
    }

    @Test func absurdDimensions() async throws {
        try await withTemporaryDirectory { directory in
            // A raw YUV header declaring 20000x12000 followed by a few bytes.
            var bytes = Array("YUV4MPEG2 W20000 H12000 F30:1 Ip A1:1 C420jpeg\nFRAME\n".utf8)
            bytes += (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let huge = directory.appendingPathComponent("huge.y4m")
            try Data(bytes).write(to: huge)
            let error = try await transcodeError(huge, in: directory)
            #expect(error.code == .limitExceeded)
            #expect(error.message.contains("20000x12000"))
        }
    }

    /// An "upload" that is really a playlist or a concat list would make FFmpeg read other
    /// files on the server (or URLs); only real containers may be opened.
    @Test func playlistsAndConcatListsAreRefused() async throws {
        try await withTemporaryDirectory { directory in
            let segment = directory.appendingPathComponent("secret.ts")
            try await makeClip(segment, seconds: 2, size: "160x120", extra: ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mpegts"])
            // Both files are valid inputs for FFmpeg's hls and concat demuxers.
            let playlist = directory.appendingPathComponent("upload.m3u8")
            try Data("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n\(segment.path)\n#EXT-X-ENDLIST\n".utf8).write(to: playlist)
            let concat = directory.appendingPathComponent("upload.ffconcat")
            try Data("ffconcat version 1.0\nfile '\(segment.path)'\n".utf8).write(to: concat)
            for url in [playlist, concat] {
                let error = try await probeError(url)
                #expect(error.code == .corrupt || error.code == .unsupported, "\(url.lastPathComponent): \(error)")
                let failed = try await transcodeError(url, in: directory)
                #expect(failed.code == .corrupt || failed.code == .unsupported)
            }
            // The segment itself is a fine upload.
            #expect(try await MediaProbe.probe(segment, logger: testLogger).video != nil)
        }
    }

    /// A timestamp that jumps an hour ahead (a damaged or spliced file) must not make the
    /// transcoder fill the gap with an hour of repeated frames.
    @Test func timestampJumpsAreRepairedNotFilled() async throws {
        try await withTemporaryDirectory { directory in
            let first = directory.appendingPathComponent("a.ts")
            let second = directory.appendingPathComponent("b.ts")
            let ts = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "mpegts"]
            try await makeClip(first, seconds: 2, size: "160x120", audio: false, extra: ts)
            try await makeClip(second, seconds: 2, size: "160x120", audio: false, extra: ts + ["-output_ts_offset", "3600"])
            let spliced = directory.appendingPathComponent("spliced.ts")
            try Data(try Data(contentsOf: first) + Data(contentsOf: second)).write(to: spliced)
            let out = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let sink = try MP4FileSink(directory: out, logger: testLogger)
            let rung = Rendition(name: "120p", width: 160, height: 120, videoBitRate: 100_000, audioBitRate: 0)
            let result = try await Transcoder(logger: testLogger).transcode(input: spliced, renditions: [rung], sink: sink)
            #expect(result.decodeErrors >= 1, "the jump was not reported")
            #expect(result.duration < .seconds(10), "the gap was filled: \(result.duration)")
            #expect(result.videoFrames.first.map { $0 < 300 } == true)
        }
    }

    @Test func unsupportedCodec() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("ffv1.mkv")
            try await makeClip(clip, seconds: 1, size: "64x64", audio: false, extra: ["-c:v", "ffv1"])
            // Rename the codec's FourCC to one nobody knows.
            var bytes = [UInt8](try Data(contentsOf: clip))
            let tag = Array("FFV1".utf8)
            let at = try #require((0..<(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == tag })
            bytes.replaceSubrange(at..<(at + 4), with: Array("QQZ9".utf8))
            let unknown = directory.appendingPathComponent("unknown.mkv")
            try Data(bytes).write(to: unknown)
            let error = try await transcodeError(unknown, renditions: [Rendition(name: "64p", width: 64, height: 64, videoBitRate: 100_000)],
                                                 in: directory)
            #expect(error.code == .unsupported)
            #expect(error.message.contains("cannot decode"))
        }
    }
}

