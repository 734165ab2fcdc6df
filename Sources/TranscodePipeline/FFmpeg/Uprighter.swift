internal import CFFmpeg
import VideoCore

/// Turns decoded pictures the way the stream's display matrix says a player would (phone videos
/// shot upright are stored sideways), and takes one field of interlaced pictures, so every rung
/// downstream scales an upright, progressive picture. Used by the decoder thread only.
final class Uprighter {
    /// Clockwise degrees: 0, 90, 180 or 270.
    let rotation: Int
    private var converter: Scaler?

    init(rotation: Int) { self.rotation = rotation }

    /// A progressive view of an interlaced frame: its top field, every other line, at half height.
    ///
    /// The rungs' scalers then interpolate it back to full height: a field-discarding
    /// deinterlacer, free of combing, at no extra cost. The view shares the frame's buffers.
    static func topField(of frame: Frame) -> Frame {
        let view = frame.clone()
        view.pointer.pointee.linesize.0 *= 2
        view.pointer.pointee.linesize.1 *= 2
        view.pointer.pointee.linesize.2 *= 2
        view.pointer.pointee.height = (frame.pointer.pointee.height + 1) / 2
        view.pointer.pointee.interlaced_frame = 0
        return view
    }

    /// The frame turned upright (8-bit 4:2:0), or the frame itself when there is no rotation.
    func upright(_ frame: Frame) throws -> Frame {
        guard rotation != 0 else { return frame }
        var source = frame
        if frame.format != AV_PIX_FMT_YUV420P.rawValue {
            if converter == nil || converter!.width != Int32(frame.width) || converter!.height != Int32(frame.height) {
                converter = Scaler(width: frame.width, height: frame.height)
            }
            source = try converter!.scale(frame)
        }
        let width = source.width, height = source.height
        let turned = Frame()
        let sideways = rotation == 90 || rotation == 270
        turned.pointer.pointee.width = Int32(sideways ? height : width)
        turned.pointer.pointee.height = Int32(sideways ? width : height)
        turned.pointer.pointee.format = AV_PIX_FMT_YUV420P.rawValue
        try check(av_frame_get_buffer(turned.pointer, 0), "Could not allocate a rotated frame", fallback: .limitExceeded)
        av_frame_copy_props(turned.pointer, source.pointer)
        let input = source.pointer.pointee, output = turned.pointer.pointee
        let planes = [(input.data.0, input.linesize.0, output.data.0, output.linesize.0, width, height),
                      (input.data.1, input.linesize.1, output.data.1, output.linesize.1, (width + 1) / 2, (height + 1) / 2),
                      (input.data.2, input.linesize.2, output.data.2, output.linesize.2, (width + 1) / 2, (height + 1) / 2)]
        for (from, fromStride, to, toStride, w, h) in planes {
            guard let from, let to else { continue }
            turn(from, Int(fromStride), to, Int(toStride), w, h)
        }
        return turned
    }

    private func turn(_ from: UnsafeMutablePointer<UInt8>, _ fromStride: Int, _ to: UnsafeMutablePointer<UInt8>,
                      _ toStride: Int, _ width: Int, _ height: Int) {
        switch rotation {
        case 90:
            // Input (x, y) lands at output (height-1-y, x).
            for y in 0..<height {
                let row = from + y * fromStride
                let column = height - 1 - y
                for x in 0..<width { to[x * toStride + column] = row[x] }
            }
        case 270:
            // Input (x, y) lands at output (y, width-1-x).
            for y in 0..<height {
                let row = from + y * fromStride
                for x in 0..<width { to[(width - 1 - x) * toStride + y] = row[x] }
            }
        default:
            // 180: input (x, y) lands at output (width-1-x, height-1-y).
            for y in 0..<height {
                let row = from + y * fromStride
                let target = to + (height - 1 - y) * toStride
                for x in 0..<width { target[width - 1 - x] = row[x] }
            }
        }
    }
}
