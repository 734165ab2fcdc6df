internal import CFFmpeg
import Logging
import VideoCore
internal import Foundation

/// A libavfilter graph with no input and one output: a source filter chain such as
/// `testsrc2=…,format=yuv420p`, read frame by frame from its buffer sink. Used by one thread.
final class SourceGraph {
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var sink: UnsafeMutablePointer<AVFilterContext>?
    let frame = Frame()

    /// Builds `chain` ending in a `buffersink` (`abuffersink` when `audio`); `frameSize` fixes the
    /// number of samples per audio frame (what the AAC encoder takes).
    init(chain: String, audio: Bool, frameSize: Int32? = nil) throws {
        guard let graph = avfilter_graph_alloc() else {
            throw VideoStackError(.limitExceeded, "Out of memory creating a filter graph.")
        }
        self.graph = graph
        // Our own code only runs the graph from one thread; a single-threaded graph keeps the
        // few milliseconds of work off the shared cores' other threads.
        graph.pointee.nb_threads = 1
        try check(avfilter_graph_create_filter(&sink, avfilter_get_by_name(audio ? "abuffersink" : "buffersink"), "out", nil, nil, graph),
                  "Could not create the test pattern's output", fallback: .unsupported)
        var inputs = avfilter_inout_alloc()
        var outputs: UnsafeMutablePointer<AVFilterInOut>? = nil
        defer {
            avfilter_inout_free(&inputs)
            avfilter_inout_free(&outputs)
        }
        guard let chainOutput = inputs else {
            throw VideoStackError(.limitExceeded, "Out of memory creating a filter graph.")
        }
        chainOutput.pointee.name = av_strdup("out")
        chainOutput.pointee.filter_ctx = sink
        try check(avfilter_graph_parse_ptr(graph, chain, &inputs, &outputs, nil),
                  "Could not build the test pattern filter '\(chain)'", fallback: .unsupported)
        try check(avfilter_graph_config(graph, nil), "Could not set up the test pattern filter '\(chain)'", fallback: .unsupported)
        if let frameSize { av_buffersink_set_frame_size(sink, UInt32(frameSize)) }
    }

    deinit {
        avfilter_graph_free(&graph)
    }

    /// The sink's time base (what the frames' pts count in).
    var timeBase: AVRational { av_buffersink_get_time_base(sink) }

    /// Reads the next frame into ``frame``; false at the end of the source.
    func next() throws -> Bool {
        frame.unref()
        let received = av_buffersink_get_frame(sink, frame.pointer)
        if received == averrorEOF { return false }
        try check(received, "Could not make a test pattern frame", fallback: .internal)
        return true
    }
}

/// The blocking work of ``TestPattern/write(to:logger:)``: two source graphs, two encoders, one muxer.
final class TestPatternWriter {
    private let pattern: TestPattern
    private let url: URL
    private let logger: Logger
    private let cancel: CancelFlag

    private var context: UnsafeMutablePointer<AVFormatContext>?
    private let packet = Packet()

    init(pattern: TestPattern, url: URL, logger: Logger, cancel: CancelFlag) {
        self.pattern = pattern
        self.url = url
        self.logger = logger
        self.cancel = cancel
    }

    deinit {
        if let context {
            FFmpegLog.shared.unregister(UnsafeMutableRawPointer(context))
            if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 { avio_closep(&context.pointee.pb) }
            avformat_free_context(context)
        }
    }

    /// One encoded track: its source, its encoder and the muxer's stream.
    private final class Track {
        let source: SourceGraph
        let encoder: CodecContext
        let stream: UnsafeMutablePointer<AVStream>
        let isVideo: Bool
        /// The next frame's pts (in the encoder's time base), to interleave by; nil once flushed.
        var nextTime: Int64? = 0
        var framesSent: Int64 = 0

        init(source: SourceGraph, encoder: CodecContext, stream: UnsafeMutablePointer<AVStream>, isVideo: Bool) {
            self.source = source
            self.encoder = encoder
            self.stream = stream
            self.isVideo = isVideo
        }
    }

