internal import CFFmpeg
import Logging
import VideoCore
internal import Foundation

/// An opened input (an owned `AVFormatContext` with stream info read), closed in `deinit`.
///
/// Used by one thread at a time. Every blocking read is bounded by `cancel`'s deadline, which the
/// I/O interrupt callback polls, so a stalled pipe or network source cannot hang the caller.
final class InputFile {
    /// The containers an upload may be: the ones cameras, phones, editors and encoders write.
    /// Anything else (playlists, concat lists, image sequences, session descriptions, raw
    /// devices) is refused before FFmpeg reads a byte past the probe.
    static let allowedDemuxers = [
        "mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm", "mpegts", "mpeg", "mpegvideo", "avi", "flv", "asf",
        "mxf", "ogg", "wav", "w64", "mp3", "aac", "flac", "ac3", "eac3", "h264", "hevc", "m4v", "ivf", "nut", "dv",
        "yuv4mpegpipe", "mjpeg", "gif", "caf", "aiff", "amr", "truehd", "dts", "wv", "ape", "obu", "av1",
    ].joined(separator: ",")

    let context: UnsafeMutablePointer<AVFormatContext>
    let url: URL
    let cancel: CancelFlag
    private let interrupt: Unmanaged<CancelFlag>

    /// Opens `url` and reads stream information.
    ///
    /// A regular file, or a named pipe (FIFO) another process writes into: inputs are read
    /// front to back and never seeked, so a pipe can be transcoded as it arrives (once: a pipe
    /// cannot be read twice, so probe it only if something replays it).
    ///
    /// - Throws: `.notFound` when there is no such file, `.invalidInput` for an empty file or
    ///   something that is neither a file nor a pipe, `.io` when `stat` fails otherwise (the
    ///   cause holds the errno), `.corrupt` when FFmpeg recognises no container or the data is
    ///   damaged, `.unsupported` for containers that accept any bytes (text files), `.cancelled`.
    init(url: URL, logger: Logger, cancel: CancelFlag = CancelFlag(), readTimeout: Duration = .seconds(30)) throws {
        self.url = url
        self.cancel = cancel
        let name = url.lastPathComponent
        guard url.isFileURL else {
            throw VideoStackError(.invalidInput, "\(url.absoluteString.prefix(80)) is not a local file; VideoStack reads media from files only.")
        }
        var status = stat()
        if stat(url.path, &status) != 0 {
            let code = errno
            let cause = POSIXErrorCode(code, "stat(\(url.path)): \(String(cString: strerror(code)))")
            if code == ENOENT || code == ENOTDIR {
                throw VideoStackError(.notFound, "There is no file at \(url.path); check the path.", cause: cause)
            }
            throw VideoStackError(.io, "Could not look at \(url.path) (stat failed: \(String(cString: strerror(code)))); check its permissions.", cause: cause)
        }
        let type = status.st_mode & S_IFMT
        guard type == S_IFREG || type == S_IFIFO else {
            throw VideoStackError(.invalidInput, "\(url.path) is neither a regular file nor a named pipe; give the path of a media file.")
        }
        if type == S_IFREG && status.st_size == 0 {
            throw VideoStackError(.invalidInput, "The file \(name) is empty (0 bytes); upload it again.")
        }
        guard var context = avformat_alloc_context() else {
            throw VideoStackError(.limitExceeded, "Out of memory opening \(name).")
        }
        interrupt = Unmanaged.passRetained(cancel)
        context.pointee.interrupt_callback.callback = { opaque in
            guard let opaque else { return 0 }
            return Unmanaged<CancelFlag>.fromOpaque(opaque).takeUnretainedValue().shouldInterrupt ? 1 : 0
        }
        context.pointee.interrupt_callback.opaque = interrupt.toOpaque()
        FFmpegLog.shared.register(UnsafeMutableRawPointer(context), logger: logger)
        cancel.arm(readTimeout)
        let path = url.path
        // An upload is untrusted: FFmpeg may read only this file, and only as a media container.
        // Playlist-like demuxers (hls, concat, image sequences, sdp) would open other files or
        // URLs named inside it, a known server-side request forgery route.
        var options: OpaquePointer? = nil
        av_dict_set(&options, "protocol_whitelist", "file", 0)
        av_dict_set(&options, "format_whitelist", InputFile.allowedDemuxers, 0)
        defer { av_dict_free(&options) }
        var optional: UnsafeMutablePointer<AVFormatContext>? = context
        let opened = avformat_open_input(&optional, path, nil, &options)
        if opened < 0 {
            // avformat_open_input frees a caller-allocated context when it fails.
            FFmpegLog.shared.unregister(UnsafeMutableRawPointer(context))
            interrupt.release()
            if cancel.timedOut {
                throw VideoStackError(.io, "Reading \(name) took longer than \(readTimeout); is the source stalled?")
            }
            throw ffmpegError(opened, "\(name) is not a media file FFmpeg recognises, or it is damaged (cut short during upload?); upload the original file again", fallback: .corrupt)
        }
        context = optional!
        self.context = context
        let formatName = String(cString: context.pointee.iformat.pointee.name)
        // The tty demuxer turns any text into ANSI-art video; a text file is not an upload we want.
        if formatName == "tty" {
            throw VideoStackError(.unsupported, "\(name) is a text file, not a video; upload a video file.")
        }
        cancel.arm(readTimeout)
        let found = avformat_find_stream_info(context, nil)
        cancel.arm(nil)
        if found < 0 {
            throw ffmpegError(found, "Could not read the streams of \(name); the file is damaged or cut short, upload it again", fallback: .corrupt)
        }
    }

