internal import CFFmpeg
import Logging
import VideoCore
internal import Foundation

/// Picks the poster and the storyboard tiles from frames as they go by, in presentation order,
/// without seeking and without knowing in advance how long the video is.
///
/// Poster candidates lie on a grid of times (`k × spacing`); with a declared duration the grid
/// gives ``ThumbnailConfiguration/posterCandidates`` points between 10% and 90%, and without one
/// (Matroska written to a pipe) or when the video turns out longer, the spacing doubles whenever
/// the candidates would exceed twice the wanted count, keeping every other one. Tiles work alike
/// on a grid of the storyboard interval. Candidates are kept scaled to the poster size, tiles to
/// the tile size, so memory stays small; the JPEGs are encoded once, at the end, when the real
/// end of the video is known (a stream cut short ends where its data ends). Used by one thread.
final class ThumbnailCollector {
    private let configuration: ThumbnailConfiguration
    private let logger: Logger
    let posterSize: (width: Int, height: Int)
    let tileSize: (width: Int, height: Int)
    private let posterScaler: Scaler
    private let tileScaler: Scaler

    private var candidateSpacing: Double
    private var nextCandidate = 1
    private var candidates: [(index: Int, time: Double, score: Double, picture: Frame)] = []
    /// The latest frame, while no candidate has been taken (a video shorter than one spacing).
    private var fallback: (time: Double, frame: Frame)?

    private var tileInterval: Double
    private var tiles: [Frame] = []

    /// - Parameters:
    ///   - displaySize: the pictures' size as shown (sample aspect ratio and rotation applied).
    ///   - declaredDuration: the container's duration in seconds, 0 when unknown; only a hint.
    init(configuration: ThumbnailConfiguration, displaySize: (width: Int, height: Int), declaredDuration: Double,
         logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        let aspect = Double(max(1, displaySize.height)) / Double(max(1, displaySize.width))
        let posterWidth = max(2, min(configuration.posterMaxWidth, displaySize.width) & ~1)
        posterSize = (posterWidth, max(2, Int((Double(posterWidth) * aspect).rounded()) & ~1))
        let tileWidth = max(2, configuration.tileWidth & ~1)
        tileSize = (tileWidth, max(2, Int((Double(tileWidth) * aspect).rounded()) & ~1))
        posterScaler = Scaler(width: posterSize.width, height: posterSize.height, outputFormat: AV_PIX_FMT_YUVJ420P)
        tileScaler = Scaler(width: tileSize.width, height: tileSize.height, outputFormat: AV_PIX_FMT_YUVJ420P)
        let candidates = Double(configuration.posterCandidates)
        candidateSpacing = declaredDuration > 0 ? declaredDuration / (candidates + 1) : 1
        tileInterval = max(configuration.storyboardInterval.inSeconds, declaredDuration / Double(configuration.maxTiles))
    }

    /// Looks at the picture shown from `seconds` on (a prepared picture: upright, tone-mapped).
    func accept(_ frame: Frame, seconds: Double) throws {
        // Half a millisecond of slack: frame times computed from timestamps land a hair early.
        let time = seconds + 0.0005
        if time >= Double(nextCandidate) * candidateSpacing {
            let picture = try posterScaler.scale(frame)
            candidates.append((nextCandidate, seconds, Self.lumaVariance(picture), picture))
            fallback = nil
            if candidates.count > 2 * configuration.posterCandidates {
                candidateSpacing *= 2
                candidates = candidates.filter { $0.index % 2 == 0 }.map { ($0.index / 2, $0.time, $0.score, $0.picture) }
            }
            nextCandidate = Int(time / candidateSpacing) + 1
        } else if candidates.isEmpty {
            fallback = (seconds, frame.clone())
        }
        if time >= Double(tiles.count) * tileInterval {
            let tile = try tileScaler.scale(frame)
            // A gap in the video (a damaged stretch) shows the picture that follows it.
            while time >= Double(tiles.count) * tileInterval { tiles.append(tile) }
            while tiles.count > configuration.maxTiles {
                tileInterval *= 2
                tiles = tiles.indices.filter { $0 % 2 == 0 }.map { tiles[$0] }
            }
        }
    }

    /// The poster and storyboard, now that the video is known to end at `end` seconds; nil when no frame came.
    func finish(end: Double) throws -> Thumbnails? {
        if candidates.isEmpty, let fallback {
            let picture = try posterScaler.scale(fallback.frame)
            candidates.append((0, fallback.time, Self.lumaVariance(picture), picture))
        }
        guard !candidates.isEmpty, !tiles.isEmpty else { return nil }
        let inside = candidates.filter { $0.time >= 0.05 * end && $0.time <= 0.95 * end }
        let best = (inside.isEmpty ? candidates : inside).max { $0.score < $1.score }!
        let poster = Poster(jpeg: try JPEGEncoder.encode(best.picture, quality: 3, logger: logger), time: .seconds(best.time),
                            width: posterSize.width, height: posterSize.height)
        let storyboard = try makeStoryboard(end: max(end, Double(tiles.count - 1) * tileInterval))
        logger.debug("Picked the poster and the storyboard", metadata: [
            "poster.time": "\(String(format: "%.3f", best.time))", "poster.candidates": "\(candidates.count)",
            "storyboard.tiles": "\(tiles.count)", "storyboard.interval": "\(tileInterval)",
        ])
        return Thumbnails(poster: poster, storyboard: storyboard)
    }

