import Foundation
import Logging
import SearchIndex
import Testing

/// Through the public API only (no `@testable`): what downstream code and its tests can do.
@Suite("Public API")
struct PublicAPITests {
    @Test("results, hits and highlighted text can be built to compare with real results")
    func buildingResults() throws {
        let index = SearchIndex(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let document = SearchDocument(id: "k1", title: "Kayak trip", description: "down the river by kayak")
        try index.upsert([document])
        let found = try index.search(SearchQuery("kayak "))
        let stored = try #require(index.document(id: "k1"))
        let title = HighlightedText(text: stored.title, matches: [try #require(stored.title.range(of: "Kayak"))])
        let description = HighlightedText(text: stored.description, matches: [try #require(stored.description.range(of: "kayak"))])
        let score = try #require(found.hits.first).score
        let built = SearchResults(hits: [SearchHit(document: stored, score: score, tier: 0, title: title, description: description)])
        #expect(built == found)
        #expect(built.hits[0].id == "k1")
        #expect(SearchHit(document: stored).title == HighlightedText(text: "Kayak trip"))
    }

    @Test("highlighted text orders and merges its spans and drops ones outside the text, so marking never traps")
    func highlightedTextNormalizes() {
        let text = "abcdef"
        func range(_ offsets: Range<Int>, in string: String = text) -> Range<String.Index> {
            string.index(string.startIndex, offsetBy: offsets.lowerBound)..<string.index(string.startIndex, offsetBy: offsets.upperBound)
        }
        let longer = "abcdefghij"
        let highlighted = HighlightedText(text: text, matches: [range(4..<5), range(0..<2), range(1..<3), range(7..<9, in: longer), range(5..<5)])
        #expect(highlighted.matchedTexts == ["abc", "e"])
        #expect(highlighted.marked(open: "[", close: "]") == "[abc]d[e]f")
    }
}
