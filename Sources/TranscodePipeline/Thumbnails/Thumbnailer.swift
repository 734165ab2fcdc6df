internal import CFFmpeg
public import Foundation
public import Logging
import VideoCore

/// A poster picture chosen from a video.
public struct Poster: Hashable, Sendable {
    /// The JPEG written.
    public var url: URL
    /// Time of the frame used, in seconds from the start.
    public var time: Double
    /// Width of the JPEG in pixels.
    public var width: Int
    /// Height of the JPEG in pixels.
    public var height: Int
}

/// A storyboard: a sprite sheet of small frames at a fixed interval and a WebVTT file that maps
/// each time range to its tile (`sprite.jpg#xywh=x,y,w,h`), as players use for scrubbing previews.
public struct Storyboard: Hashable, Sendable {
    /// The sprite sheet (JPEG).
    public var spriteURL: URL
    /// The WebVTT file of cues pointing into the sprite sheet.
    public var vttURL: URL
    /// Seconds between tiles.
    public var interval: Double
    /// Width of one tile in pixels.
    public var tileWidth: Int
    /// Height of one tile in pixels (the display aspect ratio kept).
    public var tileHeight: Int
    /// Tiles per row of the sheet.
    public var columns: Int
    /// Rows of tiles in the sheet.
    public var rows: Int
    /// Number of tiles (and cues).
    public var tileCount: Int
}

/// Makes posters and storyboards from a video. FFmpeg runs on a thread of its own; cancelling the task stops it.
public enum Thumbnailer {
    /// Writes a JPEG poster from a representative frame: among `candidates` frames spread over
    /// the video (avoiding the first and last 5%), the one with the most luma variance, which
    /// rules out black frames, fades and flat title cards.
    ///
    /// - Parameters:
    ///   - input: the video file.
    ///   - output: where the JPEG goes (replaced if present).
    ///   - maxWidth: the poster is the display size (aspect ratio applied), scaled down to at most this width.
    ///   - candidates: how many frames to compare.
    ///   - logger: receives FFmpeg's messages.
    /// - Throws: `.invalidInput` without a video stream, the errors of ``MediaProbe/probe(_:logger:)``,
    ///   `.decodeFailed` when no frame decodes, `.io` when the file cannot be written.
    public static func poster(from input: URL, to output: URL, maxWidth: Int = 1280, candidates: Int = 9,
                              logger: Logger) async throws -> Poster {
        let cancel = CancelFlag()
        return try await runOnOwnThread(name: "videostack-poster", cancel: cancel) {
            let grabber = try FrameGrabber(url: input, logger: logger, cancel: cancel)
            let duration = max(grabber.input.durationSeconds, 0)
            let count = max(1, candidates)
            var best: (frame: Frame, time: Double, score: Double)?
            for index in 0..<count {
                let time = duration * (0.05 + 0.9 * (Double(index) + 0.5) / Double(count))
                guard let (frame, at) = try grabber.frame(at: time) else { continue }
                let score = lumaVariance(frame)
                if best == nil || score > best!.score { best = (frame, at, score) }
            }
            guard let best else {
                throw VideoStackError(.decodeFailed, "No frame of \(input.lastPathComponent) could be decoded; the video is damaged.")
            }
            let display = grabber.displaySize
            var width = min(maxWidth, display.width)
            var height = Int((Double(display.height) * Double(width) / Double(max(1, display.width))).rounded())
            width = max(2, width & ~1)
            height = max(2, height & ~1)
            let picture = try Scaler(width: width, height: height, outputFormat: AV_PIX_FMT_YUVJ420P).scale(best.frame)
            try JPEGWriter.write(picture, to: output, logger: logger)
            return Poster(url: output, time: best.time, width: width, height: height)
        }
    }

