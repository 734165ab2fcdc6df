import Foundation
import Testing
import TestSupport
import TranscodePipeline
import VideoCore

/// Inputs that cannot be seeked, or whose index lies: each transcodes and yields a poster and a
/// storyboard from the one decode, and the standalone thumbnailer manages them too.
@Suite struct NonSeekableInputTests {
    /// Matroska as ffmpeg writes it to a pipe: no cues (no index to seek with) and no duration.
    private func makePipedMatroska(_ url: URL, seconds: Int) async throws {
        let output = try await run("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=\(seconds)",
                                        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=\(seconds)",
                                        "-c:v", "mpeg4", "-c:a", "aac", "-f", "matroska", "-"])
        try output.stdout.write(to: url)
    }

    /// How many 1-second tiles a video of `duration` gets: one per second that has begun, give or
    /// take the frame that straddles the end (audio priming moves video by a frame in Matroska).
    private func tiles(_ duration: Duration) -> ClosedRange<Int> {
        Int((duration.inSeconds - 0.05).rounded(.up))...Int((duration.inSeconds + 0.05).rounded(.up))
    }

    /// Whether `duration` is `expected` within one 25 fps frame.
    private func near(_ duration: Duration, _ expected: Duration) -> Bool { abs((duration - expected).inSeconds) <= 0.041 }

    private let oneSecondTiles = ThumbnailConfiguration(storyboardInterval: .seconds(1), tileWidth: 80, columns: 4)

    /// Transcodes `input` to one 320x240 rung, with the poster and 1-second storyboard tiles picked on the way.
    private func transcode(_ input: URL, in directory: URL) async throws -> TranscodeResult {
        let out = directory.appendingPathComponent("out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let rung = Rendition(name: "240p", width: 320, height: 240, videoBitRate: 300_000, audioBitRate: 64_000)
        let transcoder = Transcoder(configuration: TranscodeConfiguration(preset: .ultrafast, thumbnails: oneSecondTiles), logger: testLogger)
        let result = try await transcoder.transcode(input: input, renditions: [rung], sink: try MP4FileSink(directory: out, logger: testLogger))
        let streams = try await ffprobeStreams(out.appendingPathComponent("240p.mp4"))
        #expect(streams.map { $0["codec_type"] as? String } == ["video", "audio"])
        return result
    }

    /// The poster decodes, shows the pattern (not black) and comes from inside the video.
    private func checkPoster(_ poster: Poster, within duration: Duration, in directory: URL,
                             sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let url = directory.appendingPathComponent("poster-\(UUID().uuidString).jpg")
        try Data(poster.jpeg).write(to: url)
        let stream = try #require(try await ffprobeStreams(url).first, sourceLocation: sourceLocation)
        #expect(stream["width"] as? Int == 320 && stream["height"] as? Int == 240, sourceLocation: sourceLocation)
        #expect(poster.time > .zero && poster.time < duration, "poster at \(poster.time) of \(duration)", sourceLocation: sourceLocation)
        #expect(try await ThumbnailerTests.meanLuma(url) > 40, sourceLocation: sourceLocation)
    }

    @Test func matroskaWithoutCuesOrDuration() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("piped.mkv")
            try await makePipedMatroska(clip, seconds: 4)
            let info = try await MediaProbe.probe(clip, logger: testLogger)
            #expect(info.duration == .zero, "the file should declare no duration: \(info.duration)")
            #expect(info.video?.codec == "mpeg4" && info.audio?.codec == "aac")

            let result = try await transcode(clip, in: directory)
            #expect(near(result.duration, .seconds(4)), "\(result.duration)")
            let thumbnails = try #require(result.thumbnails)
            try await checkPoster(thumbnails.poster, within: result.duration, in: directory)
            try await checkStoryboard(thumbnails.storyboard, in: directory, tiles: tiles(result.duration), columns: 4, tileSize: (80, 60), end: result.duration)

            let alone = try await Thumbnailer(configuration: oneSecondTiles, logger: testLogger).thumbnails(from: clip)
            try await checkPoster(alone.poster, within: result.duration, in: directory)
            try await checkStoryboard(alone.storyboard, in: directory, tiles: tiles(result.duration), columns: 4, tileSize: (80, 60), end: result.duration)
        }
    }

    /// A Matroska file and an MP4 with its index at the front, both cut to 60%: they declare the
    /// full length, the data stops early, and the storyboard ends where the data does.
    @Test(arguments: ["mkv", "mp4"])
    func streamCutShort(container: String) async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("whole.\(container)")
            try await makeClip(clip, seconds: 6, size: "320x240", rate: "25",
                         extra: ["-c:v", "mpeg4", "-q:v", "3"] + (container == "mp4" ? ["-movflags", "+faststart"] : []))
            let bytes = try Data(contentsOf: clip)
            let cut = directory.appendingPathComponent("cut.\(container)")
            try bytes.prefix(bytes.count * 6 / 10).write(to: cut)
            let declared = try await MediaProbe.probe(cut, logger: testLogger).duration
            #expect(declared > .seconds(5.9))

            let result = try await transcode(cut, in: directory)
            #expect(result.duration > .seconds(1) && result.duration < .seconds(5), "\(result.duration)")
            let thumbnails = try #require(result.thumbnails)
            try await checkPoster(thumbnails.poster, within: result.duration, in: directory)
            try await checkStoryboard(thumbnails.storyboard, in: directory, tiles: tiles(result.duration), columns: 4, tileSize: (80, 60),
                                end: result.duration)

            let alone = try await Thumbnailer(configuration: oneSecondTiles, logger: testLogger).thumbnails(from: cut)
            try await checkPoster(alone.poster, within: result.duration, in: directory)
            #expect(tiles(result.duration).contains(alone.storyboard.tileCount))
        }
    }

    /// A named pipe another process writes into as the transcode reads it: nothing can seek it,
    /// and it can be read only once (so the rendition is given, not planned from a probe).
    @Test func namedPipe() async throws {
        try await withTemporaryDirectory { directory in
            for reader in ["transcoder", "thumbnailer"] {
                let fifo = directory.appendingPathComponent("\(reader).fifo")
                #expect(mkfifo(fifo.path, 0o600) == 0)
                let writer = Process()
                writer.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
                writer.arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3",
                                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=3",
                                    "-c:v", "mpeg4", "-c:a", "aac", "-f", "matroska", fifo.path]
                writer.standardInput = FileHandle.nullDevice
                try writer.run()
                if reader == "transcoder" {
                    let result = try await transcode(fifo, in: directory)
                    #expect(near(result.duration, .seconds(3)), "\(result.duration)")
                    let thumbnails = try #require(result.thumbnails)
                    try await checkPoster(thumbnails.poster, within: result.duration, in: directory)
                    try await checkStoryboard(thumbnails.storyboard, in: directory, tiles: tiles(result.duration), columns: 4,
                                        tileSize: (80, 60), end: result.duration)
                } else {
                    let alone = try await Thumbnailer(configuration: oneSecondTiles, logger: testLogger).thumbnails(from: fifo)
                    try await checkPoster(alone.poster, within: .seconds(3), in: directory)
                    #expect(tiles(.seconds(3)).contains(alone.storyboard.tileCount))
                }
                writer.waitUntilExit()
                #expect(writer.terminationStatus == 0)
            }
        }
    }
}
