internal import CFFmpeg
public import Logging
import Synchronization
internal import Foundation

/// Routes FFmpeg's process-wide log output into the `Logger`s of the objects that produced it.
///
/// FFmpeg has one global log callback, called from whatever thread logs (codec threads
/// included). Each wrapper of a logging FFmpeg object registers its pointer with the logger its
/// caller passed; a line from an unregistered object (a codec's private context, an I/O context)
/// goes to the most recently registered logger. Error-level lines are also counted per object,
/// because that is the only trace some concealed decode errors leave.
final class FFmpegLog: Sendable {
    static let shared = FFmpegLog()

    private struct Entry {
        var logger: Logger
        var errors: Int
    }

    private struct State {
        // av_log_format_line keeps "was the previous line complete" across calls; one shared
        // state behind the lock, as FFmpeg's default callback does.
        var printPrefix: Int32 = 1
        var entries: [UInt: Entry] = [:]
        var recent: [UInt] = []
    }

    private let state = Mutex(State())

    private init() {
        av_log_set_level(AV_LOG_INFO)
        vs_set_log_callback(ffmpegLogCallback)
    }

    /// Sends lines logged with `object` as context to `logger` until ``unregister(_:)``.
    func register(_ object: UnsafeMutableRawPointer, logger: Logger) {
        let key = UInt(bitPattern: object)
        state.withLock {
            $0.entries[key] = Entry(logger: logger, errors: 0)
            $0.recent.append(key)
        }
    }

    /// Stops routing for `object`; returns how many error-level lines it logged.
    @discardableResult
    func unregister(_ object: UnsafeMutableRawPointer) -> Int {
        let key = UInt(bitPattern: object)
        return state.withLock {
            $0.recent.removeAll { $0 == key }
            return $0.entries.removeValue(forKey: key)?.errors ?? 0
        }
    }

    /// Error-level lines logged so far with `object` as context.
    func errorCount(_ object: UnsafeMutableRawPointer) -> Int {
        state.withLock { $0.entries[UInt(bitPattern: object)]?.errors ?? 0 }
    }

    fileprivate func log(_ object: UnsafeMutableRawPointer?, level: Int32, format: UnsafePointer<CChar>?,
                         arguments: CVaListPointer) {
        var buffer = [CChar](repeating: 0, count: 1024)
        let target: (Logger, String)? = state.withLock { state in
            _ = av_log_format_line2(object, level, format, arguments, &buffer, Int32(buffer.count), &state.printPrefix)
            let key = object.map { UInt(bitPattern: $0) }
            var entryKey = key.flatMap { state.entries[$0] != nil ? $0 : nil }
            if entryKey == nil { entryKey = state.recent.last }
            guard let entryKey, var entry = state.entries[entryKey] else { return nil }
            if level <= AV_LOG_ERROR {
                entry.errors += 1
                state.entries[entryKey] = entry
            }
            let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return (entry.logger, line)
        }
        guard let (logger, line) = target else { return }
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

private func ffmpegLogCallback(_ object: UnsafeMutableRawPointer?, _ level: Int32, _ format: UnsafePointer<CChar>?,
                               _ arguments: CVaListPointer?) {
    guard level <= av_log_get_level(), let arguments else { return }
    FFmpegLog.shared.log(object, level: level, format: format, arguments: arguments)
}
