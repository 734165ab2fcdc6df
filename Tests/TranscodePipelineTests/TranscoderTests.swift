import Foundation
import Logging
import Testing
import TestSupport
import TranscodePipeline
import VideoCore

@Suite struct TranscoderTests {
    /// The ladder a 640x360 source gets, transcoded with 2-second segments.
    private func transcodeLadder(_ clip: URL, into directory: URL, segment: Duration = .seconds(2))
        async throws -> (TranscodeResult, [Rendition]) {
        let info = try await MediaProbe.probe(clip, logger: testLogger)
        let renditions = try LadderPlanner.plan(for: info)
        // The sink sets the keyframe spacing; the transcoder has no setting of its own for it.
        let sink = try MP4FileSink(directory: directory, keyframeInterval: segment, logger: testLogger)
        let transcoder = Transcoder(logger: testLogger)
        let result = try await transcoder.transcode(input: clip, renditions: renditions, sink: sink)
        return (result, renditions)
    }

    @Test func encodesAlignedLadderCheckedByFFprobe() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("source.mp4")
            try await makeClip(clip, seconds: 5, size: "640x360", rate: "30")
            let out = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let (result, renditions) = try await transcodeLadder(clip, into: out)
            #expect(renditions.map(\.name) == ["360p", "240p"])
            // The keyframes the packets carried, as the transcoder saw them go out.
            #expect(result.keyframeTimes == [.zero, .seconds(2), .seconds(4)])

            let source = try await ffprobe(clip)
            let sourceDuration = try #require(Double((source["format"] as? [String: Any])?["duration"] as? String ?? ""))
            var keyframeSets: [[Double]] = []
            for rendition in renditions {
                let file = out.appendingPathComponent("\(rendition.name).mp4")
                let streams = try await ffprobeStreams(file)
                let video = try #require(streams.first { $0["codec_type"] as? String == "video" })
                #expect(video["codec_name"] as? String == "h264")
                #expect(video["profile"] as? String == "High")
                #expect(video["pix_fmt"] as? String == "yuv420p")
                #expect(video["width"] as? Int == rendition.width)
                #expect(video["height"] as? Int == rendition.height)
                let audio = try #require(streams.first { $0["codec_type"] as? String == "audio" })
                #expect(audio["codec_name"] as? String == "aac")
                #expect(audio["sample_rate"] as? String == "48000")
                #expect(audio["channels"] as? Int == 2)
                let videoDuration = try #require(Double(video["duration"] as? String ?? ""))
                #expect(abs(videoDuration - sourceDuration) <= 1.0 / 30 + 0.001, "\(rendition.name): \(videoDuration) vs \(sourceDuration)")
                let audioDuration = try #require(Double(audio["duration"] as? String ?? ""))
                #expect(abs(audioDuration - videoDuration) < 0.1)
                // In sync: both tracks start together (within one video frame).
                let videoStart = try #require(Double(video["start_time"] as? String ?? ""))
                let audioStart = try #require(Double(audio["start_time"] as? String ?? ""))
                #expect(abs(videoStart - audioStart) < 1.0 / 30)
                keyframeSets.append(try await keyframeTimes(file))
            }
            #expect(keyframeSets.count == 2)
            #expect(keyframeSets.allSatisfy { $0 == keyframeSets[0] })
            // …and as ffprobe reads them back from the files.
            #expect(keyframeSets[0].map { ($0 * 1000).rounded() / 1000 } == [0, 2, 4])
            #expect(keyframeSets[0].map { ($0 * 1000).rounded() / 1000 } == result.keyframeTimes.map { ($0.inSeconds * 1000).rounded() / 1000 })
            #expect(result.videoFrames == [150, 150])
            #expect(result.renditions.allSatisfy { $0.codecs?.hasPrefix("avc1.64") == true && $0.codecs?.hasSuffix(",mp4a.40.2") == true })
        }
    }
}

/// An MP4 sink that also asks for opening keyframes, as an HLS sink with short opening segments does.
struct OpeningKeyframesSink: PacketSink {
    let inner: MP4FileSink
    let openingKeyframes: [Duration]
    var keyframeInterval: Duration { inner.keyframeInterval }
    func begin(rendition: Rendition, index: Int, tracks: [TrackFormat]) async throws {
        try await inner.begin(rendition: rendition, index: index, tracks: tracks)
    }
    func write(_ packet: EncodedPacket, rendition: Int, track: Int) async throws {
        try await inner.write(packet, rendition: rendition, track: track)
    }
    func finish(rendition: Int) async throws { try await inner.finish(rendition: rendition) }
}

