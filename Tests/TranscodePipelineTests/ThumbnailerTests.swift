import Foundation
import Testing
import TestSupport
import TranscodePipeline
import VideoCore

@Suite struct ThumbnailerTests {
    /// The mean luma of a JPEG, as ffmpeg's signalstats filter reads it.
    static func meanLuma(_ jpeg: URL) async throws -> Double {
        let stats = try await run("ffprobe", ["-v", "error", "-f", "lavfi", "-i", "movie=\(jpeg.path),signalstats",
                                        "-show_entries", "frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"])
        return try #require(Double(String(decoding: stats.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func posterSkipsBlackAndFades() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("fades.mp4")
            // Black fading in over the first 3 s and out over the last 2 s.
            try await makeClip(clip, seconds: 10, size: "320x240", audio: false,
                         videoFilter: "fade=in:st=0:d=3,fade=out:st=8:d=2")
            let poster = try await Thumbnailer(logger: testLogger).poster(from: clip)
            #expect(poster.time >= .seconds(2.9) && poster.time <= .seconds(8.1), "picked \(poster.time)")
            let posterURL = directory.appendingPathComponent("poster.jpg")
            try Data(poster.jpeg).write(to: posterURL)
            let stream = try #require(try await ffprobeStreams(posterURL).first)
            #expect(stream["codec_name"] as? String == "mjpeg")
            #expect(stream["width"] as? Int == 320 && stream["height"] as? Int == 240)
            // The picture itself is bright enough to be the pattern, not a faded frame.
            #expect(try await Self.meanLuma(posterURL) > 40)
        }
    }

    @Test func posterOfAPhoneVideoIsUpright() async throws {
        try await withTemporaryDirectory { directory in
            let rotated = try await makeRotatedClip(in: directory, seconds: 4)
            let poster = try await Thumbnailer(logger: testLogger).poster(from: rotated)
            let posterURL = directory.appendingPathComponent("poster.jpg")
            try Data(poster.jpeg).write(to: posterURL)
            let stream = try #require(try await ffprobeStreams(posterURL).first)
            #expect(stream["width"] as? Int == 240 && stream["height"] as? Int == 320, "\(stream)")
            // The same moment as the ffmpeg CLI shows it (it turns pictures by the display matrix).
            let decibels = try await psnr(["-i", posterURL.path, "-ss", String(format: "%.3f", poster.time / .seconds(1)), "-i", rotated.path],
                                    graph: "[1:v]format=yuvj420p[reference];[0:v][reference]psnr", extra: ["-frames:v", "1"])
            #expect(decibels > 25, "PSNR \(decibels) dB against the upright picture")
        }
    }

    @Test func storyboardSpriteAndWebVTT() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 10, size: "320x240", audio: false)
            let configuration = ThumbnailConfiguration(storyboardInterval: .seconds(2), tileWidth: 80, columns: 3)
            let board = try await Thumbnailer(configuration: configuration, logger: testLogger).storyboard(from: clip)
            try await checkStoryboard(board, in: directory, tiles: 5...5, columns: 3, tileSize: (80, 60), end: .seconds(10))
        }
    }

    @Test func badConfigurationIsRefused() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try await makeClip(clip, seconds: 1, size: "160x120", audio: false)
            for configuration in [ThumbnailConfiguration(storyboardInterval: .zero), ThumbnailConfiguration(tileWidth: 4),
                                  ThumbnailConfiguration(spriteName: "../sprite.jpg")] {
                await #expect { try await Thumbnailer(configuration: configuration, logger: testLogger).thumbnails(from: clip) } throws: { error in
                    (error as? VideoStackError)?.code == .invalidInput
                }
            }
        }
    }
}

/// Checks a storyboard: the sprite sheet as ffprobe reads it, and one WebVTT cue per tile,
/// back to back from 0 to `end` (within a frame), each pointing at its own tile.
func checkStoryboard(_ board: Storyboard, in directory: URL, tiles: ClosedRange<Int>, columns: Int, tileSize: (Int, Int), end: Duration,
                     sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let count = board.tileCount
    let columns = min(columns, count)
    #expect(tiles.contains(count) && board.columns == columns && board.rows == (count + columns - 1) / columns,
            "\(board.tileCount) tiles in \(board.columns)x\(board.rows)", sourceLocation: sourceLocation)
    #expect(board.tileWidth == tileSize.0 && board.tileHeight == tileSize.1, sourceLocation: sourceLocation)
    let spriteURL = directory.appendingPathComponent("sprite-\(UUID().uuidString).jpg")
    try Data(board.sprite).write(to: spriteURL)
    let sprite = try #require(try await ffprobeStreams(spriteURL).first, sourceLocation: sourceLocation)
    #expect(sprite["codec_name"] as? String == "mjpeg", sourceLocation: sourceLocation)
    #expect(sprite["width"] as? Int == tileSize.0 * board.columns && sprite["height"] as? Int == tileSize.1 * board.rows,
            sourceLocation: sourceLocation)
    #expect(board.webVTT.hasPrefix("WEBVTT\n\n"), sourceLocation: sourceLocation)
    let cues = board.webVTT.components(separatedBy: "\n\n").dropFirst().filter { !$0.isEmpty }
    #expect(cues.count == count, sourceLocation: sourceLocation)
    var previousEnd = "00:00:00.000"
    for (index, cue) in cues.enumerated() {
        let lines = cue.split(separator: "\n")
        let times = lines[0].components(separatedBy: " --> ")
        #expect(times[0] == previousEnd, sourceLocation: sourceLocation)
        previousEnd = times[1]
        #expect(lines[1].hasPrefix("\(board.spriteName)#xywh="), sourceLocation: sourceLocation)
        let xywh = lines[1].split(separator: "=")[1].split(separator: ",").compactMap { Int($0) }
        #expect(xywh == [(index % columns) * tileSize.0, (index / columns) * tileSize.1, tileSize.0, tileSize.1],
                sourceLocation: sourceLocation)
    }
    let parts = previousEnd.split(whereSeparator: { $0 == ":" || $0 == "." }).compactMap { Int($0) }
    let last = parts.count == 4 ? Duration.milliseconds(((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + parts[3]) : .zero
    #expect(abs((last - end).inSeconds) <= 0.045, "the last cue ends at \(previousEnd), the video at \(end)", sourceLocation: sourceLocation)
}
