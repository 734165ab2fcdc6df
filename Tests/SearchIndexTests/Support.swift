import Foundation
import Logging
import SearchIndex
import SingleTableStore
import Synchronization
import VideoCore

/// A document with sensible defaults for tests (`duration` in seconds).
func doc(
    _ id: String, _ title: String, description: String = "", tags: [String] = [], uploader: String = "alice",
    duration: Double = 60, uploadedAt: Double = 1_700_000_000, views: Int64 = 0, ratingSum: Int64 = 0,
    ratingCount: Int64 = 0, visibility: Visibility = .public, status: VideoStatus = .ready
) -> SearchDocument {
    SearchDocument(
        id: id, title: title, description: description, tags: tags, uploader: uploader, duration: .seconds(duration),
        uploadedAt: Date(timeIntervalSince1970: uploadedAt), views: views, ratingSum: ratingSum,
        ratingCount: ratingCount, visibility: visibility, status: status)
}

extension Logger {
    /// A logger that drops everything, for tests that do not look at the log.
    static let quiet = Logger(label: "SearchIndexTests", factory: { _ in SwiftLogNoOpLogHandler() })
}

extension SearchIndex {
    /// An empty index that logs nowhere.
    convenience init(configuration: SearchIndexConfiguration = SearchIndexConfiguration()) {
        self.init(configuration: configuration, logger: .quiet)
    }

    /// Ids of the first page for `text`.
    func ids(_ text: String, filter: SearchFilter = SearchFilter(), sort: SearchSort = .relevance, limit: Int = 10) throws -> [String] {
        try search(SearchQuery(text, filter: filter, sort: sort, limit: limit)).hits.map(\.id)
    }
}

/// Opens a real SQLite item store with the single-table schema in `directory`.
func openStore(in directory: URL, configuration: SQLiteStoreConfiguration = SQLiteStoreConfiguration()) async throws -> SQLiteItemStore {
    try await SQLiteItemStore(url: directory.appendingPathComponent("catalog.sqlite"), schema: .singleTable, configuration: configuration)
}

/// Keeps every log record, so a test can check what an operator would read.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let storage = Mutex<[Record]>([])

    var records: [Record] { storage.withLock { $0 } }

    /// A logger (at `trace`) that records into this recorder.
    func logger(label: String = "SearchIndexTests") -> Logger {
        var logger = Logger(label: label, factory: { _ in Handler(recorder: self) })
        logger.logLevel = .trace
        return logger
    }

    func append(_ record: Record) { storage.withLock { $0.append(record) } }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.append(Record(level: event.level, message: event.message.description, metadata: event.metadata ?? [:]))
        }
    }
}
