import Foundation
import Logging
import TestSupport
import Testing
import TranscodePipeline
import VideoCore
import VideoStackTesting

let testLogger: Logger = {
    var logger = Logger(label: "videostack.testing-tests")
    logger.logLevel = .critical
    return logger
}()

@Suite struct TestMediaTests {
    /// The clip has what was asked for, as the library's probe and ffprobe both read it.
    @Test(arguments: [(320, 240, 30, 3.0), (640, 360, 25, 2.0), (176, 144, 15, 1.5)])
    func clipHasTheAskedSizeRateAndLength(width: Int, height: Int, frameRate: Int, seconds: Double) async throws {
        try await withTemporaryDirectory(prefix: "testmedia") { directory in
            let url = directory.appendingPathComponent("clip.mp4")
            try await TestMedia.write(to: url, seconds: seconds, width: width, height: height, frameRate: frameRate, logger: testLogger)
            let info = try await MediaProbe.probe(url, logger: testLogger)
            let video = try #require(info.video)
            #expect(video.codec == "h264")
            #expect(video.width == width && video.height == height)
            #expect(abs(info.duration.inSecondsForTests - seconds) < 0.1)
            let audio = try #require(info.audio)
            #expect(audio.codec == "aac" && audio.sampleRate == 48_000 && audio.channels == 2)

            // ffprobe (an independent reader) counts every frame and sees the rate.
            let probe = try await ToolProcess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                                                   "-show_entries", "stream=nb_read_frames,r_frame_rate", "-of", "json", url.path])
            let json = try JSONSerialization.jsonObject(with: probe.stdout) as? [String: Any]
            let stream = try #require((json?["streams"] as? [[String: Any]])?.first)
            #expect(stream["r_frame_rate"] as? String == "\(frameRate)/1")
            #expect(Int(stream["nb_read_frames"] as? String ?? "") == Int((seconds * Double(frameRate)).rounded()))
        }
    }

    /// Keyframes land exactly every keyframe interval (closed GOPs), which the packager relies on.
    @Test func keyframesComeAtTheInterval() async throws {
        try await withTemporaryDirectory(prefix: "testmedia") { directory in
            let url = directory.appendingPathComponent("gop.mp4")
            try await TestPattern(duration: .seconds(6), keyframeInterval: .seconds(2)).write(to: url, logger: testLogger)
            let probe = try await ToolProcess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
                                                   "-of", "csv=p=0", url.path])
            let keyframes = probe.output.split(separator: "\n").compactMap { line -> Double? in
                let fields = line.split(separator: ",")
                return fields.count >= 2 && fields[1].contains("K") ? Double(fields[0]) : nil
            }.sorted()
            #expect(keyframes == [0, 2, 4])
        }
    }

    /// Other containers and no audio.
    @Test func otherContainersAndSilence() async throws {
        try await withTemporaryDirectory(prefix: "testmedia") { directory in
            for container in [TestPattern.Container.matroska, .mpegTS, .quickTime] {
                var pattern = TestPattern(duration: .seconds(1), toneFrequency: nil, container: container)
                let url = directory.appendingPathComponent("clip.\(pattern.fileExtension)")
                try await pattern.write(to: url, logger: testLogger)
                let info = try await MediaProbe.probe(url, logger: testLogger)
                #expect(info.video != nil && info.audio == nil, "\(container)")
                pattern.toneFrequency = 1000
                try await pattern.write(to: url, logger: testLogger)
                #expect(try await MediaProbe.probe(url, logger: testLogger).audio != nil, "\(container)")
            }
        }
    }

    /// Settings out of range are refused with the field named; nothing is written.
    @Test func badSettingsAreRefused() async throws {
        try await withTemporaryDirectory(prefix: "testmedia") { directory in
            let url = directory.appendingPathComponent("bad.mp4")
            let bad: [(TestPattern, String)] = [
                (TestPattern(width: 321), "width"), (TestPattern(width: 0), "width"), (TestPattern(height: 10_000), "height"),
                (TestPattern(frameRate: 0), "frame rate"), (TestPattern(frameRate: 1000), "frame rate"),
                (TestPattern(duration: .zero), "duration"), (TestPattern(duration: .seconds(-1)), "duration"),
                (TestPattern(duration: .seconds(3600)), "duration"), (TestPattern(toneFrequency: 5), "frequency"),
                (TestPattern(toneFrequency: .nan), "frequency"), (TestPattern(keyframeInterval: .zero), "keyframe"),
            ]
            for (pattern, field) in bad {
                let error = await #expect(throws: VideoStackError.self) { try await pattern.write(to: url, logger: testLogger) }
                #expect(error?.code == .invalidInput && error?.message.contains(field) == true, "\(pattern)")
                #expect(!FileManager.default.fileExists(atPath: url.path))
            }
            await #expect(throws: VideoStackError.self) {
                _ = try await TestMedia.clip(seconds: .infinity, logger: testLogger)
            }
            // A folder that does not exist: an I/O error naming the path.
            let nowhere = directory.appendingPathComponent("missing/clip.mp4")
            let error = await #expect(throws: VideoStackError.self) { try await TestPattern().write(to: nowhere, logger: testLogger) }
            #expect(error?.code == .io && error?.message.contains(nowhere.path) == true)
        }
    }

    /// Cancelling the task stops the encode and removes the partial file.
    @Test func cancellationStopsAndCleansUp() async throws {
        try await withTemporaryDirectory(prefix: "testmedia") { directory in
            let url = directory.appendingPathComponent("long.mp4")
            let task = Task { try await TestPattern(width: 1280, height: 720, duration: .seconds(600)).write(to: url, logger: testLogger) }
            // Cancel once the muxer has written something: an event, not a timer.
            while (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0 == 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            task.cancel()
            let error = await #expect(throws: VideoStackError.self) { try await task.value }
            #expect(error?.code == .cancelled)
            #expect(!FileManager.default.fileExists(atPath: url.path))
        }
    }
}

extension Duration {
    var inSecondsForTests: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
