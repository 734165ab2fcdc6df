internal import CFFmpeg
import Logging
import VideoCore

/// Resamples decoded audio to stereo float at the output rate and encodes it to AAC-LC once per
/// distinct bit rate; renditions that share a bit rate share the packets.
///
/// Runs on the decoder thread only.
final class AudioChain {
    let bitRates: [Int]
    let encoders: [CodecContext]
    let tracks: [TrackFormat]
    private let sampleRate: Int32
    private var resampler: OpaquePointer?
    private let fifo: OpaquePointer
    private var layout = AVChannelLayout()
    private var firstSample: Int64?
    private var samplesSent: Int64 = 0
    private let packet = Packet()
    private(set) var endSeconds: Double = 0
    private var inputKey: InputKey?

    /// What the resampler was set up for.
    private struct InputKey: Equatable {
        var channels: Int32
        var mask: UInt64
        var format: Int32
        var rate: Int32

        init(_ frame: UnsafeMutablePointer<AVFrame>) {
            channels = frame.pointee.ch_layout.nb_channels
            mask = frame.pointee.ch_layout.order == AV_CHANNEL_ORDER_NATIVE ? frame.pointee.ch_layout.u.mask : 0
            format = frame.pointee.format
            rate = frame.pointee.sample_rate
        }
    }

