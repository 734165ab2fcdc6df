// bench-transcode: VideoStack's Transcoder against the ffmpeg CLI on the same ladder, same run.
//
// Prints `RATIO transcode_ladder <cli wall / ours>` and `RATIO transcode_720p …` (above 1 means
// VideoStack is faster), with CPU seconds and peak resident memory of both. Each side runs in a
// child process so that wait4() reports its own CPU time and peak RSS.
import Foundation
import Logging
import TranscodePipeline
import VideoCore
#if canImport(Glibc)
import Glibc
#endif

let ladder: [Rendition] = [
    Rendition(name: "1080p", width: 1920, height: 1080, videoBitrate: 5_000_000, audioBitrate: 128_000),
    Rendition(name: "720p", width: 1280, height: 720, videoBitrate: 2_800_000, audioBitrate: 128_000),
    Rendition(name: "480p", width: 854, height: 480, videoBitrate: 1_400_000, audioBitrate: 128_000),
    Rendition(name: "360p", width: 640, height: 360, videoBitrate: 800_000, audioBitrate: 128_000),
]
let segment = 4.0
let frameRate = 30.0

struct Usage {
    var wall: Double
    var cpu: Double
    var maxRSSMB: Double
    var status: Int32
}

/// Runs a program as a child and reports its wall time, CPU time and peak RSS (wait4).
func measure(_ path: String, _ arguments: [String]) -> Usage {
    var pid: pid_t = 0
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let start = DispatchTime.now()
    let spawned = posix_spawn(&pid, path, nil, nil, argv, environ)
    guard spawned == 0 else {
        print("could not start \(path): \(spawned)")
        exit(1)
    }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    let wall = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    return Usage(wall: wall, cpu: cpu, maxRSSMB: Double(usage.ru_maxrss) / 1024, status: status)
}

func cliArguments(source: String, renditions: [Rendition], output: String) -> [String] {
    var arguments = ["-nostdin", "-v", "error", "-y", "-i", source]
    if renditions.count > 1 {
        var graph = "[0:v]split=\(renditions.count)" + renditions.indices.map { "[s\($0)]" }.joined()
        for (index, rendition) in renditions.enumerated() {
            graph += ";[s\(index)]scale=\(rendition.width):\(rendition.height)[v\(index)]"
        }
        arguments += ["-filter_complex", graph]
    }
    for (index, rendition) in renditions.enumerated() {
        if renditions.count > 1 {
            arguments += ["-map", "[v\(index)]", "-map", "0:a"]
        } else {
            arguments += ["-vf", "scale=\(rendition.width):\(rendition.height)"]
        }
        arguments += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
                      "-b:v", "\(rendition.videoBitrate)", "-maxrate", "\(rendition.maxBitrate)",
                      "-bufsize", "\(rendition.bufferSize)", "-g", "\(Int((segment * frameRate).rounded(.up)) + 1)",
                      "-sc_threshold", "0", "-forced-idr", "1", "-force_key_frames", "expr:gte(t,n_forced*\(Int(segment)))",
                      "-c:a", "aac", "-b:a", "\(rendition.audioBitrate)", "-ar", "48000", "-ac", "2",
                      "\(output)/\(rendition.name).mp4"]
    }
    return arguments
}

/// The child side: one transcode with VideoStack.
func runChild(which: String, source: String, output: String) async throws {
    var logger = Logger(label: "bench-transcode")
    logger.logLevel = .error
    var renditions = ladder.first { $0.name == which }.map { [$0] } ?? ladder
    if which == "1078p" { renditions = [Rendition(name: "1078p", width: 1920, height: 1078, videoBitrate: 5_000_000)] }
    let sink = try MP4FileSink(directory: URL(fileURLWithPath: output), logger: logger)
    var configuration = TranscodeConfiguration(segmentDuration: segment)
    // Knobs for trying thread and queue settings without rebuilding; the defaults are what is reported.
    let environment = ProcessInfo.processInfo.environment
    if let threads = environment["BENCH_X264_THREADS"].flatMap(Int.init) { configuration.encoderThreads = threads }
    if let depth = environment["BENCH_QUEUE_DEPTH"].flatMap(Int.init) { configuration.queueDepth = depth }
    if let threads = environment["BENCH_DECODER_THREADS"].flatMap(Int.init) { configuration.decoderThreads = threads }
    let transcoder = Transcoder(configuration: configuration, logger: logger)
    _ = try await transcoder.transcode(input: URL(fileURLWithPath: source), renditions: renditions, sink: sink)
}

