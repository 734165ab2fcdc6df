import Foundation
import Testing
import VideoCore
@testable import SearchIndex

@Suite("Relevance and matching")
struct RelevanceTests {
    @Test("a title hit beats a description hit, and tags sit between")
    func fieldWeights() throws {
        let index = SearchIndex()
        try index.upsert([
            doc("desc", "Evening walk", description: "we saw a lighthouse on the way"),
            doc("title", "The lighthouse", description: "an evening walk"),
            doc("tag", "Coastal evening", tags: ["lighthouse"]),
        ])
        #expect(try index.ids("lighthouse ") == ["title", "tag", "desc"])
    }

    @Test("with a description hit only, BM25F still orders by term frequency and length")
    func bm25() throws {
        let index = SearchIndex(configuration: SearchIndexConfiguration(popularityWeight: 0))
        try index.upsert([
            doc("once", "a", description: "otter and many other animals in a long list of words here"),
            doc("twice", "b", description: "otter otter swim"),
        ])
        #expect(try index.ids("otter ") == ["twice", "once"])
    }

    @Test("all words must match; a missing word falls back to a lower tier")
    func conjunction() throws {
        let index = SearchIndex()
        try index.upsert([
            doc("both", "red balloon"),
            doc("one", "red car"),
        ])
        let hits = try index.search(SearchQuery("red balloon ")).hits
        #expect(hits.map(\.id) == ["both", "one"])
        #expect(hits.map(\.tier) == [0, 4])
        #expect(try index.ids("balloon red ") == ["both"])  // dropping "red" still needs "balloon"
    }

    @Test("popular beats obscure at equal text score; weight 0 turns it off")
    func popularity() throws {
        let popular = doc("popular", "sunset timelapse", views: 5_000_000, ratingSum: 48, ratingCount: 10)
        let obscure = doc("obscure", "sunset timelapse", views: 3)
        let index = SearchIndex()
        try index.upsert([obscure, popular])
        #expect(try index.ids("sunset timelapse ") == ["popular", "obscure"])
        let textOnly = SearchIndex(configuration: SearchIndexConfiguration(popularityWeight: 0))
        try textOnly.upsert([obscure, popular])
        let hits = try textOnly.search(SearchQuery("sunset timelapse ")).hits
        #expect(hits.count == 2 && hits[0].score == hits[1].score)
    }

    @Test("the last word matches as a prefix while typing, not after a space")
    func prefix() throws {
        let index = SearchIndex()
        try index.upsert([doc("a", "Guitar lessons for beginners"), doc("b", "Guinea pig care")])
        #expect(try index.ids("guit") == ["a"])
        #expect(Set(try index.ids("gui")) == ["a", "b"])
        #expect(try index.ids("lessons beg") == ["a"])
        #expect(try index.ids("guit ") == [])
        // Exact word ranks above a completion of it.
        try index.upsert([doc("c", "pig"), doc("d", "pigeon")])
        #expect(Set(try index.ids("pig").prefix(2)) == ["c", "b"])
        #expect(try index.ids("pig").last == "d")
    }

    @Test("typos: one edit from 5 characters, two from 9, none for a 3-letter word")
    func typos() throws {
        let index = SearchIndex()
        try index.upsert([
            doc("n", "Notorious heist"),
            doc("s", "Spectacular fireworks"),
            doc("c", "Cat video"),
        ])
        #expect(try index.ids("notorios ") == ["n"])        // deletion
        #expect(try index.ids("ntoorious ") == ["n"])       // adjacent swap counts as one edit
        #expect(try index.ids("spectaculra ") == ["s"])     // swap
        #expect(try index.ids("spetcaculer ") == ["s"])     // two edits, 11 characters
        #expect(try index.ids("firewrks ") == ["s"])
        #expect(try index.ids("fiewrks ") == [])            // two edits but only 7 characters
        #expect(try index.ids("cta ") == [])                // too short for any typo
    }

    @Test("a 4-letter word that no document contains is corrected with one edit")
    func outOfVocabularyFourLetters() throws {
        let index = SearchIndex()
        try index.upsert([doc("world", "World tour"), doc("cart", "Cart ride"), doc("wild", "Wild horses")])
        #expect(Set(try index.ids("wrld ")) == ["world", "wild"])  // an insertion and a substitution away
        #expect(try index.ids("crat ") == ["cart"])          // an adjacent swap
        #expect(try index.ids("wrl ") == [])                 // three letters: never corrected
        #expect(try index.ids("wrdl ") == [])                // two edits from "world": too many for 4 letters
        let hit = try #require(try index.search(SearchQuery("crat ")).hits.first)
        #expect(hit.tier == 2)
        #expect(hit.title.matchedTexts == ["Cart"])
    }

