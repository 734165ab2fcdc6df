internal import CFFmpeg

/// An owned `AVFrame` (its buffers are reference-counted), freed in `deinit`.
///
/// `@unchecked Sendable`: a frame is handed from one thread to the next through a queue and the
/// sender never touches it again; frames that share buffers (clones) are only read.
final class Frame: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<AVFrame>

    init() {
        // av_frame_alloc fails only when malloc does.
        pointer = av_frame_alloc()!
    }

    deinit {
        var optional: UnsafeMutablePointer<AVFrame>? = pointer
        av_frame_free(&optional)
    }

    /// A new reference to the same buffers, with its own properties (pts, picture type).
    func clone() -> Frame {
        let copy = Frame()
        av_frame_ref(copy.pointer, pointer)
        return copy
    }

    func unref() { av_frame_unref(pointer) }

    var width: Int { Int(pointer.pointee.width) }
    var height: Int { Int(pointer.pointee.height) }
    var format: Int32 { pointer.pointee.format }
}
