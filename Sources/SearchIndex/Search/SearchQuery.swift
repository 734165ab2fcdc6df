public import Foundation
public import VideoCore

/// How results are ordered.
public enum SearchSort: String, Sendable, Hashable, CaseIterable {
    /// Text relevance (BM25F, with exact, prefix and typo tiers) blended with popularity.
    case relevance
    /// Most recent `uploadedAt` first.
    case newest
    /// Most `views` first.
    case mostViewed
    /// Highest Bayesian-average rating first (a few reviews count less than many).
    case topRated
}

/// Restricts which documents a search may return. All set conditions must hold.
public struct SearchFilter: Sendable, Hashable {
    /// Only this uploader's videos (exact username).
    public var uploader: String?
    /// Only videos whose length is in this range.
    public var duration: ClosedRange<Duration>?
    /// Only uploads in this time range.
    public var uploadedAt: ClosedRange<Date>?
    /// Allowed visibilities; defaults to public only, so unlisted and private videos never leak.
    public var visibilities: Set<Visibility>
    /// Allowed statuses; defaults to ready only.
    public var statuses: Set<VideoStatus>
    /// This user's own videos pass whatever their visibility and status (an uploader sees their
    /// private and processing videos among the public ones); the other conditions still apply.
    public var ownedBy: String?

    /// Makes a filter; the defaults admit every public, ready video.
    public init(
        uploader: String? = nil, duration: ClosedRange<Duration>? = nil, uploadedAt: ClosedRange<Date>? = nil,
        visibilities: Set<Visibility> = [.public], statuses: Set<VideoStatus> = [.ready], ownedBy: String? = nil
    ) {
        self.uploader = uploader
        self.duration = duration
        self.uploadedAt = uploadedAt
        self.visibilities = visibilities
        self.statuses = statuses
        self.ownedBy = ownedBy
    }
}

/// One search request.
public struct SearchQuery: Sendable, Hashable {
    /// What the user typed. Empty (or only spaces) browses every document that passes the filter.
    /// At most ``maxTextBytes`` bytes of UTF-8.
    public var text: String
    /// Which documents may be returned; by default public, ready videos.
    public var filter: SearchFilter
    /// The order of results; by default relevance.
    public var sort: SearchSort
    /// Hits per page, 1...``maxLimit``.
    public var limit: Int
    /// ``SearchResults/nextCursor`` of the previous page of the same query; nil for the first page.
    public var cursor: String?
    /// Whether hits carry the matched spans of title and description.
    public var highlights: Bool

    /// The longest query text accepted, in UTF-8 bytes.
    public static let maxTextBytes = 1024
    /// The largest page.
    public static let maxLimit = 1000

    /// Makes a query; by default, the first 10 public ready videos by relevance, with highlights.
    public init(
        _ text: String, filter: SearchFilter = SearchFilter(), sort: SearchSort = .relevance, limit: Int = 10,
        cursor: String? = nil, highlights: Bool = true
    ) {
        self.text = text
        self.filter = filter
        self.sort = sort
        self.limit = limit
        self.cursor = cursor
        self.highlights = highlights
    }
}

/// Text with the spans that matched the query.
public struct HighlightedText: Sendable, Hashable {
    /// The stored text, unchanged.
    public let text: String
    /// Matched spans, in order, not overlapping.
    public let matches: [Range<String.Index>]

    /// Makes a highlighted text, for example to build expected results in a test.
    ///
    /// `matches` are ranges of `text`; they are put in order and overlapping or touching ones
    /// merged, and ranges outside the text are dropped, so ``marked(open:close:)`` cannot trap.
    public init(text: String, matches: [Range<String.Index>] = []) {
        self.text = text
        var merged: [Range<String.Index>] = []
        for match in matches.sorted(by: { $0.lowerBound < $1.lowerBound })
        where match.lowerBound >= text.startIndex && match.upperBound <= text.endIndex && !match.isEmpty {
            if let last = merged.last, match.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, match.upperBound)
            } else {
                merged.append(match)
            }
        }
        self.matches = merged
    }

    /// The text with every match wrapped in `open` and `close` (e.g. `<em>`, `</em>`).
    /// The text is not escaped: escape it for HTML first if it came from users.
    public func marked(open: String, close: String) -> String {
        var out = ""
        var last = text.startIndex
        for match in matches {
            out += text[last..<match.lowerBound]
            out += open
            out += text[match]
            out += close
            last = match.upperBound
        }
        out += text[last...]
        return out
    }

    /// The matched substrings, in order.
    public var matchedTexts: [String] { matches.map { String(text[$0]) } }
}

/// One result.
public struct SearchHit: Sendable, Hashable {
    /// The document id.
    public let id: String
    /// The ranking key: relevance plus popularity, or the sort field (seconds since 1970 for
    /// `newest`, views, mean rating). Comparable only within one query.
    public let score: Double
    /// Relevance tier, best first: 0 every word as typed in the title or tags, 1 every word as
    /// typed anywhere, 2 every word but some only through a typo correction, in the title or
    /// tags, 3 the same anywhere, 4 and up trailing words dropped. Other sorts use tier 0 only.
    public let tier: Int
    /// The stored document.
    public let document: SearchDocument
    /// The title with matched spans (no spans when highlights were not requested).
    public let title: HighlightedText
    /// The description with matched spans.
    public let description: HighlightedText

    /// Makes a hit, for example to build expected results in a test; the id is the document's.
    ///
    /// A nil `title` or `description` is the document's text with no matched spans.
    public init(document: SearchDocument, score: Double = 0, tier: Int = 0, title: HighlightedText? = nil, description: HighlightedText? = nil) {
        id = document.id
        self.score = score
        self.tier = tier
        self.document = document
        self.title = title ?? HighlightedText(text: document.title)
        self.description = description ?? HighlightedText(text: document.description)
    }
}

/// A page of results.
public struct SearchResults: Sendable, Hashable {
    /// The hits, best first.
    public let hits: [SearchHit]
    /// Pass as ``SearchQuery/cursor`` to get the next page; nil on the last page. The cursor
    /// pins the query's term expansions and statistics, so a page never repeats or skips an
    /// unchanged document even while documents are added or removed.
    public let nextCursor: String?
    let highlighter: Highlighter?

    /// Makes a page, for example to build expected results in a test.
    public init(hits: [SearchHit], nextCursor: String? = nil) {
        self.init(hits: hits, nextCursor: nextCursor, highlighter: nil)
    }

    init(hits: [SearchHit], nextCursor: String?, highlighter: Highlighter?) {
        self.hits = hits
        self.nextCursor = nextCursor
        self.highlighter = highlighter
    }

    /// Marks the query's matches in another text, as the hits' titles are marked: for example
    /// the current title of a document that was renamed after the index last saw it. No spans
    /// when the query asked for no highlights (or for a page made with ``init(hits:nextCursor:)``).
    public func highlight(_ text: String) -> HighlightedText {
        highlighter?.highlight(text) ?? HighlightedText(text: text)
    }

    /// Pages are equal when their hits and cursors are (the highlighter follows from the query).
    public static func == (left: SearchResults, right: SearchResults) -> Bool {
        left.hits == right.hits && left.nextCursor == right.nextCursor
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(hits)
        hasher.combine(nextCursor)
    }
}