    @Test("a word being typed that no document contains gets its completions first, then its corrections")
    func outOfVocabularyPrefix() throws {
        let index = SearchIndex()
        try index.upsert([doc("completion", "heiko tour"), doc("correction", "sheik tour", views: 1_000_000)])
        let hits = try index.search(SearchQuery("heik")).hits
        #expect(hits.map(\.id) == ["completion", "correction"])
        #expect(hits.map(\.tier) == [0, 2])
        // A finished word has no completions: both are one edit away, and popularity orders them.
        let finished = try index.search(SearchQuery("heik ")).hits
        #expect(finished.map(\.id) == ["correction", "completion"])
        #expect(finished.map(\.tier) == [2, 2])
    }

    @Test("a 4-letter word that some document contains is not fuzzed; from 5 letters it is")
    func inVocabularyFourLetters() throws {
        // A high threshold runs the typo search whenever fewer than 10 documents match as typed.
        let index = SearchIndex(configuration: SearchIndexConfiguration(typoThreshold: 10))
        try index.upsert([doc("cart", "cart ride"), doc("card", "card trick", views: 1_000_000)])
        #expect(try index.ids("cart ") == ["cart"])
        #expect(try index.ids("card ") == ["card"])
        // "carts" is one edit from "cards" and "cart" ("card" is two); matching as typed, it ranks first.
        try index.upsert([doc("carts", "carts parade"), doc("cards", "cards game", views: 1_000_000)])
        let hits = try index.search(SearchQuery("carts ")).hits
        #expect(hits.first?.id == "carts")
        #expect(Set(hits.map(\.id)) == ["carts", "cards", "cart"])
    }

    @Test("a document matching as typed ranks above one that needs a correction, whatever the field or popularity")
    func asTypedBeatsCorrected() throws {
        let index = SearchIndex(configuration: SearchIndexConfiguration(typoThreshold: 10))
        try index.upsert([
            doc("exact", "An evening at home", description: "the kitten tour of the garden", views: 0),
            doc("corrected", "mitten tour", views: 1_000_000_000, ratingSum: 500, ratingCount: 100),
        ])
        for text in ["kitten ", "kitten tour "] {
            let hits = try index.search(SearchQuery(text)).hits
            #expect(hits.map(\.id) == ["exact", "corrected"], "\(text)")
            #expect(hits.map(\.tier) == [1, 2], "\(text)")
        }
    }

    @Test("the typo length thresholds are settings")
    func typoThresholdsAreSettings() throws {
        let documents = [doc("world", "World tour"), doc("cart", "cart ride"), doc("card", "card trick"), doc("s", "Spectacular fireworks")]
        let strict = SearchIndex(configuration: SearchIndexConfiguration(minLengthForOneTypoOutOfVocabulary: 5))
        try strict.upsert(documents)
        #expect(try strict.ids("wrld ") == [])
        let loose = SearchIndex(configuration: SearchIndexConfiguration(minLengthForOneTypo: 4, typoThreshold: 10))
        try loose.upsert(documents)
        #expect(try loose.ids("cart ") == ["cart", "card"])
        let twoEarly = SearchIndex(configuration: SearchIndexConfiguration(minLengthForTwoTypos: 7))
        try twoEarly.upsert(documents)
        #expect(try twoEarly.ids("fiewrks ") == ["s"])
        let none = SearchIndex(configuration: SearchIndexConfiguration(maxTypoExpansions: 0))
        try none.upsert(documents)
        #expect(try none.ids("wrld ") == [])
    }

    @Test("an exact match ranks above a typo match")
    func exactBeatsTypo() throws {
        let index = SearchIndex(configuration: SearchIndexConfiguration(typoThreshold: 10))
        try index.upsert([
            doc("mitten", "mitten tour", views: 1_000_000),
            doc("kitten", "kitten tour", views: 10),
        ])
        // "kitten" and "mitten" are one edit apart; the exact one wins despite the views.
        #expect(try index.ids("kitten ") == ["kitten", "mitten"])
        #expect(try index.ids("mitten ") == ["mitten", "kitten"])
    }

