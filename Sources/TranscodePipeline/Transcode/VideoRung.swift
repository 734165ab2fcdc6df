internal import CFFmpeg
import Logging
import VideoCore

/// One video rendition being encoded: its frame-rate converter and scaler (driven by the decoder
/// thread), its x264 encoder and the queue that feeds the encoder's own thread.
///
/// `@unchecked Sendable`: the converter state and scaler are touched only by the decoder thread,
/// the encoder only by the rung's thread; the queue between them is thread-safe.
final class VideoRung: @unchecked Sendable {
    let index: Int
    let rendition: Rendition
    let width: Int
    let height: Int
    /// Output frame rate as a rational (frames per second).
    let frameRate: AVRational
    let encoder: CodecContext
    let queue: BlockingQueue<Frame>
    let scaler: Scaler
    /// Output timestamps count in 1/timescale s; a packet's encoder-time-base value is multiplied by `timescaleFactor`.
    let timescale: Int32
    let timescaleFactor: Int64
    let track: TrackFormat
    private let segmentSlots: Double
    /// The forced keyframes before the regular grid, in output frame slots (the sink's opening keyframes).
    private let openingSlots: [Double]

    // Frame-rate conversion state (decoder thread).
    private var pending: (picture: SourcePicture, slot: Int64)?
    private var nextBoundary: Int = 0
    private(set) var framesQueued = 0
    private(set) var lastSlot: Int64 = -1

    /// The colour description written into a rung's stream: the source's own, or BT.709 for
    /// pictures the decoder thread tone-mapped from HDR.
    struct ColorTags {
        var primaries = AVCOL_PRI_UNSPECIFIED
        var transfer = AVCOL_TRC_UNSPECIFIED
        var space = AVCOL_SPC_UNSPECIFIED

        static let bt709 = ColorTags(primaries: AVCOL_PRI_BT709, transfer: AVCOL_TRC_BT709, space: AVCOL_SPC_BT709)
    }

    /// - Parameters:
    ///   - keyframeInterval: seconds between forced keyframes (the sink's segment length).
    ///   - openingKeyframes: seconds of the extra forced keyframes before the first multiple of
    ///     `keyframeInterval`, increasing, each below it (the sink's short opening segments).
    init(index: Int, rendition: Rendition, frameRate: AVRational, threads: Int, color: ColorTags, keyframeInterval: Double,
         openingKeyframes: [Double] = [], configuration: TranscodeConfiguration, logger: Logger) throws {
        self.index = index
        self.rendition = rendition
        width = rendition.width
        height = rendition.height
        self.frameRate = frameRate
        queue = BlockingQueue(capacity: configuration.queueDepth)
        scaler = Scaler(width: width, height: height)
        segmentSlots = keyframeInterval * av_q2d(frameRate)
        openingSlots = openingKeyframes.map { $0 * av_q2d(frameRate) }

        encoder = try CodecContext.encoder(named: "libx264", logger: logger)
        let context = encoder.pointer
        context.pointee.width = Int32(width)
        context.pointee.height = Int32(height)
        context.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        context.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        context.pointee.time_base = av_inv_q(frameRate)
        context.pointee.framerate = frameRate
        context.pointee.bit_rate = Int64(rendition.videoBitRate)
        context.pointee.rc_max_rate = Int64(rendition.maxBitRate)
        context.pointee.rc_buffer_size = Int32(clamping: rendition.bufferSize)
        // x264 must never place a keyframe of its own between the forced ones, or rungs drift apart.
        context.pointee.gop_size = Int32(segmentSlots.rounded(.up)) + 1
        context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        context.pointee.thread_count = Int32(threads)
        context.pointee.color_range = AVCOL_RANGE_MPEG
        context.pointee.color_primaries = color.primaries
        context.pointee.color_trc = color.transfer
        context.pointee.colorspace = color.space
        try encoder.setPrivateOption("preset", configuration.preset.name)
        try encoder.setPrivateOption("profile", configuration.profile.name)
        try encoder.setPrivateOption("forced-idr", "1")
        // Scene cuts would add keyframes at different frames on different rungs.
        try encoder.setPrivateOption("x264-params", "scenecut=0:open-gop=0")
        try encoder.open()

        // 90 kHz when it represents every frame time exactly (the MPEG convention packagers like).
        let timeBase = context.pointee.time_base
        if (90_000 * Int64(timeBase.num)) % Int64(timeBase.den) == 0 {
            timescale = 90_000
            timescaleFactor = 90_000 * Int64(timeBase.num) / Int64(timeBase.den)
        } else {
            timescale = timeBase.den
            timescaleFactor = Int64(timeBase.num)
        }
        let extradata = encoder.extradata
        track = TrackFormat(kind: .video, codec: "h264", extradata: extradata, timescale: timescale, width: width,
                            height: height, frameRate: Rational(Int(frameRate.num), Int(frameRate.den)),
                            bitRate: rendition.videoBitRate, codecString: CodecString.avc(extradata))
    }

    /// Seconds per output frame.
    var frameDuration: Double { 1 / av_q2d(frameRate) }

