import Foundation
import Logging
import Testing
import TestSupport

/// Output of a finished subprocess.
struct ProcessOutput {
    var status: Int32
    var stdout: Data
    var stderr: String
}

/// Runs a command-line tool to completion (ffmpeg, ffprobe, the videostack CLI) through
/// `ToolProcess`, which waits on a thread of its own: blocking a cooperative-pool thread for a
/// whole ffmpeg run starved every other test of the process on a 2-core machine.
@discardableResult
func run(_ tool: String, _ arguments: [String], check: Bool = true) async throws -> ProcessOutput {
    let finished = try await ToolProcess.run([tool] + arguments)
    let result = ProcessOutput(status: finished.status, stdout: finished.stdout, stderr: finished.stderr)
    if check && result.status != 0 {
        Issue.record("\(tool) \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.stderr.suffix(2000))")
        throw TestFailure(message: "\(tool) failed")
    }
    return result
}

struct TestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Makes a small test clip with the ffmpeg CLI: moving colour bars with a tone.
///
/// - Parameters:
///   - extra: arguments placed before the output name (codec, container options).
func makeClip(_ url: URL, seconds: Double = 3, size: String = "320x240", rate: String = "30", audio: Bool = true,
              videoFilter: String? = nil, extra: [String] = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
              audioArgs: [String] = ["-c:a", "aac"]) async throws {
    var arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)"]
    if audio {
        arguments += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=\(seconds)"]
    }
    if let videoFilter { arguments += ["-vf", videoFilter] }
    arguments += extra
    if audio { arguments += audioArgs }
    arguments += [url.path]
    try await run("ffmpeg", arguments)
}

/// ffprobe's JSON for a file (format and streams), parsed.
func ffprobe(_ url: URL, _ extra: [String] = ["-show_format", "-show_streams"]) async throws -> [String: Any] {
    let output = try await run("ffprobe", ["-v", "error", "-of", "json"] + extra + [url.path])
    return try JSONSerialization.jsonObject(with: output.stdout) as? [String: Any] ?? [:]
}

/// The streams ffprobe reports, as dictionaries.
func ffprobeStreams(_ url: URL) async throws -> [[String: Any]] {
    try await ffprobe(url)["streams"] as? [[String: Any]] ?? []
}

/// Presentation times (seconds) of the video keyframes in a file, as ffprobe reads them.
func keyframeTimes(_ url: URL) async throws -> [Double] {
    let output = try await run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
                                     "-of", "csv=p=0", url.path])
    return String(decoding: output.stdout, as: UTF8.self).split(separator: "\n").compactMap { line in
        let fields = line.split(separator: ",")
        guard fields.count >= 2, fields[1].contains("K"), let time = Double(fields[0]) else { return nil }
        return time
    }.sorted()
}

let testLogger: Logger = {
    var logger = Logger(label: "videostack.tests")
    logger.logLevel = .critical
    return logger
}()

/// A 320x240 clip stored sideways with a 90° display matrix, as phones record portrait video.
func makeRotatedClip(in directory: URL, seconds: Double) async throws -> URL {
    let plain = directory.appendingPathComponent("plain.mp4")
    try await makeClip(plain, seconds: seconds, size: "320x240", audio: false)
    let rotated = directory.appendingPathComponent("rotated.mp4")
    try await run("ffmpeg", ["-v", "error", "-y", "-i", plain.path, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated.path])
    return rotated
}

/// The average PSNR in dB (infinity for identical pictures) that ffmpeg's `psnr` filter reports
/// for the two video inputs in `inputs` (ffmpeg input arguments) joined by `graph`, which must
/// end in `psnr`; `extra` goes before the null output.
func psnr(_ inputs: [String], graph: String = "[0:v][1:v]psnr", extra: [String] = [],
          sourceLocation: SourceLocation = #_sourceLocation) async throws -> Double {
    let compared = try await run("ffmpeg", ["-v", "info", "-nostdin"] + inputs + ["-lavfi", graph] + extra + ["-f", "null", "-"])
    let value = try #require(compared.stderr.firstMatch(of: /average:([0-9.]+|inf)/)?.1, sourceLocation: sourceLocation)
    return value == "inf" ? .infinity : try #require(Double(value), sourceLocation: sourceLocation)
}
