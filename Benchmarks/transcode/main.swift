// bench-transcode: VideoStack's Transcoder against the ffmpeg CLI on the same ladder, same run.
//
// Prints `RATIO transcode_publish <cli wall / ours>` (the ladder plus poster and storyboard: ours
// picked during the one decode, the CLI's from thumbnail and tile branches of the same filter
// graph), `RATIO transcode_ladder …` (the ladder alone) and `RATIO transcode_720p …` (above 1
// means VideoStack is faster), with CPU seconds and peak resident memory of both. Each side runs
// in a child process so that wait4() reports its own CPU time and peak RSS, under the same
// LD_PRELOAD meter (X264Meter.swift) that splits the CPU time into inside x264 and outside it:
// the encoders alone are the limit neither side can go below.
import Foundation
import Logging
import TranscodePipeline
import VideoCore
#if canImport(Glibc)
import Glibc
#endif

let ladder: [Rendition] = [
    Rendition(name: "1080p", width: 1920, height: 1080, videoBitRate: 5_000_000, audioBitRate: 128_000),
    Rendition(name: "720p", width: 1280, height: 720, videoBitRate: 2_800_000, audioBitRate: 128_000),
    Rendition(name: "480p", width: 854, height: 480, videoBitRate: 1_400_000, audioBitRate: 128_000),
    Rendition(name: "360p", width: 640, height: 360, videoBitRate: 800_000, audioBitRate: 128_000),
]
let segment = 4.0
let frameRate = 30.0
let sourceSeconds = 20.0
let thumbnails = ThumbnailConfiguration()

/// Writes a line at once: `print` holds its output until exit when stdout is a file or a pipe,
/// and each RATIO line should be visible as soon as it is measured.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct Usage {
    var wall: Double
    var cpu: Double
    var maxRSSMB: Double
    var status: Int32
    /// CPU seconds inside x264 (its threads and the calls into it), when the meter ran.
    var x264: Double?
}

/// Compiles the x264 CPU meter; nil (and no CPU split) when no C compiler is installed.
func buildMeter(in directory: URL) -> String? {
    let source = directory.appendingPathComponent("x264-meter.c")
    let library = directory.appendingPathComponent("x264-meter.so")
    guard (try? Data(x264MeterSource.utf8).write(to: source)) != nil else { return nil }
    for compiler in ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"] where FileManager.default.isExecutableFile(atPath: compiler) {
        if measure(compiler, ["-O2", "-shared", "-fPIC", "-o", library.path, source.path]).status == 0 { return library.path }
    }
    emit("no C compiler found: CPU is not split into inside and outside x264")
    return nil
}

/// Runs a program as a child and reports its wall time, CPU time and peak RSS (wait4); with a
/// meter, also the CPU time inside x264.
func measure(_ path: String, _ arguments: [String], meter: String? = nil) -> Usage {
    var pid: pid_t = 0
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let report = FileManager.default.temporaryDirectory.appendingPathComponent("x264-meter-\(UUID().uuidString).txt")
    var environment = ProcessInfo.processInfo.environment
    if let meter {
        environment["LD_PRELOAD"] = meter
        environment["X264_METER_OUT"] = report.path
    }
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { envp.forEach { free($0) } }
    let start = DispatchTime.now()
    let spawned = posix_spawn(&pid, path, nil, nil, argv, envp)
    guard spawned == 0 else {
        emit("could not start \(path): \(spawned)")
        exit(1)
    }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    var x264: Double?
    if meter != nil, let text = try? String(contentsOf: report, encoding: .utf8) {
        let fields = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if fields.count >= 2 { x264 = (fields[0] + fields[1]) / 1e9 }
        try? FileManager.default.removeItem(at: report)
    }
    return Usage(wall: wall, cpu: cpu, maxRSSMB: Double(usage.ru_maxrss) / 1024, status: status, x264: x264)
}

/// The frames the poster candidates and the storyboard tiles fall on, as the Transcoder's
/// collector places them for this source: candidates every duration / (count + 1), tiles every interval.
func thumbnailFrames() -> (candidates: [Int], tiles: [Int]) {
    let spacing = sourceSeconds / Double(thumbnails.posterCandidates + 1)
    let candidates = (1...thumbnails.posterCandidates).map { Int((Double($0) * spacing * frameRate).rounded()) }
    let interval = max(thumbnails.storyboardInterval / .seconds(1), sourceSeconds / Double(thumbnails.maxTiles))
    let tiles = stride(from: 0.0, to: sourceSeconds, by: interval).map { Int(($0 * frameRate).rounded()) }
    return (candidates, tiles)
}