@Suite struct OpeningKeyframeTests {
    /// The sink's opening keyframes come before the regular grid on every rung (read back with
    /// ffprobe), and the grid itself does not move.
    @Test func openingKeyframesPrecedeTheRegularGrid() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("source.mp4")
            try await makeClip(clip, seconds: 7, size: "640x360", rate: "30")
            let renditions = try LadderPlanner.plan(for: try await MediaProbe.probe(clip, logger: testLogger))
            let sink = OpeningKeyframesSink(inner: try MP4FileSink(directory: directory, keyframeInterval: .seconds(3), logger: testLogger),
                                            openingKeyframes: [.seconds(1), .milliseconds(1500)])
            let result = try await Transcoder(logger: testLogger).transcode(input: clip, renditions: renditions, sink: sink)
            #expect(result.keyframeTimes.map { ($0.inSeconds * 1000).rounded() / 1000 } == [0, 1, 1.5, 3, 6])
            for rendition in renditions {
                let times = try await keyframeTimes(directory.appendingPathComponent("\(rendition.name).mp4"))
                #expect(times.map { ($0 * 1000).rounded() / 1000 } == [0, 1, 1.5, 3, 6], "\(rendition.name): \(times)")
            }
        }
    }

    /// Opening keyframes out of order, not positive, or at or past the first regular one are refused before any encoding.
    @Test func badOpeningKeyframesAreRefused() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("source.mp4")
            try await makeClip(clip, seconds: 2, size: "320x240", rate: "30")
            let renditions = try LadderPlanner.plan(for: try await MediaProbe.probe(clip, logger: testLogger))
            for opening: [Duration] in [[.seconds(2)], [.seconds(3)], [.seconds(1), .milliseconds(500)], [.zero], [.seconds(-1)]] {
                let sink = OpeningKeyframesSink(inner: try MP4FileSink(directory: directory, keyframeInterval: .seconds(2), logger: testLogger),
                                                openingKeyframes: opening)
                let error = await #expect(throws: VideoStackError.self, "\(opening)") { () async throws in
                    _ = try await Transcoder(logger: testLogger).transcode(input: clip, renditions: renditions, sink: sink)
                }
                #expect(error?.code == .invalidInput)
                #expect(error?.message.contains("opening keyframes") == true, "\(error?.message ?? "")")
            }
        }
    }
}

/// Collects log messages, to check where FFmpeg's output goes.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    // @unchecked Sendable: `lines` is guarded by `lock`.
    private let lock = NSLock()
    private var lines: [(Logger.Level, String, Logger.Metadata?)] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { lines.append((event.level, event.message.description, event.metadata)) }
    }

    var captured: [(Logger.Level, String, Logger.Metadata?)] { lock.withLock { lines } }
}

@Suite struct FFmpegLogTests {
    /// An H.264 clip with its index at the front, and a copy with `flips` bytes of its media data inverted.
    private func makeDamagedClip(in directory: URL, seconds: Double, size: String, flips: Int, seed: UInt64) async throws -> (clip: URL, damaged: URL) {
        let clip = directory.appendingPathComponent("clip.mp4")
        try await makeClip(clip, seconds: seconds, size: size, audio: false,
                     extra: ["-c:v", "libx264", "-preset", "ultrafast", "-movflags", "+faststart"])
        var bytes = [UInt8](try Data(contentsOf: clip))
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<flips {
            let index = Int.random(in: (bytes.count / 3)..<bytes.count, using: &generator)
            bytes[index] ^= 0xFF
        }
        let damaged = directory.appendingPathComponent("damaged.mp4")
        try Data(bytes).write(to: damaged)
        return (clip, damaged)
    }

    @Test func ffmpegMessagesGoToTheCallersLogger() async throws {
        try await withTemporaryDirectory { directory in
            let (_, damaged) = try await makeDamagedClip(in: directory, seconds: 2, size: "320x240", flips: 100, seed: 11)
            let handler = CapturingLogHandler()
            let logger = Logger(label: "capture") { _ in handler }
            _ = try await MediaProbe.deepCheck(damaged, logger: logger)
            let fromFFmpeg = handler.captured.filter { $0.2?["ffmpeg"] != nil }
            #expect(!fromFFmpeg.isEmpty)
            #expect(fromFFmpeg.contains { $0.0 == .warning && $0.2?["ffmpeg"]?.description == "h264" }, "\(fromFFmpeg.prefix(5))")
        }
    }

    /// Two jobs at once: the damaged file's lines (many from the frame-thread copies of its
    /// decoder) reach only its own logger and error count, never the intact file's.
    @Test func concurrentJobsKeepTheirOwnLinesAndErrorCounts() async throws {
        try await withTemporaryDirectory { directory in
            let (clip, damaged) = try await makeDamagedClip(in: directory, seconds: 3, size: "640x360", flips: 300, seed: 5)
            for _ in 0..<5 {
                let damagedLines = CapturingLogHandler()
                let intactLines = CapturingLogHandler()
                async let bad = MediaProbe.deepCheck(damaged, logger: Logger(label: "damaged") { _ in damagedLines })
                async let good = MediaProbe.deepCheck(clip, logger: Logger(label: "intact") { _ in intactLines })
                let (badReport, goodReport) = try await (bad, good)
                #expect(badReport.loggedErrors > 0)
                #expect(goodReport.loggedErrors == 0 && goodReport.isIntact)
                #expect(!intactLines.captured.contains { $0.0 >= .warning }, "\(intactLines.captured.prefix(3))")
                #expect(damagedLines.captured.contains { $0.0 == .warning })
            }
        }
    }
}
