internal import CFFmpeg

/// An owned `AVPacket`, freed in `deinit`. Used by one thread at a time.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() {
        // av_packet_alloc fails only when malloc does; there is no useful way to go on then.
        pointer = av_packet_alloc()!
    }

    deinit {
        var optional: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&optional)
    }

    func unref() { av_packet_unref(pointer) }

    var streamIndex: Int { Int(pointer.pointee.stream_index) }

    /// The packet's bytes, copied.
    var bytes: [UInt8] {
        let size = Int(pointer.pointee.size)
        guard size > 0, let data = pointer.pointee.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}
