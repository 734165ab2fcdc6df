import Foundation
import Testing
import VideoCore
@testable import SearchIndex

/// The typo rule of issue 10 and how corrections are ranked, through the public API on a real index.
@Suite("Typo rule and the ranking of corrections")
struct TypoRankingTests {
    @Test("the rule: out of the vocabulary one edit from 4 letters; in it one from 5 and two from 9; exact matches first")
    func rule() throws {
        let index = SearchIndex(configuration: SearchIndexConfiguration(typoThreshold: 10))
        try index.upsert([
            doc("road", "road trip"),
            doc("roads", "roads of europe"),
            doc("mountain", "mountaineering basics"),
            doc("rods", "fishing rods"),
        ])
        // "raod" is in no document: 4 letters, one edit (a swap) finds "road".
        #expect(try index.ids("raod ") == ["road"])
        // "rods" is in the vocabulary and has 4 letters: it is not corrected.
        #expect(try index.ids("rods ") == ["rods"])
        // "roads" is in the vocabulary and has 5: it matches as typed first, then "road" and "rods"
        // (one edit each) fill the page below it.
        let roads = try index.search(SearchQuery("roads ")).hits
        #expect(roads.first?.id == "roads")
        #expect(roads.first?.tier == 0)
        #expect(Set(roads.dropFirst().map(\.id)) == ["road", "rods"])
        #expect(roads.dropFirst().allSatisfy { $0.tier == 2 })
        // Two edits only from 9 letters.
        #expect(try index.ids("montaineerng ") == ["mountain"])
        #expect(try index.ids("rds ") == [])
    }

    @Test("variants rank by how likely each is as a slip: swap or dropped letter, then neighbouring key, then any other edit")
    func likelierSlipFirst() throws {
        let index = SearchIndex()
        // "nees" is one edit from all three: "needs" with a dropped d, "news" with e typed for
        // the w beside it, "nets" with e for t (no slip). "nets" is inserted first and every
        // document is as popular as the others.
        try index.upsert([doc("nets", "nets ahoy", views: 50), doc("news", "news ahoy", views: 50), doc("needs", "needs ahoy", views: 50)])
        let hits = try index.search(SearchQuery("nees ")).hits
        #expect(hits.map(\.id) == ["needs", "news", "nets"])
        #expect(hits[0].score > hits[1].score && hits[1].score > hits[2].score)
        // A swap beats a stray letter beside a key it touches.
        let thirst = SearchIndex()
        try thirst.upsert([doc("thirst", "thirst", views: 50), doc("thirsty", "thirsty", views: 50)])
        #expect(try thirst.ids("thirsyt ") == ["thirsty", "thirst"])
    }

    @Test("swaps, dropped letters, doubled letters, neighbouring keys and vowel swaps are plausible slips")
    func slipKinds() throws {
        // Each query is one edit from both titles; the first title is the plausible one.
        let cases: [(query: String, plausible: String, unlikely: String)] = [
            ("rvier ", "river", "rvies"),     // swap of v and i; s for r is no slip
            ("rier ", "river", "rimr"),       // a dropped v; m for e is no slip
            ("rivver ", "river", "rivvel"),   // a doubled v; l for r is no slip
            ("rivwr ", "river", "rivor"),     // w for e, its neighbouring key; o for w is no slip
            ("rivar ", "river", "rivas"),     // a for e, a vowel for a vowel; s for r is no slip
        ]
        for (query, plausible, unlikely) in cases {
            let index = SearchIndex()
            try index.upsert([doc(unlikely, "\(unlikely) tour", views: 50), doc(plausible, "\(plausible) tour", views: 50)])
            let hits = try index.search(SearchQuery(query)).hits
            #expect(hits.map(\.id).first == plausible, "\(query)")
        }
    }

    @Test("the slip multipliers are settings; 1 and 1 treat every edit alike")
    func slipSettings() throws {
        let documents = [doc("nets", "nets ahoy", views: 50), doc("news", "news ahoy", views: 50), doc("needs", "needs ahoy", views: 50)]
        let alike = SearchIndex(configuration: SearchIndexConfiguration(nearbySlipMultiplier: 1, unlikelyEditMultiplier: 1))
        try alike.upsert(documents)
        let hits = try alike.search(SearchQuery("nees ")).hits
        #expect(hits.count == 3 && hits[0].score == hits[1].score && hits[1].score == hits[2].score)
        // Unlikely edits above neighbouring keys, if one wants that.
        let inverted = SearchIndex(configuration: SearchIndexConfiguration(nearbySlipMultiplier: 0.5, unlikelyEditMultiplier: 0.9))
        try inverted.upsert(documents)
        #expect(try inverted.ids("nees ") == ["needs", "nets", "news"])
    }

    @Test("when the expansions are cut, likelier slips are kept before commoner unlikely neighbours")
    func cutKeepsLikelier() throws {
        let index = SearchIndex(configuration: SearchIndexConfiguration(maxTypoExpansions: 1))
        // "nets" is in three documents, "news" in one; with room for one variant, "news" is searched.
        try index.upsert((0..<3).map { doc("nets\($0)", "nets ahoy") } + [doc("news", "news ahoy")])
        #expect(try index.ids("nees ") == ["news"])
    }

    @Test("every word of a query may be the misspelled one, and the other words still have to match")
    func typoInAnyWord() throws {
        let index = SearchIndex()
        try index.upsert([
            doc("target", "panic room", views: 10),
            doc("other", "panic attack", views: 1_000_000),
            doc("room", "room service", views: 1_000_000),
        ])
        #expect(try index.ids("pnaic room").first == "target")
        #expect(try index.ids("panic rooom ").first == "target")
        let hit = try #require(try index.search(SearchQuery("pnaic room")).hits.first)
        #expect(hit.tier == 2)
    }
}
