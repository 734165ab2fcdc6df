import Foundation
import Testing
import TestSupport
import TranscodePipeline
import VideoCore

@Suite struct ThumbnailerTests {
    @Test func posterSkipsBlackAndFades() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("fades.mp4")
            // Black fading in over the first 3 s and out over the last 2 s.
            try makeClip(clip, seconds: 10, size: "320x240", audio: false,
                         videoFilter: "fade=in:st=0:d=3,fade=out:st=8:d=2")
            let posterURL = directory.appendingPathComponent("poster.jpg")
            let poster = try await Thumbnailer.poster(from: clip, to: posterURL, logger: testLogger)
            #expect(poster.time >= 2.9 && poster.time <= 8.1, "picked \(poster.time) s")
            let stream = try #require(try ffprobeStreams(posterURL).first)
            #expect(stream["codec_name"] as? String == "mjpeg")
            #expect(stream["width"] as? Int == 320 && stream["height"] as? Int == 240)
            // The picture itself is bright enough to be the pattern, not a faded frame.
            let stats = try run("ffprobe", ["-v", "error", "-f", "lavfi", "-i", "movie=\(posterURL.path),signalstats",
                                            "-show_entries", "frame_tags=lavfi.signalstats.YAVG", "-of", "csv=p=0"])
            let average = try #require(Double(String(decoding: stats.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(average > 40)
        }
    }

    @Test func posterOfAPhoneVideoIsUpright() async throws {
        try await withTemporaryDirectory { directory in
            let rotated = try makeRotatedClip(in: directory, seconds: 4)
            let posterURL = directory.appendingPathComponent("poster.jpg")
            let poster = try await Thumbnailer.poster(from: rotated, to: posterURL, logger: testLogger)
            let stream = try #require(try ffprobeStreams(posterURL).first)
            #expect(stream["width"] as? Int == 240 && stream["height"] as? Int == 320, "\(stream)")
            // The same moment as the ffmpeg CLI shows it (it turns pictures by the display matrix).
            let decibels = try psnr(["-i", posterURL.path, "-ss", String(format: "%.3f", poster.time), "-i", rotated.path],
                                    graph: "[1:v]format=yuvj420p[reference];[0:v][reference]psnr", extra: ["-frames:v", "1"])
            #expect(decibels > 25, "PSNR \(decibels) dB against the upright picture")
        }
    }

    @Test func storyboardSpriteAndWebVTT() async throws {
        try await withTemporaryDirectory { directory in
            let clip = directory.appendingPathComponent("clip.mp4")
            try makeClip(clip, seconds: 10, size: "320x240", audio: false)
            let board = try await Thumbnailer.storyboard(from: clip, directory: directory, interval: 2, tileWidth: 80, columns: 3,
                                                         logger: testLogger)
            #expect(board.tileCount == 5 && board.columns == 3 && board.rows == 2)
            #expect(board.tileWidth == 80 && board.tileHeight == 60)
            let sprite = try #require(try ffprobeStreams(board.spriteURL).first)
            #expect(sprite["codec_name"] as? String == "mjpeg")
            #expect(sprite["width"] as? Int == 240 && sprite["height"] as? Int == 120)

            let vtt = try String(contentsOf: board.vttURL, encoding: .utf8)
            #expect(vtt.hasPrefix("WEBVTT\n\n"))
            let cues = vtt.components(separatedBy: "\n\n").dropFirst().filter { !$0.isEmpty }
            #expect(cues.count == 5)
            var previousEnd = "00:00:00.000"
            for (index, cue) in cues.enumerated() {
                let lines = cue.split(separator: "\n")
                let times = lines[0].components(separatedBy: " --> ")
                #expect(times[0] == previousEnd)
                previousEnd = times[1]
                let xywh = lines[1].split(separator: "=")[1].split(separator: ",").compactMap { Int($0) }
                #expect(lines[1].hasPrefix("sprite.jpg#xywh="))
                #expect(xywh == [(index % 3) * 80, (index / 3) * 60, 80, 60])
            }
            #expect(previousEnd == "00:00:10.000")
        }
    }
}
