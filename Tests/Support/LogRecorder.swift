public import Logging
import Synchronization

/// Keeps every log record, so a test can check what an operator would read.
public final class LogRecorder: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        /// The logger's own metadata merged with the record's.
        public var metadata: Logger.Metadata
    }

    private let storage = Mutex<[Record]>([])

    public init() {}

    public var records: [Record] { storage.withLock { $0 } }

    public func append(_ record: Record) { storage.withLock { $0.append(record) } }

    /// A logger that records into this recorder at `level` and above.
    public func logger(label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label, factory: { _ in Handler(recorder: self) })
        logger.logLevel = level
        return logger
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.append(Record(level: event.level, message: event.message.description,
                                   metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }
}