    private func makeStoryboard(end: Double) throws -> Storyboard {
        let count = tiles.count
        let (tileW, tileH) = tileSize
        let columns = min(configuration.columns, count)
        let rows = (count + columns - 1) / columns
        let sheet = Frame()
        sheet.pointer.pointee.width = Int32(tileW * columns)
        sheet.pointer.pointee.height = Int32(tileH * rows)
        sheet.pointer.pointee.format = AV_PIX_FMT_YUVJ420P.rawValue
        try check(av_frame_get_buffer(sheet.pointer, 0), "Could not allocate the sprite sheet", fallback: .limitExceeded)
        Self.fillBlack(sheet)
        var vtt = "WEBVTT\n\n"
        for (index, tile) in tiles.enumerated() {
            let x = (index % columns) * tileW, y = (index / columns) * tileH
            Self.copy(tile, into: sheet, x: x, y: y)
            let start = Double(index) * tileInterval
            let stop = index == count - 1 ? end : min(end, start + tileInterval)
            vtt += "\(Self.timestamp(start)) --> \(Self.timestamp(max(stop, start + 0.001)))\n"
            vtt += "\(configuration.spriteName)#xywh=\(x),\(y),\(tileW),\(tileH)\n\n"
        }
        return Storyboard(sprite: try JPEGEncoder.encode(sheet, quality: 5, logger: logger), spriteName: configuration.spriteName,
                          webVTT: vtt, interval: .seconds(tileInterval), tileWidth: tileW, tileHeight: tileH,
                          columns: columns, rows: rows, tileCount: count)
    }

    /// Variance of a sparse sample of an 8-bit luma plane: near zero for black, flat or faded frames.
    static func lumaVariance(_ frame: Frame) -> Double {
        let width = frame.width, height = frame.height
        guard let plane = frame.pointer.pointee.data.0, width > 0, height > 0 else { return 0 }
        let stride = Int(frame.pointer.pointee.linesize.0)
        var sum = 0.0, squares = 0.0, count = 0.0
        for y in Swift.stride(from: 0, to: height, by: max(1, height / 64)) {
            for x in Swift.stride(from: 0, to: width, by: max(1, width / 64)) {
                let value = Double(plane[y * stride + x])
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
    private static func withPlanes<T>(_ frame: Frame, _ body: ([UnsafeMutablePointer<UInt8>?], [Int32]) -> T) -> T {
        let data = frame.pointer.pointee.data
        let linesize = frame.pointer.pointee.linesize
        return body([data.0, data.1, data.2], [linesize.0, linesize.1, linesize.2])
    }

    /// `HH:MM:SS.mmm`, WebVTT's cue time.
    private static func timestamp(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let h = milliseconds / 3_600_000, m = milliseconds / 60_000 % 60, s = milliseconds / 1000 % 60, ms = milliseconds % 1000
        return String(format: "%02d:%02d:%02d.%03d", h, m, s, ms)
    }
}

/// Encodes single pictures as JPEG with FFmpeg's mjpeg encoder.
enum JPEGEncoder {
    /// The JPEG of `frame` (full-range 4:2:0, as ``Scaler`` makes with `AV_PIX_FMT_YUVJ420P`).
    ///
    /// - Parameter quality: the quantizer scale: 2 is near-lossless, 31 is worst; 3 keeps posters crisp at modest size.
    static func encode(_ frame: Frame, quality: Int32, logger: Logger) throws -> [UInt8] {
        let encoder = try CodecContext.encoder(named: "mjpeg", logger: logger)
        let context = encoder.pointer
        context.pointee.width = frame.pointer.pointee.width
        context.pointee.height = frame.pointer.pointee.height
        context.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
        context.pointee.time_base = AVRational(num: 1, den: 25)
        context.pointee.flags |= AV_CODEC_FLAG_QSCALE
        context.pointee.global_quality = quality * FF_QP2LAMBDA
        try encoder.open()
        let input = frame.clone()
        input.pointer.pointee.quality = quality * FF_QP2LAMBDA
        input.pointer.pointee.pts = 0
        input.pointer.pointee.pict_type = AV_PICTURE_TYPE_I
        try check(avcodec_send_frame(context, input.pointer), "Could not encode a JPEG", fallback: .encodeFailed)
        try check(avcodec_send_frame(context, nil), "Could not encode a JPEG", fallback: .encodeFailed)
        let packet = Packet()
        try check(avcodec_receive_packet(context, packet.pointer), "Could not encode a JPEG", fallback: .encodeFailed)
        return packet.bytes
    }
}
