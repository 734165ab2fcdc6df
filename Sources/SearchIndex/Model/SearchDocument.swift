public import Foundation
public import VideoCore

/// The searchable view of one video: the text that is matched and the values that filter and rank.
///
/// `id` is the caller's key (a `VideoCore/VideoID`'s text for catalog videos); adding a document
/// with an id that is already indexed replaces it. The index knows documents only: the module
/// that owns the items (`VideoPlatform` for the catalog) maps them to documents.
public struct SearchDocument: Sendable, Hashable {
    /// The caller's unique key, at most 256 bytes of UTF-8.
    public var id: String
    /// Matched with the highest weight and highlighted.
    public var title: String
    /// Matched with the lowest weight and highlighted.
    public var description: String
    /// Matched with a weight between title and description.
    public var tags: [String]
    /// Username of the uploader (exact match filter).
    public var uploader: String
    /// Length of the video (range filter), stored to single precision in seconds.
    public var duration: Duration
    /// When the video was uploaded (range filter and the `newest` sort).
    public var uploadedAt: Date
    /// View count (popularity and the `mostViewed` sort).
    public var views: Int64
    /// Sum of review ratings (1–5 each).
    public var ratingSum: Int64
    /// Number of reviews; with `ratingSum` gives the average for the `topRated` sort.
    public var ratingCount: Int64
    /// Search shows only `public` videos unless a filter asks for others.
    public var visibility: Visibility
    /// Search shows only `ready` videos unless a filter asks for others.
    public var status: VideoStatus

    /// Makes a document; defaults describe a public, ready video with no views or reviews.
    public init(
        id: String, title: String, description: String = "", tags: [String] = [], uploader: String = "",
        duration: Duration = .zero, uploadedAt: Date = Date(timeIntervalSince1970: 0), views: Int64 = 0,
        ratingSum: Int64 = 0, ratingCount: Int64 = 0, visibility: Visibility = .public, status: VideoStatus = .ready
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.tags = tags
        self.uploader = uploader
        self.duration = duration
        self.uploadedAt = uploadedAt
        self.views = views
        self.ratingSum = ratingSum
        self.ratingCount = ratingCount
        self.visibility = visibility
        self.status = status
    }

    /// Mean rating from 1 to 5, or nil before the first review.
    public var averageRating: Double? {
        ratingCount > 0 ? Double(ratingSum) / Double(ratingCount) : nil
    }
}

/// One change to apply to the index, in order.
public enum SearchChange: Sendable, Hashable {
    /// Adds the document, or replaces the one with the same id.
    case upsert(SearchDocument)
    /// Removes the document with this id; unknown ids are ignored (deletes are idempotent).
    case delete(id: String)
}

extension Duration {
    /// The span in seconds, the unit the index stores and compares durations in.
    var indexSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension VideoStackError.Code {
    /// A search cursor does not belong to this query or is damaged.
    public static let invalidCursor = Self("invalidCursor")
}
