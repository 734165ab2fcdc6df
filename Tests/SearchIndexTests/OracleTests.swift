import Testing
import TestSupport
@testable import SearchIndex

/// Checks the index against a brute-force scan over the same documents.
@Suite("Matches agree with a brute-force scan")
struct OracleTests {
    @Test("AND matches over many segments, long lists with skips, and deletes", arguments: [1, 7])
    func andMatches(batches: Int) throws {
        var random = SeededGenerator(seed: 42)
        // A skewed vocabulary: a few words in most documents (lists of thousands with skip
        // entries), many rare ones (short lists), so both the merge and the probe paths run.
        let vocabulary = (0..<300).map { "w\($0)" }
        func word() -> String {
            let r = random.below(1000)
            return r < 500 ? vocabulary[r % 5] : vocabulary[5 + random.below(295)]
        }
        var documents: [SearchDocument] = []
        for id in 0..<3000 {
            let title = (0..<(1 + random.below(4))).map { _ in word() }.joined(separator: " ")
            let description = (0..<random.below(12)).map { _ in word() }.joined(separator: " ")
            documents.append(doc("d\(id)", title, description: description))
        }
        let index = SearchIndex(configuration: SearchIndexConfiguration(maxTypoExpansions: 0, prefixSearch: false))
        let size = documents.count / batches
        for batch in 0..<batches {
            let end = batch == batches - 1 ? documents.count : (batch + 1) * size
            try index.upsert(Array(documents[(batch * size)..<end]))
        }
        var deleted: Set<String> = []
        for _ in 0..<200 { deleted.insert("d\(random.below(3000))") }
        try index.delete(ids: Array(deleted))

        let termsByDoc = documents.map { Set(TextAnalyzer.terms(of: $0.title + " " + $0.description)) }
        for _ in 0..<60 {
            let words = (0..<(1 + random.below(3))).map { _ in word() }
            let expected = Set(documents.indices.filter { termsByDoc[$0].isSuperset(of: words) }.map { "d\($0)" })
                .subtracting(deleted)
            let hits = try index.search(SearchQuery(words.joined(separator: " ") + " ", limit: 1000, highlights: false)).hits
            let found = Set(hits.filter { $0.tier <= 1 }.map(\.id))
            if expected.count < 1000 {
                let missing = expected.subtracting(found).sorted().prefix(5), extra = found.subtracting(expected).sorted().prefix(5)
                #expect(missing.isEmpty && extra.isEmpty, "query \(words): missing \(missing), extra \(extra) of \(expected.count)")
            }
            // Tier 0 holds exactly the documents with every word in the title.
            let titleOnly = Set(documents.indices.filter {
                Set(TextAnalyzer.terms(of: documents[$0].title)).isSuperset(of: words)
            }.map { "d\($0)" }).subtracting(deleted)
            if expected.count < 1000 {
                let tier0 = Set(hits.filter { $0.tier == 0 }.map(\.id))
                let missing0 = titleOnly.subtracting(tier0).sorted().prefix(5), extra0 = tier0.subtracting(titleOnly).sorted().prefix(5)
                #expect(missing0.isEmpty && extra0.isEmpty, "query \(words): tier 0 missing \(missing0), extra \(extra0)")
            }
        }
    }

    @Test("pruned top-k equals the head of the exhaustive ranking")
    func pruningIsExact() throws {
        var random = SeededGenerator(seed: 7)
        let words = ["river", "rivers", "riverside", "rival", "road", "roads", "roadside", "rock", "rocket", "rocky"]
        var documents: [SearchDocument] = []
        for id in 0..<2500 {
            let title = (0..<(1 + random.below(3))).map { _ in words[random.below(words.count)] }.joined(separator: " ")
            let description = (0..<random.below(8)).map { _ in words[random.below(words.count)] }.joined(separator: " ")
            let tags = random.below(4) == 0 ? [words[random.below(words.count)]] : []
            documents.append(doc("d\(id)", title, description: description, tags: tags, views: Int64(random.below(1_000_000))))
        }
        let index = SearchIndex()
        try index.upsert(Array(documents[0..<1800]))
        try index.upsert(Array(documents[1800...]))
        // Also typos, which add the corrected tiers: "rivr" is in no document (one edit from 4
        // letters), "rokcet" and "rivres" are swaps.
        for text in ["river", "riv", "road ", "rock", "ro", "rocket ", "river road", "roads riv", "rivr ", "rokcet ", "rivres road"] {
            for limit in [1, 5, 10] {
                let top = try index.search(SearchQuery(text, limit: limit, highlights: false)).hits.map(\.id)
                let all = try index.search(SearchQuery(text, limit: 1000, highlights: false)).hits.map(\.id)
                #expect(top == Array(all.prefix(limit)), "query '\(text)' limit \(limit)")
            }
        }
    }
}
