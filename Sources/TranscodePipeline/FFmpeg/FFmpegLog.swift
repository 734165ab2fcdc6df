internal import CFFmpeg
public import Logging
import Synchronization
internal import Foundation

/// Routes FFmpeg's process-wide log output into the `Logger`s of the objects that produced it.
///
/// FFmpeg has one global log callback, called from whatever thread logs (codec threads
/// included). Each wrapper of a logging FFmpeg object registers its pointer with the logger its
/// caller passed. A line finds its logger, in this order, through: the object itself; for a
/// codec context, its owner (the per-thread copies of a frame-threaded decoder carry the
/// registered context in `opaque`); the newest object registered on the logging thread (a
/// scaler or an I/O context working for that thread's job). A line none of these claims goes to
/// the logger the host chose with ``FFmpegLogging/routeUnclaimedLines(to:)`` (dropped by default)
/// and is counted for nobody, so one job never sees another's lines.
/// Error-level lines are counted per object, because that is the only trace some concealed
/// decode errors leave.
final class FFmpegLog: Sendable {
    static let shared = FFmpegLog()

    private struct Entry {
        var logger: Logger
        var errors: Int
        /// The thread that registered the object.
        var thread: UInt
    }

    private struct State {
        // av_log_format_line keeps "was the previous line complete" across calls; one shared
        // state behind the lock, as FFmpeg's default callback does.
        var printPrefix: Int32 = 1
        var entries: [UInt: Entry] = [:]
        /// Objects registered by each thread, oldest first.
        var byThread: [UInt: [UInt]] = [:]
        /// Where lines that belong to no registered object go; nil drops them.
        var unclaimed: Logger?
    }

    private let state = Mutex(State())

    private init() {
        av_log_set_level(AV_LOG_INFO)
        vs_set_log_callback(ffmpegLogCallback)
    }

    func routeUnclaimed(to logger: Logger?) {
        state.withLock { $0.unclaimed = logger }
    }

    /// Sends lines logged with `object` as context to `logger` until ``unregister(_:)``.
    func register(_ object: UnsafeMutableRawPointer, logger: Logger) {
        let key = UInt(bitPattern: object)
        let thread = UInt(pthread_self())
        state.withLock {
            $0.entries[key] = Entry(logger: logger, errors: 0, thread: thread)
            $0.byThread[thread, default: []].append(key)
        }
    }

    /// Stops routing for `object`; returns how many error-level lines it logged.
    @discardableResult
    func unregister(_ object: UnsafeMutableRawPointer) -> Int {
        let key = UInt(bitPattern: object)
        return state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: key) else { return 0 }
            state.byThread[entry.thread]?.removeAll { $0 == key }
            if state.byThread[entry.thread]?.isEmpty == true { state.byThread[entry.thread] = nil }
            return entry.errors
        }
    }

    /// Error-level lines logged so far with `object` as context.
    func errorCount(_ object: UnsafeMutableRawPointer) -> Int {
        state.withLock { $0.entries[UInt(bitPattern: object)]?.errors ?? 0 }
    }

    fileprivate func log(_ object: UnsafeMutableRawPointer?, level: Int32, format: UnsafePointer<CChar>?,
                         arguments: CVaListPointer) {
        var buffer = [CChar](repeating: 0, count: 1024)
        let owner = vs_codec_context_owner(object).map { UInt(bitPattern: $0) }
        let thread = UInt(pthread_self())
        let (target, line): (Logger?, String) = state.withLock { state in
            _ = av_log_format_line2(object, level, format, arguments, &buffer, Int32(buffer.count), &state.printPrefix)
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let candidates = [object.map { UInt(bitPattern: $0) }, owner, state.byThread[thread]?.last]
            guard let key = candidates.lazy.compactMap({ $0 }).first(where: { state.entries[$0] != nil }) else {
                return (state.unclaimed, line)
            }
            if level <= AV_LOG_ERROR { state.entries[key]!.errors += 1 }
            return (state.entries[key]!.logger, line)
        }
        guard let logger = target else { return }
        var text = line.trimmingCharacters(in: .whitespacesAndNewlines)
        // Drop FFmpeg's "[h264 @ 0x…] " prefix: the object's name goes into the metadata instead.
        if text.hasPrefix("["), let close = text.range(of: "] ") {
            text = String(text[close.upperBound...])
        }
        guard !text.isEmpty else { return }
        // FFmpeg's "error" lines describe the input (a damaged frame), not a fault of this
        // process; the thrown VideoStackError carries real failures. Hence one level lower.
        let swiftLevel: Logger.Level
        switch level {
        case ...AV_LOG_ERROR: swiftLevel = .warning
        case ...AV_LOG_WARNING: swiftLevel = .notice
        case ...AV_LOG_INFO: swiftLevel = .debug
        default: swiftLevel = .trace
        }
        logger.log(level: swiftLevel, "\(text)", metadata: ["ffmpeg": "\(className(object))"])
    }

    private func className(_ object: UnsafeMutableRawPointer?) -> String {
        guard let object, let name = vs_item_name(object) ?? vs_class_name(object) else { return "ffmpeg" }
        return String(cString: name)
    }
}

/// FFmpeg's process-wide logging, as far as a host decides it.
///
/// Every transcoder, demuxer and probe sends the FFmpeg lines about its own work to the `Logger`
/// it was given. A few lines belong to no such object (library start-up, a codec probed outside
/// any job); those go where the host says here, once, at start-up, as it bootstraps
/// swift-log itself. The library never creates a logger of its own.
public enum FFmpegLogging {
    /// Sends FFmpeg's lines that no VideoStack object claims to `logger`; nil (the default) drops them.
    public static func routeUnclaimedLines(to logger: Logger?) {
        FFmpegLog.shared.routeUnclaimed(to: logger)
    }
}

private func ffmpegLogCallback(_ object: UnsafeMutableRawPointer?, _ level: Int32, _ format: UnsafePointer<CChar>?,
                               _ arguments: CVaListPointer?) {
    guard level <= av_log_get_level(), let arguments else { return }
    FFmpegLog.shared.log(object, level: level, format: format, arguments: arguments)
}
