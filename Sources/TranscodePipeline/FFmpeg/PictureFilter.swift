internal import CFFmpeg
import Logging
import VideoCore

/// What the decoder thread does to every picture before the rungs scale it, as one libavfilter
/// graph: deinterlace (bwdif), tone-map HDR to SDR BT.709, and turn upright by the display
/// matrix. Sources that need none of it get no graph and no extra copy. Used by one thread.
final class PictureFilter {
    /// What a source needs, read from its stream parameters when the input opens.
    struct Plan {
        /// Fields to weave into frames (the stream declares an interlaced field order).
        var deinterlace = false
        /// The source's HDR transfer (PQ or HLG) to tone-map to SDR, with its primaries and matrix.
        var toneMap: ToneMap?
        /// Clockwise degrees to turn: 0, 90, 180 or 270.
        var rotation = 0

        var isEmpty: Bool { !deinterlace && toneMap == nil && rotation == 0 }

        /// Readies a decoded `frame` for the graph: its pts becomes the decoder's best-effort
        /// timestamp (a graph carries pts, not that guess), and an interlaced frame turns
        /// deinterlacing on (a stream may not say so up front, or turn interlaced later).
        mutating func adopt(_ frame: Frame) {
            frame.pointer.pointee.pts = frame.pointer.pointee.best_effort_timestamp
            if frame.pointer.pointee.interlaced_frame != 0 { deinterlace = true }
        }

        /// The filter chain, in libavfilter's syntax.
        var chain: String {
            var filters: [String] = []
            // Motion-adaptive: static areas keep both fields' lines; one frame out per frame in.
            if deinterlace { filters.append("bwdif=mode=send_frame:parity=auto:deint=interlaced") }
            if let toneMap {
                // To linear light (100 nits is SDR white), then BT.709 primaries, then Hable's curve
                // brings highlights down smoothly, then BT.709's transfer and matrix, 8-bit 4:2:0.
                filters += [
                    "zscale=tin=\(toneMap.transfer):pin=\(toneMap.primaries):min=\(toneMap.matrix):t=linear:npl=100",
                    "format=gbrpf32le", "zscale=p=bt709", "tonemap=tonemap=hable:desat=0",
                    "zscale=t=bt709:m=bt709:r=tv", "format=yuv420p",
                ]
            }
            switch rotation {
            case 90: filters.append("transpose=clock")
            case 180: filters += ["hflip", "vflip"]
            case 270: filters.append("transpose=cclock")
            default: break
            }
            return filters.joined(separator: ",")
        }

        /// The plan for a video stream: its field order, its transfer characteristics and its rotation.
        init(stream: UnsafeMutablePointer<AVStream>) {
            let parameters = stream.pointee.codecpar.pointee
            switch parameters.field_order {
            case AV_FIELD_TT, AV_FIELD_BB, AV_FIELD_TB, AV_FIELD_BT: deinterlace = true
            default: break
            }
            let transfer: String? = switch parameters.color_trc {
            case AVCOL_TRC_SMPTE2084: "smpte2084"
            case AVCOL_TRC_ARIB_STD_B67: "arib-std-b67"
            default: nil
            }
            if let transfer {
                // HDR without tags for the rest is BT.2020 in practice (phones, cameras, grading).
                let primaries = parameters.color_primaries == AVCOL_PRI_SMPTE432 ? "smpte432" : "bt2020"
                let matrix = parameters.color_space == AVCOL_SPC_BT2020_CL ? "bt2020c" : "bt2020nc"
                toneMap = ToneMap(transfer: transfer, primaries: primaries, matrix: matrix)
            }
            rotation = MediaProbe.rotation(of: stream)
        }

        init() {}
    }

    /// zscale's names for an HDR source's colour: transfer, primaries, matrix.
    struct ToneMap {
        var transfer: String
        var primaries: String
        var matrix: String
    }

    let plan: Plan
    private var graph: UnsafeMutablePointer<AVFilterGraph>?
    private var source: UnsafeMutablePointer<AVFilterContext>?
    private var sink: UnsafeMutablePointer<AVFilterContext>?
    private let output = Frame()
    private let width: Int
    private let height: Int
    private let format: Int32
    private let timeBase: AVRational

