internal import CFFmpeg
import Logging
import VideoCore

/// An owned `AVCodecContext` (a decoder or an encoder), freed in `deinit`. Used by one thread at a time.
final class CodecContext {
    let pointer: UnsafeMutablePointer<AVCodecContext>

    private init(codec: UnsafePointer<AVCodec>, logger: Logger) throws {
        guard let context = avcodec_alloc_context3(codec) else {
            throw VideoStackError(.limitExceeded, "Out of memory creating a codec context.")
        }
        pointer = context
        // Frame-threaded decoders log from copies of the context; the copies keep `opaque`, which
        // is how their lines find this context's logger (see FFmpegLog).
        context.pointee.opaque = UnsafeMutableRawPointer(context)
        FFmpegLog.shared.register(UnsafeMutableRawPointer(context), logger: logger)
    }

    deinit {
        FFmpegLog.shared.unregister(UnsafeMutableRawPointer(pointer))
        var optional: UnsafeMutablePointer<AVCodecContext>? = pointer
        avcodec_free_context(&optional)
    }

    /// Error-level lines this codec has logged so far (concealed damage shows up only there).
    var loggedErrors: Int { FFmpegLog.shared.errorCount(UnsafeMutableRawPointer(pointer)) }

    /// Opens a decoder for stream `stream` of an input.
    ///
    /// - Parameter threads: 0 lets FFmpeg pick (the API's own default is 1, unlike the CLI's).
    /// - Throws: `.unsupported` when this FFmpeg build has no decoder for the codec.
    static func decoder(for stream: UnsafeMutablePointer<AVStream>, threads: Int = 0, logger: Logger) throws -> CodecContext {
        let parameters = stream.pointee.codecpar!
        let id = parameters.pointee.codec_id
        guard let codec = avcodec_find_decoder(id) else {
            let name = avcodec_get_name(id).map { String(cString: $0) } ?? "unknown"
            throw VideoStackError(.unsupported, "Stream \(stream.pointee.index) uses the codec '\(name)', which this build cannot decode; re-export the video as H.264, HEVC, VP9 or AV1.")
        }
        let context = try CodecContext(codec: codec, logger: logger)
        try check(avcodec_parameters_to_context(context.pointer, parameters), "Could not set up the decoder")
        context.pointer.pointee.pkt_timebase = stream.pointee.time_base
        context.pointer.pointee.thread_count = Int32(threads)
        context.pointer.pointee.thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE
        try check(avcodec_open2(context.pointer, codec, nil),
                  "Could not open the \(String(cString: codec.pointee.name)) decoder", fallback: .unsupported)
        return context
    }

    /// Creates (but does not open) an encoder by FFmpeg name, e.g. `"libx264"`, `"aac"`, `"mjpeg"`.
    static func encoder(named name: String, logger: Logger) throws -> CodecContext {
        guard let codec = avcodec_find_encoder_by_name(name) else {
            throw VideoStackError(.unsupported, "This FFmpeg build has no '\(name)' encoder; install Debian's libavcodec with it.")
        }
        return try CodecContext(codec: codec, logger: logger)
    }

    /// Sets a codec-private option (e.g. x264's `preset`); an unknown option is a programming error here.
    func setPrivateOption(_ name: String, _ value: String) throws {
        guard let privateData = pointer.pointee.priv_data else { return }
        try check(av_opt_set(privateData, name, value, 0), "Could not set the encoder option \(name)=\(value)", fallback: .encodeFailed)
    }

    /// Opens an encoder created with ``encoder(named:logger:)`` after its fields are set.
    func open() throws {
        try check(avcodec_open2(pointer, pointer.pointee.codec, nil),
                  "Could not open the \(String(cString: pointer.pointee.codec.pointee.name)) encoder with these settings",
                  fallback: .encodeFailed)
    }

    /// The codec-specific configuration bytes (SPS/PPS, AudioSpecificConfig).
    var extradata: [UInt8] {
        let size = Int(pointer.pointee.extradata_size)
        guard size > 0, let data = pointer.pointee.extradata else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}