    /// Writes `sprite.jpg` and `storyboard.vtt` (names configurable) into `directory`.
    ///
    /// - Parameters:
    ///   - input: the video file.
    ///   - directory: where the sprite sheet and the WebVTT file go.
    ///   - interval: seconds between tiles; raised so that there are at most `maxTiles` tiles.
    ///   - tileWidth: tile width in pixels; the height follows the display aspect ratio.
    ///   - columns: tiles per row of the sprite sheet.
    ///   - maxTiles: the most tiles the sheet holds.
    ///   - spriteName: the sprite sheet's file name.
    ///   - vttName: the WebVTT file's name.
    ///   - logger: receives FFmpeg's messages.
    /// - Throws: as ``poster(from:to:maxWidth:candidates:logger:)``.
    public static func storyboard(from input: URL, directory: URL, interval: Double = 5, tileWidth: Int = 160, columns: Int = 10,
                                  maxTiles: Int = 200, spriteName: String = "sprite.jpg", vttName: String = "storyboard.vtt",
                                  logger: Logger) async throws -> Storyboard {
        guard interval > 0, tileWidth >= 16, columns >= 1, maxTiles >= 1 else {
            throw VideoStackError(.invalidInput, "A storyboard needs a positive interval, tiles at least 16 pixels wide and at least one column.")
        }
        let cancel = CancelFlag()
        return try await runOnOwnThread(name: "videostack-storyboard", cancel: cancel) {
            let grabber = try FrameGrabber(url: input, logger: logger, cancel: cancel)
            let duration = grabber.input.durationSeconds
            var step = interval
            var count = max(1, Int((duration / step).rounded(.up)))
            if count > maxTiles {
                count = maxTiles
                step = duration / Double(maxTiles)
            }
            let display = grabber.displaySize
            let tileW = max(2, tileWidth & ~1)
            let tileH = max(2, Int((Double(display.height) * Double(tileW) / Double(max(1, display.width))).rounded()) & ~1)
            let cols = min(columns, count)
            let rows = (count + cols - 1) / cols
            let sheet = Frame()
            sheet.pointer.pointee.width = Int32(tileW * cols)
            sheet.pointer.pointee.height = Int32(tileH * rows)
            sheet.pointer.pointee.format = AV_PIX_FMT_YUVJ420P.rawValue
            try check(av_frame_get_buffer(sheet.pointer, 0), "Could not allocate the sprite sheet", fallback: .limitExceeded)
            fillBlack(sheet)
            let scaler = Scaler(width: tileW, height: tileH, outputFormat: AV_PIX_FMT_YUVJ420P)
            var vtt = "WEBVTT\n\n"
            for index in 0..<count {
                let start = Double(index) * step
                let end = min(duration, start + step)
                if let (frame, _) = try grabber.frame(at: start) {
                    copy(try scaler.scale(frame), into: sheet, x: (index % cols) * tileW, y: (index / cols) * tileH)
                }
                vtt += "\(timestamp(start)) --> \(timestamp(end))\n"
                vtt += "\(spriteName)#xywh=\((index % cols) * tileW),\((index / cols) * tileH),\(tileW),\(tileH)\n\n"
            }
            let spriteURL = directory.appendingPathComponent(spriteName)
            let vttURL = directory.appendingPathComponent(vttName)
            try JPEGWriter.write(sheet, to: spriteURL, quality: 5, logger: logger)
            do {
                try Data(vtt.utf8).write(to: vttURL, options: .atomic)
            } catch {
                throw VideoStackError(.io, "Could not write \(vttURL.path).", cause: ErrorDescription(error))
            }
            return Storyboard(spriteURL: spriteURL, vttURL: vttURL, interval: step, tileWidth: tileW, tileHeight: tileH,
                              columns: cols, rows: rows, tileCount: count)
        }
    }

    /// Variance of a sparse sample of the luma plane: near zero for black, flat or faded frames.
    static func lumaVariance(_ frame: Frame) -> Double {
        let width = frame.width, height = frame.height
        guard let plane = frame.pointer.pointee.data.0, width > 0, height > 0 else { return 0 }
        let stride = Int(frame.pointer.pointee.linesize.0)
        let bytesPerSample = (av_pix_fmt_desc_get(AVPixelFormat(rawValue: frame.format))?.pointee.comp.0.step ?? 1) > 1 ? 2 : 1
        var sum = 0.0, squares = 0.0, count = 0.0
        for y in Swift.stride(from: 0, to: height, by: max(1, height / 64)) {
            for x in Swift.stride(from: 0, to: width, by: max(1, width / 64)) {
                let value: Double
                if bytesPerSample == 2 {
                    let offset = y * stride + x * 2
                    value = Double(UInt16(plane[offset]) | UInt16(plane[offset + 1]) << 8) / 4
                } else {
                    value = Double(plane[y * stride + x])
                }
                sum += value
                squares += value * value
                count += 1
            }
        }
        guard count > 0 else { return 0 }
        let mean = sum / count
        return squares / count - mean * mean
    }

    private static func fillBlack(_ frame: Frame) {
        let height = frame.height
        withPlanes(frame) { planes, strides in
            for plane in 0..<3 {
                let rows = plane == 0 ? height : (height + 1) / 2
                planes[plane]?.update(repeating: plane == 0 ? 0 : 128, count: Int(strides[plane]) * rows)
            }
        }
    }

    private static func copy(_ tile: Frame, into sheet: Frame, x: Int, y: Int) {
        withPlanes(tile) { source, sourceStrides in
            withPlanes(sheet) { target, targetStrides in
                for plane in 0..<3 {
                    let shift = plane == 0 ? 0 : 1
                    let rows = tile.height >> shift, columns = tile.width >> shift
                    guard let from = source[plane], let to = target[plane] else { continue }
                    for row in 0..<rows {
                        (to + (row + (y >> shift)) * Int(targetStrides[plane]) + (x >> shift))
                            .update(from: from + row * Int(sourceStrides[plane]), count: columns)
                    }
                }
            }
        }
    }

    /// The first three planes and their strides (AVFrame's `data`/`linesize` arrive as tuples).
    private static func withPlanes<T>(_ frame: Frame,
                                      _ body: ([UnsafeMutablePointer<UInt8>?], [Int32]) -> T) -> T {
        let data = frame.pointer.pointee.data
        let linesize = frame.pointer.pointee.linesize
        return body([data.0, data.1, data.2], [linesize.0, linesize.1, linesize.2])
    }

    private static func timestamp(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let h = milliseconds / 3_600_000, m = milliseconds / 60_000 % 60, s = milliseconds / 1000 % 60, ms = milliseconds % 1000
        return String(format: "%02d:%02d:%02d.%03d", h, m, s, ms)
    }
}