func cliArguments(source: String, renditions: [Rendition], output: String, withThumbnails: Bool) -> [String] {
    var arguments = ["-nostdin", "-v", "error", "-y", "-i", source]
    if renditions.count > 1 {
        let branches = renditions.count + (withThumbnails ? 2 : 0)
        var graph = "[0:v]split=\(branches)" + (0..<branches).map { "[s\($0)]" }.joined()
        for (index, rendition) in renditions.enumerated() {
            graph += ";[s\(index)]scale=\(rendition.width):\(rendition.height)[v\(index)]"
        }
        if withThumbnails {
            // The same candidate frames and tile frames as ours; `thumbnail` keeps the most
            // representative candidate, `tile` lays the sprite sheet out.
            let (candidates, tiles) = thumbnailFrames()
            let pick = candidates.map { "eq(n\\,\($0))" }.joined(separator: "+")
            let tilePick = tiles.map { "eq(n\\,\($0))" }.joined(separator: "+")
            let tileHeight = thumbnails.tileWidth * 9 / 16
            graph += ";[s\(renditions.count)]select='\(pick)',scale=1280:720,thumbnail=n=\(candidates.count)[poster]"
            graph += ";[s\(renditions.count + 1)]select='\(tilePick)',scale=\(thumbnails.tileWidth):\(tileHeight),tile=\(tiles.count)x1[sprite]"
        }
        arguments += ["-filter_complex", graph]
        if withThumbnails {
            arguments += ["-map", "[poster]", "-frames:v", "1", "-q:v", "3", "\(output)/poster.jpg",
                          "-map", "[sprite]", "-frames:v", "1", "-q:v", "5", "\(output)/sprite.jpg"]
        }
    }
    for (index, rendition) in renditions.enumerated() {
        if renditions.count > 1 {
            arguments += ["-map", "[v\(index)]", "-map", "0:a"]
        } else {
            arguments += ["-vf", "scale=\(rendition.width):\(rendition.height)"]
        }
        arguments += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
                      "-b:v", "\(rendition.videoBitRate)", "-maxrate", "\(rendition.maxBitRate)",
                      "-bufsize", "\(rendition.bufferSize)", "-g", "\(Int((segment * frameRate).rounded(.up)) + 1)",
                      "-sc_threshold", "0", "-forced-idr", "1", "-force_key_frames", "expr:gte(t,n_forced*\(Int(segment)))",
                      "-c:a", "aac", "-b:a", "\(rendition.audioBitRate)", "-ar", "48000", "-ac", "2",
                      "\(output)/\(rendition.name).mp4"]
    }
    return arguments
}

/// The child side: one transcode with VideoStack.
func runChild(which: String, source: String, output: String) async throws {
    var logger = Logger(label: "bench-transcode")
    logger.logLevel = .error
    let renditions = ladder.first { $0.name == which }.map { [$0] } ?? ladder
    let directory = URL(fileURLWithPath: output)
    let sink = try MP4FileSink(directory: directory, keyframeInterval: .seconds(segment), logger: logger)
    var configuration = TranscodeConfiguration(thumbnails: which == "publish" ? thumbnails : nil)
    // Knobs for trying thread and queue settings without rebuilding; the defaults are what is reported.
    let environment = ProcessInfo.processInfo.environment
    if let threads = environment["BENCH_X264_THREADS"].flatMap(Int.init) { configuration.encoderThreads = threads }
    if let depth = environment["BENCH_QUEUE_DEPTH"].flatMap(Int.init) { configuration.queueDepth = depth }
    if let threads = environment["BENCH_DECODER_THREADS"].flatMap(Int.init) { configuration.decoderThreads = threads }
    let transcoder = Transcoder(configuration: configuration, logger: logger)
    let result = try await transcoder.transcode(input: URL(fileURLWithPath: source), renditions: renditions, sink: sink)
    for file in result.thumbnails?.files ?? [] {
        try Data(file.bytes).write(to: directory.appendingPathComponent(file.name))
    }
}

