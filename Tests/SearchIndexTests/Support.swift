import Foundation
import Logging
import SearchIndex
import SingleTableStore
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