    @Test("a rarer one-edit neighbour is not buried under the documents of a common one")
    func rareTypoNeighbour() throws {
        let index = SearchIndex()
        // "catle" is one edit from both; twelve "castle" videos would fill the page if the
        // commoner neighbour were favoured. Alike variants leave popularity to decide.
        try index.upsert((0..<12).map { doc("castle\($0)", "castle tour", views: 10) })
        try index.upsert([doc("cattle", "cattle tour", views: 10_000)])
        #expect(try index.ids("catle ").first == "cattle")
        #expect(Set(try index.ids("catle ", limit: 20)).count == 13)
    }

    @Test("by default typo variants are searched only when the words as typed match nothing")
    func typoThreshold() throws {
        let index = SearchIndex()
        try index.upsert([doc("mitten", "mitten tour"), doc("kitten", "kitten tour")])
        #expect(try index.ids("kitten ") == ["kitten"])
        #expect(try index.ids("kittan ") == ["kitten"])  // "mitten" is two edits away
        #expect(try index.ids("kittem ").first == "kitten")
    }

    @Test("Unicode: é/e, ß/ss and CJK find each other")
    func unicode() throws {
        let index = SearchIndex()
        try index.upsert([
            doc("cafe", "Café in Paris"),
            doc("strasse", "Die Straße bei Nacht"),
            doc("tokyo", "東京タワーの夜景"),
        ])
        #expect(try index.ids("cafe ") == ["cafe"])
        #expect(try index.ids("CAFÉ ") == ["cafe"])
        #expect(try index.ids("strasse ") == ["strasse"])
        #expect(try index.ids("STRASSE") == ["strasse"])
        #expect(try index.ids("タワー") == ["tokyo"])
        #expect(try index.ids("東京 ") == ["tokyo"])
        #expect(try index.ids("大阪 ") == [])
    }

    @Test("highlights mark matched words, prefixes and typo variants in title and description")
    func highlights() throws {
        let index = SearchIndex()
        try index.upsert([doc("a", "Café racer build", description: "Building a café racer from scratch: part 1")])
        let results = try index.search(SearchQuery("cafe buil"))
        let hit = try #require(results.hits.first)
        #expect(hit.title.marked(open: "[", close: "]") == "[Café] racer [build]")
        // The same query marks another text, e.g. a title renamed after the index saw it.
        #expect(results.highlight("The café racer, rebuilt and built").marked(open: "[", close: "]") == "The [café] racer, rebuilt and [built]")
        #expect(hit.description.matchedTexts == ["Building", "café"])
        let plain = try #require(try index.search(SearchQuery("cafe", highlights: false)).hits.first)
        #expect(plain.title.matches.isEmpty)
        #expect(try index.search(SearchQuery("cafe", highlights: false)).highlight("Café").matches.isEmpty)
    }

    @Test("hostile queries give an error or an empty result, never a crash")
    func hostileQueries() throws {
        let index = SearchIndex()
        try index.upsert([doc("a", "Normal title", description: "words")])
        #expect(throws: VideoStackError.self) { try index.search(SearchQuery(String(repeating: "x", count: 10_000))) }
        do {
            _ = try index.search(SearchQuery(String(repeating: "é ", count: 5_000)))
            Issue.record("a 10,000-byte query was accepted")
        } catch let error as VideoStackError {
            #expect(error.code == .limitExceeded)
            #expect(error.message.contains("1024"))
        }
        #expect(try index.ids("!!! ??? ... ---") == [])
        #expect(try index.ids("\u{0}\u{7}\u{8}") == [])
        #expect(try index.ids(String(repeating: "a b ", count: 200)).isEmpty)
        #expect(throws: VideoStackError.self) { try index.search(SearchQuery("x", limit: 0)) }
        #expect(throws: VideoStackError.self) { try index.search(SearchQuery("x", cursor: "not a cursor!")) }
    }

    @Test("document ids and sizes are validated; absurd filter values do not trap")
    func badIDs() throws {
        let index = SearchIndex()
        #expect { try index.upsert([doc("huge", "t", description: String(repeating: "word ", count: 300_000))]) }
            throws: { ($0 as? VideoStackError)?.code == .limitExceeded }
        let far = Date(timeIntervalSince1970: 1e300)
        #expect(try index.ids("x", filter: SearchFilter(duration: Duration.seconds(Int64.min)...Duration.seconds(Int64.max), uploadedAt: far...far)) == [])
        #expect(throws: VideoStackError.self) { try index.upsert([doc("", "empty id")]) }
        #expect(throws: VideoStackError.self) { try index.upsert([doc(String(repeating: "i", count: 300), "long id")]) }
        #expect(index.count == 0)
    }
}
