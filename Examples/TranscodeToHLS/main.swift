// transcode-to-hls: a video file in, an adaptive HLS ladder out, in a few lines.
//
//     swift run transcode-to-hls input.mp4 out/
//
// Probe the file, plan a ladder that never upscales, decode once and encode every rung, and
// package CMAF segments and playlists into a folder: open out/master.m3u8 in any HLS player.
// With no input it makes a 6-second test pattern first (TranscodePipeline's TestPattern).
import Foundation
import HLSPackager
import Logging
import TranscodePipeline
import VideoCore

func transcodeToHLS(input: URL, output: URL, logger: Logger) async throws {
    let info = try await MediaProbe.probe(input, logger: logger)
    let renditions = try LadderPlanner.plan(for: info)   // e.g. 720p, 480p, 360p, 240p
    let sink = HLSSink(store: try FileBlobStore(root: output), directory: "", logger: logger)
    let result = try await Transcoder(logger: logger).transcode(input: input, renditions: renditions, sink: sink)
    print("wrote \(result.renditions.map(\.name).joined(separator: ", ")) to \(output.path)/master.m3u8")
}

func main() async throws {
    var logger = Logger(label: "transcode-to-hls")
    logger.logLevel = .warning
    let arguments = CommandLine.arguments.dropFirst()
    let output = URL(fileURLWithPath: arguments.dropFirst().first ?? "hls-out", isDirectory: true)
    let input: URL
    if let path = arguments.first {
        input = URL(fileURLWithPath: path)
    } else {
        input = FileManager.default.temporaryDirectory.appendingPathComponent("transcode-to-hls-\(UUID().uuidString).mp4")
        try await TestPattern(width: 854, height: 480, duration: .seconds(6)).write(to: input, logger: logger)
        print("made a 6-second 480p test pattern at \(input.path)")
    }
    defer { if arguments.isEmpty { try? FileManager.default.removeItem(at: input) } }
    try await transcodeToHLS(input: input, output: output, logger: logger)
}

// In a function, not top-level code: Swift 6.3's optimizer has crashed on top-level async code in release.
do {
    try await main()
} catch {
    print("transcode-to-hls: \(error)")   // says what was wrong with the input
    exit(1)
}
