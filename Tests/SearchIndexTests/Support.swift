import Foundation
import SearchIndex
import VideoCore

/// A document with sensible defaults for tests.
func doc(
    _ id: String, _ title: String, description: String = "", tags: [String] = [], uploader: String = "alice",
    duration: Double = 60, uploadedAt: Double = 1_700_000_000, views: Int64 = 0, ratingSum: Int64 = 0,
    ratingCount: Int64 = 0, visibility: Visibility = .public, status: VideoStatus = .ready
) -> SearchDocument {
    SearchDocument(
        id: id, title: title, description: description, tags: tags, uploader: uploader, durationSeconds: duration,
        uploadedAt: Date(timeIntervalSince1970: uploadedAt), views: views, ratingSum: ratingSum,
        ratingCount: ratingCount, visibility: visibility, status: status)
}

extension SearchIndex {
    /// Ids of the first page for `text`.
    func ids(_ text: String, filter: SearchFilter = SearchFilter(), sort: SearchSort = .relevance, limit: Int = 10) throws -> [String] {
        try search(SearchQuery(text, filter: filter, sort: sort, limit: limit)).hits.map(\.id)
    }
}

