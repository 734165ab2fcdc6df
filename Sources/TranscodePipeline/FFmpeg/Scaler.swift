internal import CFFmpeg
import VideoCore

/// An owned `SwsContext` that converts frames to `yuv420p` at a fixed output size, remade when
/// the input's size or pixel format changes mid-stream. Used by one thread at a time.
final class Scaler {
    private var context: OpaquePointer?
    private var inputKey: (Int32, Int32, Int32) = (0, 0, -1)
    let width: Int32
    let height: Int32
    let outputFormat: AVPixelFormat
    private let flags: Int32

    init(width: Int, height: Int, outputFormat: AVPixelFormat = AV_PIX_FMT_YUV420P, flags: Int32 = SWS_BICUBIC) {
        self.width = Int32(width)
        self.height = Int32(height)
        self.outputFormat = outputFormat
        self.flags = flags
    }

    deinit { sws_freeContext(context) }

    /// Returns a new frame holding `source` scaled and converted; properties (pts, picture type) copied.
    func scale(_ source: Frame) throws -> Frame {
        let input = source.pointer.pointee
        let key = (input.width, input.height, input.format)
        if context == nil || key != inputKey {
            sws_freeContext(context)
            context = sws_getContext(input.width, input.height, AVPixelFormat(rawValue: input.format),
                                     width, height, outputFormat, flags, nil, nil, nil)
            inputKey = key
            guard context != nil else {
                throw VideoStackError(.unsupported, "Cannot convert \(input.width)x\(input.height) frames of pixel format \(input.format) to \(width)x\(height).")
            }
        }
        let output = Frame()
        output.pointer.pointee.width = width
        output.pointer.pointee.height = height
        output.pointer.pointee.format = outputFormat.rawValue
        try check(av_frame_get_buffer(output.pointer, 0), "Could not allocate a \(width)x\(height) frame", fallback: .limitExceeded)
        try check(sws_scale_frame(context, output.pointer, source.pointer), "Could not scale a frame to \(width)x\(height)")
        av_frame_copy_props(output.pointer, source.pointer)
        output.pointer.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        return output
    }
}