    deinit {
        FFmpegLog.shared.unregister(UnsafeMutableRawPointer(context))
        var optional: UnsafeMutablePointer<AVFormatContext>? = context
        avformat_close_input(&optional)
        interrupt.release()
    }

    var streamCount: Int { Int(context.pointee.nb_streams) }

    func stream(_ index: Int) -> UnsafeMutablePointer<AVStream> { context.pointee.streams[index]! }

    /// The best stream of a kind, as FFmpeg ranks them (skipping cover pictures for video).
    func bestStream(_ type: AVMediaType) -> Int? {
        let index = av_find_best_stream(context, type, -1, -1, nil, 0)
        guard index >= 0 else { return nil }
        if type == AVMEDIA_TYPE_VIDEO, stream(Int(index)).pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0 {
            return nil
        }
        return Int(index)
    }

    /// Reads the next packet into `packet`; false at the end of the input.
    ///
    /// - Throws: `.cancelled` when cancelled, `.io` on a stalled read, `.corrupt` on a read error.
    func read(into packet: Packet, timeout: Duration = .seconds(30)) throws -> Bool {
        cancel.arm(timeout)
        defer { cancel.arm(nil) }
        let result = av_read_frame(context, packet.pointer)
        if result == averrorEOF { return false }
        if result < 0 {
            if cancel.isCancelled { throw VideoStackError(.cancelled, "The work was cancelled.") }
            if cancel.timedOut {
                throw VideoStackError(.io, "Reading \(url.lastPathComponent) stalled for more than \(timeout); is the source stalled?")
            }
            throw ffmpegError(result, "Could not read \(url.lastPathComponent); it is damaged", fallback: .corrupt)
        }
        return true
    }

    /// Start of the presentation in seconds (the smallest first timestamp of any stream).
    var startSeconds: Double {
        let start = context.pointee.start_time
        return start == noPTS ? 0 : Double(start) / Double(AV_TIME_BASE)
    }

    /// Declared duration in seconds (0 when unknown).
    var durationSeconds: Double {
        let duration = context.pointee.duration
        return duration == noPTS || duration <= 0 ? 0 : Double(duration) / Double(AV_TIME_BASE)
    }
}