    func run() throws {
        let seconds = String(format: "%.6f", pattern.duration.inSeconds)
        var optional: UnsafeMutablePointer<AVFormatContext>?
        try check(avformat_alloc_output_context2(&optional, nil, pattern.container.muxer, url.path),
                  "Could not create a \(pattern.container.muxer) file at \(url.path)", fallback: .unsupported)
        let context = optional!
        self.context = context
        FFmpegLog.shared.register(UnsafeMutableRawPointer(context), logger: logger)
        let globalHeader = context.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0

        var tracks: [Track] = []
        let video = try SourceGraph(chain: "testsrc2=size=\(pattern.width)x\(pattern.height):rate=\(pattern.frameRate):duration=\(seconds),format=yuv420p",
                                    audio: false)
        let x264 = try CodecContext.encoder(named: "libx264", logger: logger)
        x264.pointer.pointee.width = Int32(pattern.width)
        x264.pointer.pointee.height = Int32(pattern.height)
        x264.pointer.pointee.pix_fmt = AV_PIX_FMT_YUV420P
        x264.pointer.pointee.time_base = AVRational(num: 1, den: Int32(pattern.frameRate))
        x264.pointer.pointee.framerate = AVRational(num: Int32(pattern.frameRate), den: 1)
        x264.pointer.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        let gop = max(1, Int32((pattern.keyframeInterval.inSeconds * Double(pattern.frameRate)).rounded()))
        x264.pointer.pointee.gop_size = gop
        x264.pointer.pointee.keyint_min = gop
        x264.pointer.pointee.thread_count = 1
        if globalHeader { x264.pointer.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
        try x264.setPrivateOption("preset", "ultrafast")
        // Closed GOPs at a fixed interval, no scene cuts: keyframes exactly where asked.
        try x264.setPrivateOption("x264-params", "scenecut=0:open-gop=0")
        try x264.open()
        tracks.append(Track(source: video, encoder: x264, stream: try addStream(for: x264, to: context), isVideo: true))

        if let tone = pattern.toneFrequency {
            let aac = try CodecContext.encoder(named: "aac", logger: logger)
            aac.pointer.pointee.sample_fmt = AV_SAMPLE_FMT_FLTP
            aac.pointer.pointee.sample_rate = 48_000
            av_channel_layout_default(&aac.pointer.pointee.ch_layout, 2)
            aac.pointer.pointee.bit_rate = 96_000
            aac.pointer.pointee.time_base = AVRational(num: 1, den: 48_000)
            if globalHeader { aac.pointer.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER }
            try aac.open()
            let frameSize = aac.pointer.pointee.frame_size > 0 ? aac.pointer.pointee.frame_size : 1024
            let audio = try SourceGraph(
                chain: "sine=frequency=\(tone):sample_rate=48000:duration=\(seconds),aformat=sample_fmts=fltp:channel_layouts=stereo",
                audio: true, frameSize: frameSize)
            tracks.append(Track(source: audio, encoder: aac, stream: try addStream(for: aac, to: context), isVideo: false))
        }

        if context.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            let opened = avio_open(&context.pointee.pb, url.path, AVIO_FLAG_WRITE)
            if opened < 0, opened > -4096 {
                let reason = String(cString: strerror(-opened))
                throw VideoStackError(.io, "Could not create \(url.path) (\(reason)); check that the directory exists and is writable.",
                                      cause: POSIXErrorCode(-opened, "open(\(url.path), O_WRONLY|O_CREAT): \(reason)"))
            }
            try check(opened, "Could not create \(url.path); check that the directory exists and is writable", fallback: .io)
        }
        var options: OpaquePointer?
        if pattern.container == .mp4 || pattern.container == .quickTime { av_dict_set(&options, "movflags", "+faststart", 0) }
        defer { av_dict_free(&options) }
        try check(avformat_write_header(context, &options), "Could not start \(url.lastPathComponent)", fallback: .io)

        // Interleave: always feed the track whose next frame comes first.
        while let track = tracks.filter({ $0.nextTime != nil }).min(by: { earlier($0, than: $1) }) {
            if cancel.isCancelled {
                throw VideoStackError(.cancelled, "Writing the test pattern \(url.lastPathComponent) was cancelled.")
            }
            try step(track, context: context)
        }
        try check(av_write_trailer(context), "Could not finish \(url.lastPathComponent)", fallback: .io)
        logger.debug("test pattern written", metadata: ["file": "\(url.lastPathComponent)", "frames": "\(tracks[0].framesSent)"])
    }

    private func earlier(_ a: Track, than b: Track) -> Bool {
        av_compare_ts(a.nextTime ?? .max, a.encoder.pointer.pointee.time_base, b.nextTime ?? .max, b.encoder.pointer.pointee.time_base) < 0
    }

    private func addStream(for encoder: CodecContext, to context: UnsafeMutablePointer<AVFormatContext>) throws -> UnsafeMutablePointer<AVStream> {
        guard let stream = avformat_new_stream(context, nil) else {
            throw VideoStackError(.limitExceeded, "Out of memory adding a stream to \(url.lastPathComponent).")
        }
        try check(avcodec_parameters_from_context(stream.pointee.codecpar, encoder.pointer), "Could not describe a test pattern stream")
        stream.pointee.time_base = encoder.pointer.pointee.time_base
        if encoder.pointer.pointee.codec_type == AVMEDIA_TYPE_VIDEO {
            stream.pointee.avg_frame_rate = encoder.pointer.pointee.framerate
            stream.pointee.sample_aspect_ratio = encoder.pointer.pointee.sample_aspect_ratio
        }
        return stream
    }

    /// Sends the track's next frame (or the flush at its end) and writes what the encoder returns.
    private func step(_ track: Track, context: UnsafeMutablePointer<AVFormatContext>) throws {
        let encoder = track.encoder.pointer
        if try track.source.next() {
            let frame = track.source.frame.pointer
            frame.pointee.pts = av_rescale_q(frame.pointee.pts, track.source.timeBase, encoder.pointee.time_base)
            if track.isVideo { frame.pointee.pict_type = AV_PICTURE_TYPE_NONE }
            track.nextTime = frame.pointee.pts + (track.isVideo ? 1 : Int64(frame.pointee.nb_samples))
            track.framesSent += 1
            try check(avcodec_send_frame(encoder, frame), "Could not encode a test pattern frame", fallback: .encodeFailed)
        } else {
            track.nextTime = nil
            try check(avcodec_send_frame(encoder, nil), "Could not finish encoding the test pattern", fallback: .encodeFailed)
        }
        while true {
            let received = avcodec_receive_packet(encoder, packet.pointer)
            if received == averrorEAGAIN || received == averrorEOF { return }
            try check(received, "Could not encode a test pattern frame", fallback: .encodeFailed)
            // libx264 in FFmpeg 5.1 leaves durations at zero; one frame in the encoder's time base.
            if track.isVideo, packet.pointer.pointee.duration == 0 { packet.pointer.pointee.duration = 1 }
            av_packet_rescale_ts(packet.pointer, encoder.pointee.time_base, track.stream.pointee.time_base)
            packet.pointer.pointee.stream_index = track.stream.pointee.index
            // av_interleaved_write_frame takes the packet's reference (and leaves it blank).
            try check(av_interleaved_write_frame(context, packet.pointer), "Could not write to \(url.lastPathComponent)", fallback: .io)
        }
    }
}