let arguments = CommandLine.arguments
if arguments.count == 5 && arguments[1] == "--child" {
    do {
        try await runChild(which: arguments[2], source: arguments[3], output: arguments[4])
        exit(0)
    } catch {
        FileHandle.standardError.write(Data("transcode failed: \(error)\n".utf8))
        exit(1)
    }
}

let ffmpeg = "/usr/bin/ffmpeg"
let data = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("bench-data/transcode")
try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
let source = data.appendingPathComponent("source-1080p30-20s.mp4").path
let meter = buildMeter(in: data)
if !FileManager.default.fileExists(atPath: source) {
    emit("making the 20 s 1080p30 source (testsrc2 with film grain, tone) …")
    // Temporal noise on top of the test pattern gives x264 the kind of work camera footage does;
    // a clean synthetic pattern would make every encoder look faster than it is.
    let made = measure(ffmpeg, ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=20",
                                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=20",
                                "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "fast", "-crf", "20",
                                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", source + ".part.mp4"])
    guard made.status == 0 else { emit("could not make the source"); exit(1) }
    try FileManager.default.moveItem(atPath: source + ".part.mp4", toPath: source)
}
let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 2
let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
let selfPath = me.hasPrefix("/") ? me : FileManager.default.currentDirectoryPath + "/" + me


// BENCH_ONLY=publish,ladder runs only the named comparisons.
let only = ProcessInfo.processInfo.environment["BENCH_ONLY"].map { Set($0.split(separator: ",").map(String.init)) }
for (name, renditions) in [("publish", ladder), ("ladder", ladder), ("720p", [ladder[1]])] where only?.contains(name) ?? true {
    let cliOut = data.appendingPathComponent("cli-\(name)")
    let ourOut = data.appendingPathComponent("ours-\(name)")
    for directory in [cliOut, ourOut] {
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    // Alternate the two so that load from other work on a shared machine hits both alike;
    // keep each side's fastest run.
    var cliRuns: [Usage] = [], ourRuns: [Usage] = []
    for _ in 0..<runs {
        cliRuns.append(measure(ffmpeg, cliArguments(source: source, renditions: renditions, output: cliOut.path,
                                                     withThumbnails: name == "publish"), meter: meter))
        ourRuns.append(measure(selfPath, ["--child", name, source, ourOut.path], meter: meter))
    }
    let cli = cliRuns.min { $0.wall < $1.wall }!
    let ours = ourRuns.min { $0.wall < $1.wall }!
    guard cliRuns.allSatisfy({ $0.status == 0 }), ourRuns.allSatisfy({ $0.status == 0 }) else {
        emit("a run failed (ffmpeg status \(cli.status), VideoStack status \(ours.status))")
        exit(1)
    }
    let expected = renditions.map { "\($0.name).mp4" } + (name == "publish" ? ["poster.jpg", thumbnails.spriteName, "storyboard.vtt"] : [])
    for file in expected where !FileManager.default.fileExists(atPath: ourOut.appendingPathComponent(file).path) {
        emit("VideoStack wrote no \(file)")
        exit(1)
    }
    for file in expected where name == "publish" && !file.hasSuffix(".vtt") && !FileManager.default.fileExists(atPath: cliOut.appendingPathComponent(file).path) {
        emit("the ffmpeg CLI wrote no \(file)")
        exit(1)
    }
    let detail = String(format: "VideoStack %.2f s wall, %.2f s CPU, %.0f MB peak RSS; ffmpeg CLI %.2f s wall, %.2f s CPU, %.0f MB peak RSS; best of %d",
                        ours.wall, ours.cpu, ours.maxRSSMB, cli.wall, cli.cpu, cli.maxRSSMB, runs)
    emit(String(format: "RATIO transcode_\(name) %.3f (%@)", cli.wall / ours.wall, detail))
    emit(String(format: "RATIO transcode_\(name)_memory %.3f (peak RSS ffmpeg CLI / VideoStack)", cli.maxRSSMB / ours.maxRSSMB))
    if let ourX264 = ours.x264, let cliX264 = cli.x264 {
        // The encoders alone are the floor: with nothing outside x264, CPU could fall to the inside figure.
        emit(String(format: "CPU transcode_\(name) VideoStack %.2f s inside x264, %.2f s outside; ffmpeg CLI %.2f s inside x264, %.2f s outside (LD_PRELOAD meter: x264's threads plus calls into x264)",
                     ourX264, ours.cpu - ourX264, cliX264, cli.cpu - cliX264))
    }
}

