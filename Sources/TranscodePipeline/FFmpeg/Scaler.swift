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
    // Output pictures come from a pool: a fresh multi-megabyte allocation per frame, freed on an
    // encoder thread, costs page faults and fragments malloc's per-thread arenas.
    private var pool: OpaquePointer?
    private let bufferSize: Int32
    private static let alignment: Int32 = 64

    init(width: Int, height: Int, outputFormat: AVPixelFormat = AV_PIX_FMT_YUV420P, flags: Int32 = SWS_BICUBIC) {
        self.width = Int32(width)
        self.height = Int32(height)
        self.outputFormat = outputFormat
        self.flags = flags
        bufferSize = av_image_get_buffer_size(outputFormat, Int32(width), Int32(height), Self.alignment)
        if bufferSize > 0 { pool = av_buffer_pool_init(Int(bufferSize), nil) }
    }

    deinit {
        sws_freeContext(context)
        // The pool itself lives on until frames still in flight return their buffers.
        av_buffer_pool_uninit(&pool)
    }

    /// A frame of the output size and format with a buffer from the pool.
    private func makeOutputFrame() throws -> Frame {
        let output = Frame()
        output.pointer.pointee.width = width
        output.pointer.pointee.height = height
        output.pointer.pointee.format = outputFormat.rawValue
        guard let pool, let buffer = av_buffer_pool_get(pool) else {
            try check(av_frame_get_buffer(output.pointer, 0), "Could not allocate a \(width)x\(height) frame", fallback: .limitExceeded)
            return output
        }
        output.pointer.pointee.buf.0 = buffer
        let filled = withUnsafeMutablePointer(to: &output.pointer.pointee.data) { data in
            withUnsafeMutablePointer(to: &output.pointer.pointee.linesize) { linesize in
                data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { planes in
                    linesize.withMemoryRebound(to: Int32.self, capacity: 8) { strides in
                        av_image_fill_arrays(planes, strides, buffer.pointee.data, outputFormat, width, height, Self.alignment)
                    }
                }
            }
        }
        try check(filled, "Could not lay out a \(width)x\(height) frame")
        output.pointer.pointee.extended_data = withUnsafeMutablePointer(to: &output.pointer.pointee.data) {
            $0.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { $0 }
        }
        return output
    }

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
        let output = try makeOutputFrame()
        try check(sws_scale_frame(context, output.pointer, source.pointer), "Could not scale a frame to \(width)x\(height)")
        av_frame_copy_props(output.pointer, source.pointer)
        output.pointer.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        return output
    }
}