    /// Builds the graph for pictures like `first` (size, pixel format, aspect) in `timeBase`.
    init(plan: Plan, first: Frame, timeBase: AVRational) throws {
        self.plan = plan
        (width, height, format, self.timeBase) = (first.width, first.height, first.format, timeBase)
        guard let graph = avfilter_graph_alloc() else {
            throw VideoStackError(.limitExceeded, "Out of memory creating a filter graph.")
        }
        self.graph = graph
        let picture = first.pointer.pointee
        let aspect = picture.sample_aspect_ratio.num > 0 && picture.sample_aspect_ratio.den > 0 ? picture.sample_aspect_ratio : AVRational(num: 1, den: 1)
        let arguments = "video_size=\(picture.width)x\(picture.height):pix_fmt=\(picture.format):time_base=\(timeBase.num)/\(max(1, timeBase.den)):pixel_aspect=\(aspect.num)/\(aspect.den)"
        try check(avfilter_graph_create_filter(&source, avfilter_get_by_name("buffer"), "in", arguments, nil, graph),
                  "Could not create the picture filter's input")
        try check(avfilter_graph_create_filter(&sink, avfilter_get_by_name("buffersink"), "out", nil, nil, graph),
                  "Could not create the picture filter's output")
        // The chain's open input is fed by "in", its open output feeds "out". Parsing takes the
        // lists and leaves in them what it did not connect, which the defer frees.
        var outputs = avfilter_inout_alloc()
        var inputs = avfilter_inout_alloc()
        defer {
            avfilter_inout_free(&outputs)
            avfilter_inout_free(&inputs)
        }
        guard let chainInput = outputs, let chainOutput = inputs else {
            throw VideoStackError(.limitExceeded, "Out of memory creating a filter graph.")
        }
        chainInput.pointee.name = av_strdup("in")
        chainInput.pointee.filter_ctx = source
        chainOutput.pointee.name = av_strdup("out")
        chainOutput.pointee.filter_ctx = sink
        try check(avfilter_graph_parse_ptr(graph, plan.chain, &inputs, &outputs, nil),
                  "Could not build the picture filter '\(plan.chain)'", fallback: .unsupported)
        try check(avfilter_graph_config(graph, nil), "Could not set up the picture filter '\(plan.chain)'", fallback: .unsupported)
    }

    deinit {
        avfilter_graph_free(&graph)
    }

    /// Whether this graph was built for pictures like `frame`, with `plan`.
    func fits(_ frame: Frame, plan: Plan) -> Bool {
        frame.width == width && frame.height == height && frame.format == format && plan.deinterlace == self.plan.deinterlace
    }

    /// Sends `frame` (nil at the end, to flush) and calls `body` with every picture that comes out.
    /// A picture is only valid during the call; clone it to keep it.
    func filter(_ frame: Frame?, _ body: (Frame) throws -> Void) throws {
        try check(av_buffersrc_add_frame_flags(source, frame?.pointer, Int32(AV_BUFFERSRC_FLAG_KEEP_REF)),
                  "Could not filter a picture", fallback: .decodeFailed)
        while true {
            let received = av_buffersink_get_frame(sink, output.pointer)
            if received == averrorEAGAIN || received == averrorEOF { return }
            try check(received, "Could not filter a picture", fallback: .decodeFailed)
            defer { output.unref() }
            // Some filters change the time base (bwdif halves it, to have room for fields):
            // pictures come out with timestamps in the time base they went in with.
            if output.pointer.pointee.pts != noPTS {
                output.pointer.pointee.pts = av_rescale_q(output.pointer.pointee.pts, av_buffersink_get_time_base(sink), timeBase)
            }
            try body(output)
        }
    }
}

/// Readies every decoded picture of one stream as a viewer sees it: through the plan's graph
/// (rebuilt when the picture size or format changes mid-stream), or as is when the plan is
/// empty. The transcoder and the thumbnailer share it. Used by one thread.
final class PicturePreparer {
    private(set) var plan: PictureFilter.Plan
    private var filter: PictureFilter?
    private let timeBase: AVRational

    init(plan: PictureFilter.Plan, timeBase: AVRational) {
        self.plan = plan
        self.timeBase = timeBase
    }

    /// Sends a decoded `frame` and calls `body` with every picture that comes out (valid only during the call).
    func prepare(_ frame: Frame, _ body: (Frame) throws -> Void) throws {
        plan.adopt(frame)
        guard !plan.isEmpty else { return try body(frame) }
        if let current = filter, !current.fits(frame, plan: plan) {
            try current.filter(nil, body)
            filter = nil
        }
        if filter == nil {
            filter = try PictureFilter(plan: plan, first: frame, timeBase: timeBase)
        }
        try filter!.filter(frame, body)
    }

    /// Drains the graph at the end of the stream.
    func flush(_ body: (Frame) throws -> Void) throws {
        try filter?.filter(nil, body)
    }
}
