// bench-hls: remux-only packaging of a 1080p H.264/AAC file into 4-second fMP4 HLS, against
// `ffmpeg -c copy -f hls -hls_segment_type fmp4 -hls_time 4` on the same file in the same run.
// Prints `RATIO hls_remux <ffmpeg wall / ours>`; above 1 means VideoStack is faster.
// Then, unless BENCH_HLS_WATCH=0, measures "watch while it transcodes": how long after the start
// of a transcode (HLSSink in EVENT mode) the first segment of every rung is listed and playable.

import Foundation
import HLSPackager
import Logging
import Synchronization
import TranscodePipeline
import VideoCore

let seconds = Int(ProcessInfo.processInfo.environment["BENCH_HLS_SECONDS"] ?? "") ?? 30
let rounds = Int(ProcessInfo.processInfo.environment["BENCH_HLS_ROUNDS"] ?? "") ?? 5

@discardableResult
func shell(_ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        FileHandle.standardError.write(message)
        throw VideoStackError(.internal, "\(arguments[0]) exited with \(process.terminationStatus)")
    }
    return process.terminationStatus
}

func directorySize(_ url: URL) -> Int {
    let files = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey])?.compactMap { $0 as? URL } ?? []
    return files.reduce(0) { $0 + ((try? $1.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0) }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-hls-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: work) }
let input = work.appendingPathComponent("in.mp4").path

print("generating \(seconds) s of 1080p30 H.264 (keyframe every 2 s, B-frames) + AAC with the ffmpeg CLI…")
try shell(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30:duration=\(seconds)",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=\(seconds)",
           "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "8M", "-g", "60", "-bf", "2", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-b:a", "128k", input])
let inputSize = (try FileManager.default.attributesOfItem(atPath: input)[.size] as? Int) ?? 0
print("input: \(inputSize / 1_000_000) MB")

var logger = Logger(label: "bench-hls")
logger.logLevel = .warning
let clock = ContinuousClock()
var ours: [Double] = []
var reference: [Double] = []
var ourBytes = 0, referenceBytes = 0, ourSegments = 0
for round in 0..<rounds {
    // Alternate who goes first so page-cache warmth and machine load favour neither side.
    for side in (round % 2 == 0 ? [0, 1] : [1, 0]) {
        let out = work.appendingPathComponent("out-\(round)-\(side)")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        if side == 0 {
            let store = try FileBlobStore(root: out)
            let start = clock.now
            let result = try await Remuxer.package(file: URL(fileURLWithPath: input), store: store, directory: "",
                                                   configuration: HLSConfiguration(segmentDuration: .seconds(4), separateAudio: false), logger: logger)
            ours.append((clock.now - start) / .seconds(1))
            ourSegments = result.renditions[0].segmentDurations.count
        } else {
            let start = clock.now
            try shell(["ffmpeg", "-v", "error", "-y", "-i", input, "-c", "copy", "-f", "hls", "-hls_segment_type", "fmp4",
                       "-hls_time", "4", "-hls_playlist_type", "vod", out.appendingPathComponent("index.m3u8").path])
            reference.append((clock.now - start) / .seconds(1))
        }
        if round == rounds - 1 {
            if side == 0 { ourBytes = directorySize(out) } else { referenceBytes = directorySize(out) }
        }
        try FileManager.default.removeItem(at: out)
    }
}
// The reference runs as a process, ours in this one: measure what ffmpeg spends starting up
// (exec, loading every libav library, exiting) and take it off, so only the remux is compared.
var startup: [Double] = []
for _ in 0..<rounds {
    let start = clock.now
    _ = try shell(["ffmpeg", "-v", "error", "-version"])
    startup.append((clock.now - start) / .seconds(1))
}
let oursMedian = median(ours), referenceMedian = median(reference), startupMedian = median(startup)
print("ours (VideoStack Remuxer → FileBlobStore, fsync per object): " + ours.map { String(format: "%.3f", $0) }.joined(separator: " ") + " s")
print("ffmpeg -c copy -f hls fmp4:                                  " + reference.map { String(format: "%.3f", $0) }.joined(separator: " ") + " s")
print("output: ours \(ourBytes) bytes in \(ourSegments) segments (+ I-frame playlist), ffmpeg \(referenceBytes) bytes")
print(String(format: "RATIO hls_remux %.2f ((ffmpeg median %.3f s - its start-up %.3f s) / ours median %.3f s; %.2f counting ffmpeg's start-up; %d rounds, %d s 1080p30 %d MB input)",
             (referenceMedian - startupMedian) / oursMedian, referenceMedian, startupMedian, oursMedian, referenceMedian / oursMedian,
             rounds, seconds, inputSize / 1_000_000))

if ProcessInfo.processInfo.environment["BENCH_HLS_WATCH"] != "0" {
    let clip = work.appendingPathComponent("clip.mp4").path
    try shell(["ffmpeg", "-v", "error", "-y", "-i", input, "-t", "12", "-c", "copy", clip])
    let out = work.appendingPathComponent("watch")
    let store = try FileBlobStore(root: out)
    let sink = HLSSink(store: store, directory: "", configuration: HLSConfiguration(segmentDuration: .seconds(4), mode: .event), logger: logger)
    let started = clock.now
    let firstPlayable = Mutex<Double?>(nil)
    await sink.onFirstPlayable { firstPlayable.withLock { $0 = (clock.now - started) / .seconds(1) } }
    let ladder = Ladder.standard.renditions.filter { ["720p", "360p"].contains($0.name) }
    let transcoder = Transcoder(configuration: TranscodeConfiguration(thumbnails: nil), logger: logger)
    _ = try await transcoder.transcode(input: URL(fileURLWithPath: clip), renditions: ladder, sink: sink)
    let total = (clock.now - started) / .seconds(1)
    let first = firstPlayable.withLock { $0 } ?? total
    print(String(format: "watch-while-transcoding: master.m3u8 and the first 4 s segment of every rung (720p, 360p, audio) were in place %.2f s after the transcode started; the whole 12 s 1080p clip took %.2f s (VOD-only packaging would make viewers wait the full %.2f s)",
                 first, total, total))
}