    /// Takes the next decoded picture at `seconds` from the start; queues the frames it completes.
    ///
    /// Constant frame rate: each picture owns the output slot nearest its time; a slot with no
    /// picture repeats the previous one, and a later picture for the same slot replaces it.
    /// - Returns: false when the job was cancelled.
    func accept(_ picture: SourcePicture, seconds: Double, source: [VideoRung]) throws -> Bool {
        let slot = Int64((seconds * av_q2d(frameRate)).rounded())
        guard let current = pending else {
            pending = (picture, max(0, slot))
            return true
        }
        if slot <= current.slot {
            pending = (picture, current.slot)
            return true
        }
        pending = (picture, slot)
        for emitted in current.slot..<slot {
            guard try emit(current.picture, slot: emitted, source: source) else { return false }
        }
        return true
    }

    /// Queues the last picture and closes the queue.
    func finish(source: [VideoRung]) throws {
        if let current = pending {
            _ = try emit(current.picture, slot: current.slot, source: source)
            pending = nil
        }
        queue.close()
    }

    private func emit(_ picture: SourcePicture, slot: Int64, source: [VideoRung]) throws -> Bool {
        let scaled = try picture.scaled(for: self, rungs: source)
        let frame = scaled.clone()
        frame.pointer.pointee.pts = slot
        // Decoded frames carry their source picture type; only forced boundaries may say I.
        var type = AV_PICTURE_TYPE_NONE
        if Double(slot) >= boundary(nextBoundary) - 1e-6 {
            type = AV_PICTURE_TYPE_I
            while boundary(nextBoundary) <= Double(slot) + 1e-6 { nextBoundary += 1 }
        }
        frame.pointer.pointee.pict_type = type
        frame.pointer.pointee.key_frame = type == AV_PICTURE_TYPE_I ? 1 : 0
        framesQueued += 1
        lastSlot = slot
        return queue.push(frame)
    }

    /// The frame slot of keyframe boundary `n`: 0, then the opening keyframes, then every multiple of the interval.
    private func boundary(_ n: Int) -> Double {
        if n == 0 { return 0 }
        if n <= openingSlots.count { return openingSlots[n - 1] }
        return Double(n - openingSlots.count) * segmentSlots
    }

    /// The encoder thread's loop: encode queued frames until the queue ends, then drain.
    func encodeAll(output: OutputChannel<JobOutput>, cancel: CancelFlag) throws {
        let packet = Packet()
        while let frame = queue.pop() {
            if cancel.isCancelled { return }
            try check(avcodec_send_frame(encoder.pointer, frame.pointer),
                      "The H.264 encoder for \(rendition.name) rejected a frame", fallback: .encodeFailed)
            guard try drain(packet, output: output) else { return }
        }
        if cancel.isCancelled { return }
        try check(avcodec_send_frame(encoder.pointer, nil), "Could not flush the H.264 encoder", fallback: .encodeFailed)
        _ = try drain(packet, output: output)
    }

    private func drain(_ packet: Packet, output: OutputChannel<JobOutput>) throws -> Bool {
        while true {
            let received = avcodec_receive_packet(encoder.pointer, packet.pointer)
            if received == averrorEAGAIN || received == averrorEOF { return true }
            try check(received, "The H.264 encoder for \(rendition.name) failed", fallback: .encodeFailed)
            let p = packet.pointer.pointee
            // libx264 in FFmpeg 5.1 leaves durations at 0: every packet is one frame long.
            let duration = p.duration > 0 ? p.duration : 1
            let encoded = EncodedPacket(data: packet.bytes, pts: p.pts * timescaleFactor, dts: p.dts * timescaleFactor,
                                        duration: duration * timescaleFactor, isKeyframe: p.flags & AV_PKT_FLAG_KEY != 0)
            packet.unref()
            guard output.push(.video(rung: index, packet: encoded)) else { return false }
        }
    }
}

/// One decoded picture and the sizes it has been scaled to so far, so smaller rungs scale from
/// the next larger rung's picture instead of the full-size one.
///
/// `@unchecked Sendable`: touched only by the decoder thread; frames handed on are clones.
final class SourcePicture: @unchecked Sendable {
    let frame: Frame
    private var scaled: [Int: Frame] = [:]

    init(_ frame: Frame) { self.frame = frame }

    func scaled(for rung: VideoRung, rungs: [VideoRung]) throws -> Frame {
        if let done = scaled[rung.index] { return done }
        let source = frame.pointer.pointee
        if Int(source.width) == rung.width, Int(source.height) == rung.height, source.format == AV_PIX_FMT_YUV420P.rawValue {
            scaled[rung.index] = frame
            return frame
        }
        // The smallest picture already made that is still at least as large as the target.
        var best = frame
        for (index, candidate) in scaled where candidate.width >= rung.width && candidate.height >= rung.height {
            if candidate.width * candidate.height < best.width * best.height && rungs[index].width >= rung.width {
                best = candidate
            }
        }
        let result = try rung.scaler.scale(best)
        scaled[rung.index] = result
        return result
    }
}

/// What the worker threads hand to the consumer task.
enum JobOutput: Sendable {
    case video(rung: Int, packet: EncodedPacket)
    case audio(encoder: Int, packet: EncodedPacket)
}