let arguments = CommandLine.arguments
if arguments.count == 5 && arguments[1] == "--child" {
    if ProcessInfo.processInfo.environment["MALLOC_TRACE"] != nil { benchMtrace() }
    if ProcessInfo.processInfo.environment["BENCH_MALLOC_STATS"] != nil {
        Thread.detachNewThread {
            while true {
                sleep(2)
                benchMallocStats()
            }
        }
    }
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
if !FileManager.default.fileExists(atPath: source) {
    print("making the 20 s 1080p30 source (testsrc2 with film grain, tone) …")
    // Temporal noise on top of the test pattern gives x264 the kind of work camera footage does;
    // a clean synthetic pattern would make every encoder look faster than it is.
    let made = measure(ffmpeg, ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=20",
                                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=20",
                                "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "fast", "-crf", "20",
                                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", source + ".part.mp4"])
    guard made.status == 0 else { print("could not make the source"); exit(1) }
    try FileManager.default.moveItem(atPath: source + ".part.mp4", toPath: source)
}
let runs = Int(ProcessInfo.processInfo.environment["BENCH_RUNS"] ?? "") ?? 1
let me = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
let selfPath = me.hasPrefix("/") ? me : FileManager.default.currentDirectoryPath + "/" + me

func best(_ body: () -> Usage) -> Usage {
    var results: [Usage] = []
    for _ in 0..<runs { results.append(body()) }
    return results.min { $0.wall < $1.wall }!
}

let only = ProcessInfo.processInfo.environment["BENCH_ONLY"]
for (name, renditions) in [("ladder", ladder), ("720p", [ladder[1]])] where only == nil || only == name {
    let cliOut = data.appendingPathComponent("cli-\(name)")
    let ourOut = data.appendingPathComponent("ours-\(name)")
    for directory in [cliOut, ourOut] {
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    let cli = best { measure(ffmpeg, cliArguments(source: source, renditions: renditions, output: cliOut.path)) }
    let ours = best { measure(selfPath, ["--child", name, source, ourOut.path]) }
    guard cli.status == 0, ours.status == 0 else {
        print("a run failed (ffmpeg status \(cli.status), VideoStack status \(ours.status))")
        exit(1)
    }
    for rendition in renditions where !FileManager.default.fileExists(atPath: ourOut.appendingPathComponent("\(rendition.name).mp4").path) {
        print("VideoStack wrote no \(rendition.name).mp4")
        exit(1)
    }
    let detail = String(format: "VideoStack %.2f s wall, %.2f s CPU, %.0f MB peak RSS; ffmpeg CLI %.2f s wall, %.2f s CPU, %.0f MB peak RSS; best of %d",
                        ours.wall, ours.cpu, ours.maxRSSMB, cli.wall, cli.cpu, cli.maxRSSMB, runs)
    print(String(format: "RATIO transcode_\(name) %.3f (%@)", cli.wall / ours.wall, detail))
    print(String(format: "RATIO transcode_\(name)_memory %.3f (peak RSS ffmpeg CLI / VideoStack)", cli.maxRSSMB / ours.maxRSSMB))
}

/// glibc's malloc_stats (in <malloc.h>, which Glibc's module map leaves out): arena totals on stderr.
@_silgen_name("malloc_stats") func benchMallocStats()
/// glibc's mtrace: logs every allocation to $MALLOC_TRACE, for finding where memory goes.
@_silgen_name("mtrace") func benchMtrace()
