internal import CFFmpeg
import Logging
import VideoCore
internal import Foundation

/// Decodes the video frame shown at a given time, by seeking to the keyframe before it and
/// decoding forward. Used by one thread at a time.
final class FrameGrabber {
    let input: InputFile
    let decoder: StreamDecoder
    private let packet = Packet()
    private let origin: Double
    /// What a picture needs to look as it plays: upright, tone-mapped, deinterlaced.
    private let plan: PictureFilter.Plan

    init(url: URL, logger: Logger, cancel: CancelFlag) throws {
        input = try InputFile(url: url, logger: logger, cancel: cancel)
        guard let index = input.bestStream(AVMEDIA_TYPE_VIDEO) else {
            throw VideoStackError(.invalidInput, "\(url.lastPathComponent) has no video stream to take pictures from.")
        }
        let parameters = input.stream(index).pointee.codecpar.pointee
        if Int(parameters.width) * Int(parameters.height) > 8192 * 4320 || parameters.width <= 0 || parameters.height <= 0 {
            throw VideoStackError(.limitExceeded, "\(url.lastPathComponent) declares a \(parameters.width)x\(parameters.height) picture, which this service does not accept.")
        }
        decoder = try StreamDecoder(input: input, streamIndex: index, logger: logger)
        origin = input.startSeconds
        plan = PictureFilter.Plan(stream: input.stream(index))
    }

    /// Display size: the sample aspect ratio applied.
    var displaySize: (width: Int, height: Int) {
        let stream = input.stream(decoder.streamIndex)
        let parameters = stream.pointee.codecpar.pointee
        var sar = stream.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = parameters.sample_aspect_ratio }
        var width = Double(parameters.width)
        if sar.num > 0, sar.den > 0 { width *= Double(sar.num) / Double(sar.den) }
        let size = (width: Int(width.rounded()), height: Int(parameters.height))
        return plan.rotation == 90 || plan.rotation == 270 ? (size.height, size.width) : size
    }

    /// `frame` as a viewer sees it: turned upright, tone-mapped from HDR, deinterlaced.
    private func prepared(_ frame: Frame) throws -> Frame {
        var plan = plan
        plan.adopt(frame)
        guard !plan.isEmpty else { return frame }
        let filter = try PictureFilter(plan: plan, first: frame, timeBase: decoder.timeBase)
        var result: Frame?
        try filter.filter(frame) { result = $0.clone() }
        try filter.filter(nil) { result = $0.clone() }
        return result ?? frame
    }

    /// The frame at `seconds` from the start (the last one when the video ends before it), or nil when none decodes.
    /// Reads at most a few thousand packets past the seek point, so damaged files cannot make it spin.
    func frame(at seconds: Double) throws -> (frame: Frame, seconds: Double)? {
        try input.seek(to: max(0, seconds))
        avcodec_flush_buffers(decoder.codec.pointer)
        var best: (Frame, Double)?
        var packets = 0
        while packets < 5000 {
            if input.cancel.isCancelled { throw VideoStackError(.cancelled, "Cancelled.") }
            let more: Bool
            do { more = try input.read(into: packet) } catch let error as VideoStackError where error.code == .corrupt { more = false }
            if !more {
                try decoder.decode(nil) { frame in best = (frame.clone(), self.time(of: frame)) }
                break
            }
            defer { packet.unref() }
            guard packet.streamIndex == decoder.streamIndex else { continue }
            packets += 1
            var reached = false
            try decoder.decode(packet) { frame in
                let time = self.time(of: frame)
                if best == nil || time <= seconds + 0.001 || !reached {
                    best = (frame.clone(), time)
                }
                if time >= seconds - 0.001 { reached = true }
            }
            if reached { break }
        }
        return try best.map { (try prepared($0.0), $0.1) }
    }

    private func time(of frame: Frame) -> Double {
        let stamp = frame.pointer.pointee.best_effort_timestamp
        return stamp == noPTS ? 0 : decoder.seconds(stamp) - origin
    }
}

/// Encodes single pictures as JPEG with FFmpeg's mjpeg encoder.
enum JPEGWriter {
    /// Encodes `frame` (full-range 4:2:0, as ``Scaler`` makes with `AV_PIX_FMT_YUVJ420P`) and writes it to `url`.
    static func write(_ frame: Frame, to url: URL, quality: Int32 = 3, logger: Logger) throws {
        let encoder = try CodecContext.encoder(named: "mjpeg", logger: logger)
        let context = encoder.pointer
        context.pointee.width = frame.pointer.pointee.width
        context.pointee.height = frame.pointer.pointee.height
        context.pointee.pix_fmt = AV_PIX_FMT_YUVJ420P
        context.pointee.time_base = AVRational(num: 1, den: 25)
        context.pointee.flags |= AV_CODEC_FLAG_QSCALE
        // The quantizer scale: 2 is near-lossless, 31 is worst; 3 keeps posters crisp at modest size.
        context.pointee.global_quality = quality * FF_QP2LAMBDA
        try encoder.open()
        frame.pointer.pointee.quality = quality * FF_QP2LAMBDA
        frame.pointer.pointee.pts = 0
        frame.pointer.pointee.pict_type = AV_PICTURE_TYPE_I
        try check(avcodec_send_frame(context, frame.pointer), "Could not encode a JPEG", fallback: .encodeFailed)
        try check(avcodec_send_frame(context, nil), "Could not encode a JPEG", fallback: .encodeFailed)
        let packet = Packet()
        try check(avcodec_receive_packet(context, packet.pointer), "Could not encode a JPEG", fallback: .encodeFailed)
        do {
            try Data(packet.bytes).write(to: url, options: .atomic)
        } catch {
            throw VideoStackError(.io, "Could not write \(url.path); check that the directory exists and is writable.",
                                  cause: ErrorDescription(error))
        }
    }
}
