internal import CFFmpeg
import Logging
import VideoCore
internal import Foundation

/// Decodes one stream of an input, counting the damage FFmpeg conceals.
///
/// A packet the decoder rejects and a frame whose `decode_error_flags` are set each count as one
/// decode error; decoding goes on, as a player would. Used by one thread at a time.
final class StreamDecoder {
    let codec: CodecContext
    let streamIndex: Int
    let timeBase: AVRational
    private(set) var decodeErrors = 0
    private(set) var frames = 0
    private var failuresInARow = 0
    private let frame = Frame()
    private let name: String

    init(input: InputFile, streamIndex: Int, threads: Int = 0, logger: Logger) throws {
        let stream = input.stream(streamIndex)
        self.streamIndex = streamIndex
        self.timeBase = stream.pointee.time_base
        self.name = input.url.lastPathComponent
        codec = try CodecContext.decoder(for: stream, threads: threads, logger: logger)
    }

    /// Sends `packet` (nil to drain at the end) and calls `body` with each frame that comes out.
    /// The frame is only valid during the call; clone it to keep it.
    ///
    /// - Throws: `.decodeFailed` when many packets in a row cannot be decoded (not damage but
    ///   data this decoder cannot read at all), or whatever `body` throws.
    func decode(_ packet: Packet?, _ body: (Frame) throws -> Void) throws {
        let sent = avcodec_send_packet(codec.pointer, packet?.pointer)
        if sent < 0, sent != averrorEOF, sent != averrorEAGAIN {
            decodeErrors += 1
            failuresInARow += 1
            if failuresInARow > 500 {
                throw ffmpegError(sent, "\(name) could not be decoded (500 packets in a row failed); the stream is damaged or not what it claims to be", fallback: .decodeFailed)
            }
            return
        }
        while true {
            let received = avcodec_receive_frame(codec.pointer, frame.pointer)
            if received == averrorEAGAIN || received == averrorEOF { return }
            if received < 0 {
                decodeErrors += 1
                return
            }
            failuresInARow = 0
            frames += 1
            if frame.pointer.pointee.decode_error_flags != 0 { decodeErrors += 1 }
            defer { frame.unref() }
            try body(frame)
        }
    }

    /// Seconds of a timestamp in this stream's time base.
    func seconds(_ timestamp: Int64) -> Double { Double(timestamp) * av_q2d(timeBase) }
}
