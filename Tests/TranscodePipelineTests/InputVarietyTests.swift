import Foundation
import Testing
import TestSupport
import TranscodePipeline
import VideoCore

/// Whatever comes in, 8-bit 4:2:0 H.264 High at a constant frame rate and stereo 48 kHz AAC come out.
@Suite struct InputVarietyTests {
    private func transcode(_ clip: URL, in directory: URL, ladder: Ladder = .standard) async throws -> (URL, [Rendition], TranscodeResult) {
        let out = directory.appendingPathComponent("out-\(clip.deletingPathExtension().lastPathComponent)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let plan = try LadderPlanner.plan(for: try await MediaProbe.probe(clip, logger: testLogger), ladder: ladder)
        let result = try await Transcoder(logger: testLogger).transcode(
            input: clip, renditions: plan, sink: try MP4FileSink(directory: out, logger: testLogger))
        return (out, plan, result)
    }

    @Test(arguments: [
        ("hevc-10bit-422.mkv", ["-c:v", "libx265", "-pix_fmt", "yuv422p10le", "-x265-params", "log-level=none"], ["-c:a", "ac3", "-ac", "6"]),
        ("av1.mkv", ["-c:v", "libsvtav1", "-preset", "12"], ["-c:a", "libopus"]),
        ("vp9.webm", ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"], ["-c:a", "libopus"]),
        ("mpeg2.ts", ["-c:v", "mpeg2video"], ["-c:a", "mp2"]),
        ("mjpeg.avi", ["-c:v", "mjpeg"], ["-c:a", "pcm_s16le"]),
        ("mpeg4.avi", ["-c:v", "mpeg4"], ["-c:a", "pcm_s16le", "-ac", "6"]),
        ("h264-444.mp4", ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p"], ["-c:a", "aac", "-ac", "6"]),
    ])
    func comesOutAsEightBit420H264(name: String, video: [String], audio: [String]) async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent(name)
            try await makeClip(clip, seconds: 1, size: "320x240", rate: "25", extra: video, audioArgs: audio)
            let (out, plan, _) = try await transcode(clip, in: directory)
            #expect(plan.map(\.name) == ["240p"])
            let streams = try await ffprobeStreams(out.appendingPathComponent("240p.mp4"))
            let videoStream = try #require(streams.first { $0["codec_type"] as? String == "video" })
            #expect(videoStream["codec_name"] as? String == "h264")
            #expect(videoStream["profile"] as? String == "High")
            #expect(videoStream["pix_fmt"] as? String == "yuv420p")
            #expect(videoStream["width"] as? Int == 320 && videoStream["height"] as? Int == 240)
            let audioStream = try #require(streams.first { $0["codec_type"] as? String == "audio" })
            #expect(audioStream["codec_name"] as? String == "aac" && audioStream["profile"] as? String == "LC")
            #expect(audioStream["channels"] as? Int == 2 && audioStream["sample_rate"] as? String == "48000")
        }
    }

    @Test func rotatedPhoneVideoComesOutUpright() async throws {
        try await withTemporaryDirectory { directory in
            let rotated = try await makeRotatedClip(in: directory, seconds: 1)
            let (out, plan, _) = try await transcode(rotated, in: directory)
            #expect(plan.first?.width == 240 && plan.first?.height == 320)
            let file = out.appendingPathComponent("\(plan[0].name).mp4")
            // The ffmpeg CLI turns its input by the display matrix: our pixels must match its picture.
            let decibels = try await psnr(["-i", file.path, "-i", rotated.path], graph: "[1:v]scale=240:320[reference];[0:v][reference]psnr")
            #expect(decibels > 25, "PSNR \(decibels) dB against the upright reference")
        }
    }

    /// 60 fields per second woven into 30 interlaced frames of `pattern`.
    private func makeInterlaced(_ url: URL, pattern: String) async throws {
        try await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "\(pattern)=size=320x240:rate=60:duration=2",
                           "-vf", "tinterlace=mode=interleave_top,setfield=tff", "-c:v", "libx264", "-preset", "ultrafast",
                           "-qp", "0", "-flags", "+ilme+ildct", "-x264opts", "tff=1", url.path])
    }

    @Test func interlacedInputIsDeinterlacedWithoutCombing() async throws {
        try await withTemporaryDirectory { directory in
            // `testsrc2` moves everywhere, so its woven fields comb, which idet counts.
            let clip = directory.appendingPathComponent("interlaced.mkv")
            try await makeInterlaced(clip, pattern: "testsrc2")
            func detected(_ url: URL) async throws -> (interlaced: Int, progressive: Int) {
                let output = try await run("ffmpeg", ["-v", "info", "-nostdin", "-i", url.path, "-vf", "idet", "-f", "null", "-"])
                let line = try #require(output.stderr.split(separator: "\n").last { $0.contains("Multi frame detection") })
                let numbers = line.matches(of: /(TFF|BFF|Progressive):\s*(\d+)/).map { (String($0.1), Int($0.2)!) }
                let counts = Dictionary(numbers, uniquingKeysWith: +)
                return ((counts["TFF"] ?? 0) + (counts["BFF"] ?? 0), counts["Progressive"] ?? 0)
            }
            let before = try await detected(clip)
            #expect(before.interlaced > before.progressive, "the source should comb: \(before)")
            let (out, plan, _) = try await transcode(clip, in: directory)
            let after = try await detected(out.appendingPathComponent("\(plan[0].name).mp4"))
            #expect(after.interlaced * 5 <= before.interlaced, "combing left: \(after)")
        }
    }

    @Test func deinterlacingKeepsTheDetailOfStillAreas() async throws {
        try await withTemporaryDirectory { directory in
            // `testsrc` barely moves: a motion-adaptive deinterlacer weaves both fields back into
            // the full picture, where dropping a field would halve the vertical detail (about 30 dB here).
            let clip = directory.appendingPathComponent("still.mkv")
            try await makeInterlaced(clip, pattern: "testsrc")
            let (out, plan, _) = try await transcode(clip, in: directory)
            let file = out.appendingPathComponent("\(plan[0].name).mp4")
            // The truth: the progressive picture at each frame's top-field time.
            let decibels = try await psnr(["-i", file.path, "-f", "lavfi", "-i",
                                     "testsrc=size=320x240:rate=60:duration=2,select='not(mod(n\\,2))',setpts=N/30/TB"])
            #expect(decibels > 38, "PSNR \(decibels) dB against the progressive source")
        }
    }

    @Test func hdrIsToneMappedToSDR() async throws {
        try await withTemporaryDirectory { directory in
            // A known SDR picture carried as HDR10: PQ, BT.2020, 10-bit HEVC, content light 100 nits.
            let sdr = "testsrc2=size=320x240:rate=25:duration=1"
            let clip = directory.appendingPathComponent("pq.mkv")
            try await run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", sdr, "-vf",
                               "zscale=tin=bt709:pin=bt709:min=bt709:t=smpte2084:p=bt2020:m=bt2020nc:npl=100,format=yuv420p10le",
                               "-c:v", "libx265", "-x265-params",
                               "log-level=none:hdr10=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:max-cll=100,50:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(1000000,50)",
                               clip.path])
            let (out, plan, _) = try await transcode(clip, in: directory)
            let file = out.appendingPathComponent("\(plan[0].name).mp4")
            let video = try #require(try await ffprobeStreams(file).first { $0["codec_type"] as? String == "video" })
            #expect(video["color_transfer"] as? String == "bt709" && video["color_primaries"] as? String == "bt709"
                    && video["color_space"] as? String == "bt709", "\(video)")
            // Tone-mapped, the picture comes back close to the SDR original; read as if it were SDR
            // (what dropping the extra bits alone does) it is dim and grey: about 14 dB here.
            let decibels = try await psnr(["-i", file.path, "-f", "lavfi", "-i", sdr])
            #expect(decibels > 20, "PSNR \(decibels) dB against the SDR original")
        }
    }

    @Test func variableFrameRateBecomesConstant() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("vfr.mkv")
            // Drop every fourth frame and keep the others' timestamps: gaps at irregular intervals.
            try await makeClip(clip, seconds: 4, size: "320x240", rate: "30", audio: false,
                         videoFilter: "select='not(eq(mod(n\\,4)\\,1))'",
                         extra: ["-vsync", "vfr", "-c:v", "libx264", "-preset", "ultrafast"])
            let (out, plan, result) = try await transcode(clip, in: directory)
            let file = out.appendingPathComponent("\(plan[0].name).mp4")
            let probe = try await run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                                            "-of", "csv=p=0", file.path])
            let times = String(decoding: probe.stdout, as: UTF8.self).split(separator: "\n").compactMap { Double($0) }.sorted()
            let steps = zip(times.dropFirst(), times).map { $0 - $1 }
            let frameDuration = try #require(plan[0].frameRate.map { 1 / $0 })
            #expect(!steps.isEmpty)
            #expect(steps.allSatisfy { abs($0 - frameDuration) < 0.002 }, "uneven steps: \(Set(steps.map { ($0 * 1000).rounded() }))")
            #expect(result.videoFrames[0] == times.count)
        }
    }

    @Test func progressIsReportedAndEndsAtTheOutputsDuration() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 3, size: "320x240")
            let plan = try LadderPlanner.plan(for: try await MediaProbe.probe(clip, logger: testLogger))
            let (stream, continuation) = AsyncStream.makeStream(of: TranscodeProgress.self)
            let out = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let result = try await Transcoder(logger: testLogger).transcode(
                input: clip, renditions: plan, sink: try MP4FileSink(directory: out, logger: testLogger), progress: continuation)
            var updates: [TranscodeProgress] = []
            for await update in stream { updates.append(update) }
            // At least the report when packets start flowing and the one at the end.
            #expect(updates.count >= 2)
            let times = updates.map(\.mediaTime)
            #expect(times == times.sorted())
            // The last report is the output's end, as ffprobe measures the file.
            let last = try #require(updates.last)
            let video = try #require(try await ffprobeStreams(out.appendingPathComponent("\(plan[0].name).mp4")).first { $0["codec_type"] as? String == "video" })
            let measured = try #require(Double(video["duration"] as? String ?? ""))
            #expect(abs(last.mediaTime.inSeconds - measured) < 0.001, "\(last.mediaTime) vs \(measured) s")
            #expect(last.mediaTime == result.duration)
            #expect(abs((last.fraction ?? 0) - 1) < 0.02, "\(String(describing: last.fraction))")
        }
    }

    @Test func cancellingOnTheFirstProgressReportStopsAndFrees() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 3, size: "320x240")
            let plan = try LadderPlanner.plan(for: try await MediaProbe.probe(clip, logger: testLogger))
            let (updates, reporter) = AsyncStream.makeStream(of: TranscodeProgress.self)
            let out = directory.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            // The sink holds its first packet until the task is cancelled, so the transcode
            // cannot finish before the test cancels it, however fast the machine.
            let sink = HeldSink(inner: try MP4FileSink(directory: out, logger: testLogger))
            let task = Task {
                try await Transcoder(logger: testLogger).transcode(input: clip, renditions: plan, sink: sink, progress: reporter)
            }
            var reports = 0
            for await _ in updates {
                reports += 1
                task.cancel()
            }
            let outcome = await task.result
            #expect(reports >= 1)
            #expect(throws: VideoStackError.self) { try outcome.get() }
            if case .failure(let error as VideoStackError) = outcome { #expect(error.code == .cancelled, "\(error)") }
            #expect(await sink.finished == 0)
        }
    }
}

/// Forwards to `inner`, but waits at the first packet until the task is cancelled.
actor HeldSink: PacketSink {
    let inner: MP4FileSink
    private(set) var finished = 0
    private var held = false
    nonisolated var keyframeInterval: Duration { inner.keyframeInterval }

    init(inner: MP4FileSink) { self.inner = inner }

    func begin(rendition: Rendition, index: Int, tracks: [TrackFormat]) async throws {
        try await inner.begin(rendition: rendition, index: index, tracks: tracks)
    }

    func write(_ packet: EncodedPacket, rendition: Int, track: Int) async throws {
        if !held {
            held = true
            // Not a timing assumption: the sleep only ends by cancellation (it throws then).
            try await Task.sleep(for: .seconds(3600))
        }
        try await inner.write(packet, rendition: rendition, track: track)
    }

    func finish(rendition: Int) async throws {
        finished += 1
        try await inner.finish(rendition: rendition)
    }
}
