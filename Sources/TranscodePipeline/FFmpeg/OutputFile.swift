internal import CFFmpeg
import Logging
import VideoCore
internal import Foundation

/// An owned output `AVFormatContext` writing a file (MP4 by default), closed in `deinit`.
/// Used by one thread at a time.
final class OutputFile {
    private let context: UnsafeMutablePointer<AVFormatContext>
    private let timeBases: [AVRational]
    private let packet = Packet()
    private var headerWritten = false
    private var trailerWritten = false
    let url: URL

    /// Creates the file and writes its header.
    ///
    /// - Parameter options: muxer options, e.g. `["movflags": "+faststart"]`.
    init(url: URL, format: String, tracks: [TrackFormat], options: [String: String], logger: Logger) throws {
        self.url = url
        var optional: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&optional, nil, format, url.path),
                  "Could not create a \(format) file at \(url.path)", fallback: .unsupported)
        context = optional!
        FFmpegLog.shared.register(UnsafeMutableRawPointer(context), logger: logger)
        var timeBases: [AVRational] = []
        for track in tracks {
            guard let stream = avformat_new_stream(context, nil) else {
                throw VideoStackError(.limitExceeded, "Out of memory adding a stream to \(url.lastPathComponent).")
            }
            guard let descriptor = avcodec_descriptor_get_by_name(track.codec) else {
                throw VideoStackError(.unsupported, "The codec '\(track.codec)' is unknown to FFmpeg.")
            }
            let parameters = stream.pointee.codecpar!
            parameters.pointee.codec_type = track.kind == .video ? AVMEDIA_TYPE_VIDEO : AVMEDIA_TYPE_AUDIO
            parameters.pointee.codec_id = descriptor.pointee.id
            parameters.pointee.bit_rate = Int64(track.bitRate)
            if !track.extradata.isEmpty {
                let size = track.extradata.count
                guard let bytes = av_mallocz(size + Int(AV_INPUT_BUFFER_PADDING_SIZE)) else {
                    throw VideoStackError(.limitExceeded, "Out of memory.")
                }
                track.extradata.withUnsafeBytes { bytes.copyMemory(from: $0.baseAddress!, byteCount: size) }
                parameters.pointee.extradata = bytes.assumingMemoryBound(to: UInt8.self)
                parameters.pointee.extradata_size = Int32(size)
            }
            if track.kind == .video {
                parameters.pointee.width = Int32(track.width)
                parameters.pointee.height = Int32(track.height)
                parameters.pointee.format = AV_PIX_FMT_YUV420P.rawValue
                parameters.pointee.sample_aspect_ratio = AVRational(num: Int32(track.sampleAspectRatio.numerator),
                                                                    den: Int32(track.sampleAspectRatio.denominator))
                stream.pointee.sample_aspect_ratio = parameters.pointee.sample_aspect_ratio
                if let rate = track.frameRate {
                    stream.pointee.avg_frame_rate = AVRational(num: Int32(rate.numerator), den: Int32(rate.denominator))
                }
            } else {
                parameters.pointee.sample_rate = Int32(track.sampleRate)
                av_channel_layout_default(&parameters.pointee.ch_layout, Int32(track.channels))
                parameters.pointee.format = AV_SAMPLE_FMT_FLTP.rawValue
                parameters.pointee.frame_size = 1024
            }
            stream.pointee.time_base = AVRational(num: 1, den: track.timescale)
            timeBases.append(stream.pointee.time_base)
        }
        self.timeBases = timeBases
        if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            let opened = avio_open(&context.pointee.pb, url.path, AVIO_FLAG_WRITE)
            if opened < 0, opened > -4096 {
                // FFmpeg's file protocol returns open(2)'s errno, negated.
                let code = -opened
                let reason = String(cString: strerror(code))
                throw VideoStackError(.io,
                                      "Could not create \(url.path) (\(reason)); check that the directory exists and is writable.",
                                      cause: POSIXErrorCode(code, "open(\(url.path), O_WRONLY|O_CREAT): \(reason)"))
            }
            try check(opened, "Could not create \(url.path); check that the directory exists and is writable", fallback: .io)
        }
        var dictionary: OpaquePointer?
        for (key, value) in options { av_dict_set(&dictionary, key, value, 0) }
        defer { av_dict_free(&dictionary) }
        try check(avformat_write_header(context, &dictionary), "Could not start \(url.lastPathComponent)", fallback: .io)
        headerWritten = true
    }

    deinit {
        FFmpegLog.shared.unregister(UnsafeMutableRawPointer(context))
        if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            avio_closep(&context.pointee.pb)
        }
        avformat_free_context(context)
    }

    /// Writes one packet of track `track`, timestamps in that track's timescale.
    func write(_ encoded: EncodedPacket, track: Int) throws {
        let pointer = packet.pointer
        try check(av_new_packet(pointer, Int32(encoded.data.count)), "Out of memory", fallback: .limitExceeded)
        defer { packet.unref() }
        encoded.data.withUnsafeBytes { source in
            if let base = source.baseAddress { pointer.pointee.data.update(from: base.assumingMemoryBound(to: UInt8.self), count: source.count) }
        }
        let stream = context.pointee.streams[track]!
        let from = timeBases[track]
        pointer.pointee.pts = av_rescale_q(encoded.pts, from, stream.pointee.time_base)
        pointer.pointee.dts = av_rescale_q(encoded.dts, from, stream.pointee.time_base)
        pointer.pointee.duration = av_rescale_q(encoded.duration, from, stream.pointee.time_base)
        pointer.pointee.stream_index = Int32(track)
        if encoded.isKeyframe { pointer.pointee.flags |= AV_PKT_FLAG_KEY }
        try check(av_interleaved_write_frame(context, pointer), "Could not write to \(url.lastPathComponent)", fallback: .io)
    }

    /// Flushes interleaving buffers and writes the index (for MP4, the `moov` box).
    func finish() throws {
        guard headerWritten, !trailerWritten else { return }
        trailerWritten = true
        try check(av_write_trailer(context), "Could not finish \(url.lastPathComponent)", fallback: .io)
    }
}