    init(bitRates: [Int], sampleRate: Int, logger: Logger) throws {
        self.bitRates = bitRates
        self.sampleRate = Int32(sampleRate)
        av_channel_layout_default(&layout, 2)
        guard let fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, 2, 4096) else {
            throw VideoStackError(.limitExceeded, "Out of memory creating the audio buffer.")
        }
        self.fifo = fifo
        var encoders: [CodecContext] = []
        var tracks: [TrackFormat] = []
        for bitRate in bitRates {
            let encoder = try CodecContext.encoder(named: "aac", logger: logger)
            let context = encoder.pointer
            context.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
            context.pointee.sample_rate = Int32(sampleRate)
            av_channel_layout_copy(&context.pointee.ch_layout, &layout)
            context.pointee.bit_rate = Int64(bitRate)
            context.pointee.time_base = AVRational(num: 1, den: Int32(sampleRate))
            context.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
            try encoder.open()
            encoders.append(encoder)
            let extradata = encoder.extradata
            tracks.append(TrackFormat(kind: .audio, codec: "aac", extradata: extradata, timescale: Int32(sampleRate),
                                      sampleRate: sampleRate, channels: 2, bitRate: bitRate,
                                      codecString: CodecString.aac(extradata)))
        }
        self.encoders = encoders
        self.tracks = tracks
    }

    deinit {
        swr_free(&resampler)
        av_audio_fifo_free(fifo)
        av_channel_layout_uninit(&layout)
    }

    /// Takes one decoded frame whose first sample plays at `seconds` from the start of the output.
    /// - Returns: false when the job was cancelled.
    func accept(_ frame: Frame, seconds: Double, output: OutputChannel<JobOutput>) throws -> Bool {
        if firstSample == nil {
            // Audio that starts later than the video starts later in the output too.
            firstSample = max(0, Int64((seconds * Double(sampleRate)).rounded()))
        }
        // Decoders of raw PCM leave the channel order unspecified; the resampler wants a real
        // layout, on the frame too (swr_convert_frame checks the frame against its setup).
        if frame.pointer.pointee.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC {
            let channels = frame.pointer.pointee.ch_layout.nb_channels
            av_channel_layout_uninit(&frame.pointer.pointee.ch_layout)
            av_channel_layout_default(&frame.pointer.pointee.ch_layout, channels)
        }
        let key = InputKey(frame.pointer)
        if resampler == nil || key != inputKey {
            // A stream whose format changes midway (spliced or damaged files): drain and start over.
            if resampler != nil { try resample(nil) }
            swr_free(&resampler)
            var input = frame.pointer.pointee.ch_layout
            try check(swr_alloc_set_opts2(&resampler, &layout, AV_SAMPLE_FMT_FLTP, sampleRate, &input,
                                          AVSampleFormat(rawValue: frame.pointer.pointee.format),
                                          frame.pointer.pointee.sample_rate, 0, nil),
                      "Could not set up audio resampling", fallback: .unsupported)
            try check(swr_init(resampler), "Could not set up audio resampling from this input's format", fallback: .unsupported)
            inputKey = key
        }
        try resample(frame.pointer)
        return try encodeFull(output: output, flush: false)
    }

    /// Drains the resampler and the encoders.
    func finish(output: OutputChannel<JobOutput>) throws {
        if resampler != nil { try resample(nil) }
        guard try encodeFull(output: output, flush: true) else { return }
        for index in encoders.indices {
            try check(avcodec_send_frame(encoders[index].pointer, nil), "Could not flush the AAC encoder", fallback: .encodeFailed)
            guard try drain(index, output: output) else { return }
        }
    }

    private func resample(_ input: UnsafeMutablePointer<AVFrame>?) throws {
        let converted = Frame()
        converted.pointer.pointee.sample_rate = sampleRate
        converted.pointer.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
        av_channel_layout_copy(&converted.pointer.pointee.ch_layout, &layout)
        try check(swr_convert_frame(resampler, converted.pointer, input), "Could not resample the audio", fallback: .decodeFailed)
        let count = converted.pointer.pointee.nb_samples
        guard count > 0, let planes = converted.pointer.pointee.extended_data else { return }
        let written = planes.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 2) {
            av_audio_fifo_write(fifo, $0, count)
        }
        try check(written, "Could not buffer audio", fallback: .limitExceeded)
    }

    /// Encodes every full 1024-sample frame in the buffer (and the partial rest when flushing).
    private func encodeFull(output: OutputChannel<JobOutput>, flush: Bool) throws -> Bool {
        let frameSize = Int32(encoders.first.map { max(1, $0.pointer.pointee.frame_size) } ?? 1024)
        while av_audio_fifo_size(fifo) >= frameSize || (flush && av_audio_fifo_size(fifo) > 0) {
            let count = min(frameSize, av_audio_fifo_size(fifo))
            let frame = Frame()
            frame.pointer.pointee.nb_samples = count
            frame.pointer.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
            frame.pointer.pointee.sample_rate = sampleRate
            av_channel_layout_copy(&frame.pointer.pointee.ch_layout, &layout)
            try check(av_frame_get_buffer(frame.pointer, 0), "Could not allocate an audio frame", fallback: .limitExceeded)
            let read = frame.pointer.pointee.extended_data.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 2) {
                av_audio_fifo_read(fifo, $0, count)
            }
            try check(read, "Could not read buffered audio")
            frame.pointer.pointee.pts = (firstSample ?? 0) + samplesSent
            samplesSent += Int64(count)
            endSeconds = Double((firstSample ?? 0) + samplesSent) / Double(sampleRate)
            for index in encoders.indices {
                try check(avcodec_send_frame(encoders[index].pointer, frame.pointer), "The AAC encoder rejected a frame",
                          fallback: .encodeFailed)
                guard try drain(index, output: output) else { return false }
            }
        }
        return true
    }

    private func drain(_ index: Int, output: OutputChannel<JobOutput>) throws -> Bool {
        while true {
            let received = avcodec_receive_packet(encoders[index].pointer, packet.pointer)
            if received == averrorEAGAIN || received == averrorEOF { return true }
            try check(received, "The AAC encoder failed", fallback: .encodeFailed)
            let p = packet.pointer.pointee
            let encoded = EncodedPacket(data: packet.bytes, pts: p.pts, dts: p.dts, duration: max(1, p.duration),
                                        isKeyframe: true)
            packet.unref()
            guard output.push(.audio(encoder: index, packet: encoded)) else { return false }
        }
    }
}
