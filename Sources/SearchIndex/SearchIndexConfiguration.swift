/// Ranking and matching settings of a ``SearchIndex``.
///
/// Changing them needs no rebuild: they are read per query (popularity is recomputed on load).
public struct SearchIndexConfiguration: Sendable, Hashable {
    /// BM25F weight of a title match. Defaults to 4.
    public var titleWeight: Double
    /// BM25F weight of a tag match. Defaults to 2.
    public var tagsWeight: Double
    /// BM25F weight of a description match. Defaults to 1.
    public var descriptionWeight: Double
    /// BM25 term-frequency saturation. Defaults to 1.2.
    public var k1: Double
    /// BM25 length normalization of the title (0 = none, 1 = full). Defaults to 0.5.
    public var titleB: Double
    /// BM25 length normalization of the tags. Defaults to 0.3.
    public var tagsB: Double
    /// BM25 length normalization of the description. Defaults to 0.75.
    public var descriptionB: Double
    /// How much popularity adds to the text score: `score = bm25f + popularityWeight * p`, with
    /// `p` in 0...1 mixing views and rating (see ``ratingShare``). Defaults to 1; 0 ranks by text only.
    public var popularityWeight: Double
    /// The share of rating in `p` (the rest is views on a log scale up to 10⁹). Defaults to 0.3.
    public var ratingShare: Double
    /// Score multiplier of a prefix completion of the last query term (exact words score 1).
    public var prefixMultiplier: Double
    /// Score multiplier of a one-edit typo match (within a tier; a document that needs a typo
    /// correction is in a lower tier than every document matching as typed). Defaults to 0.5.
    public var oneTypoMultiplier: Double
    /// Score multiplier of a two-edit typo match. Defaults to 0.3.
    public var twoTyposMultiplier: Double
    /// How strongly a typo variant's score follows its frequency: each variant's multiplier is
    /// scaled by `(df / df of the most frequent variant) ^ exponent`. Defaults to 0: variants with
    /// the same number of edits are alike (as in Meilisearch), and text relevance, the other query
    /// words and popularity order their documents. A positive exponent is a noisy-channel prior
    /// towards the commonest neighbour; it buries a rarer intended word (`catle` meaning `cattle`)
    /// under a common neighbour's documents whenever that neighbour fills the page.
    public var typoFrequencyExponent: Double
    /// Score multiplier, on top of ``oneTypoMultiplier``, of a one-edit variant that the typed
    /// word is a neighbouring-key or sound-alike slip of. Defaults to 0.8; 1 with
    /// ``unlikelyEditMultiplier`` 1 treats every edit alike.
    ///
    /// People's typing errors are not uniform, and a specific slip is likelier the fewer ways
    /// there are to make one like it (a noisy channel without a word-frequency prior). Two
    /// adjacent letters swapped, a letter left out or a letter typed twice can each happen in
    /// about one way per position: such a variant keeps the full one-typo multiplier. A letter
    /// replaced by a key touching it on a QWERTY keyboard or by a letter that sounds alike (a
    /// vowel for a vowel, `y` for `i`, `k` for `c`…), or a letter inserted next to one whose key
    /// it touches, has a handful of alternatives: it is scaled by this. Any other one-edit
    /// difference is scaled by ``unlikelyEditMultiplier``. When ``maxTypoExpansions`` cuts the
    /// variants, likelier slips are kept first. So `thirsyt` ranks `thirsty` (a swap) above
    /// `thirst` (a stray y beside the t), and `nees` ranks `needs` (a dropped d) above `news`
    /// (e beside w) above `nets`.
    public var nearbySlipMultiplier: Double
    /// Score multiplier, on top of ``oneTypoMultiplier``, of a one-edit variant that the typed word
    /// is no typing slip of (an unrelated letter for another, a stray unrelated letter). Defaults
    /// to 0.6; see ``nearbySlipMultiplier``.
    public var unlikelyEditMultiplier: Double
    /// Shortest query word, in characters, that may match with one typo when the word itself is
    /// in the index's vocabulary (some indexed document contains it). Defaults to 5 (as Meilisearch).
    ///
    /// A word in the vocabulary is probably meant as typed, so short ones are not fuzzed: `cart`
    /// does not find `card`.
    public var minLengthForOneTypo: Int
    /// Shortest query word, in characters, that may match with one typo when no indexed document
    /// contains the word. Defaults to 4.
    ///
    /// Such a word is probably misspelled, so shorter words are corrected too: `wrld` finds
    /// `world`. Values above ``minLengthForOneTypo`` are allowed but make no sense.
    public var minLengthForOneTypoOutOfVocabulary: Int
    /// Shortest query word, in characters, that may match with two typos, in the vocabulary or
    /// not. Defaults to 9.
    public var minLengthForTwoTypos: Int
    /// How many completions of a prefix are searched (the most frequent ones). Defaults to 24.
    public var maxPrefixExpansions: Int
    /// How many typo variants of a term are searched (fewest edits, then most frequent). Defaults to 12.
    public var maxTypoExpansions: Int
    /// Typo variants are searched when fewer documents than this match every word as typed
    /// (Typesense's `typo_tokens_threshold`), and also, whatever this is, when a word is in no
    /// document and the words as typed do not fill the page. Defaults to 1: for words that are
    /// in the vocabulary, only when nothing matches. Raise it (up to the page size) to fill thin
    /// pages with corrections too; they always rank below the documents matching as typed.
    public var typoThreshold: Int
    /// The last query term matches as a prefix (search as you type) unless the query ends in a space.
    public var prefixSearch: Bool
    /// Segments smaller than this share merge eagerly; see ``SearchIndex``. Defaults to 2.
    public var mergeFactor: Int

    /// Makes a configuration; every parameter has the default documented on its property.
    public init(
        titleWeight: Double = 4, tagsWeight: Double = 2, descriptionWeight: Double = 1, k1: Double = 1.2,
        titleB: Double = 0.5, tagsB: Double = 0.3, descriptionB: Double = 0.75, popularityWeight: Double = 1,
        ratingShare: Double = 0.3, prefixMultiplier: Double = 0.8, oneTypoMultiplier: Double = 0.5,
        twoTyposMultiplier: Double = 0.3, typoFrequencyExponent: Double = 0, nearbySlipMultiplier: Double = 0.8,
        unlikelyEditMultiplier: Double = 0.6,
        minLengthForOneTypo: Int = 5,
        minLengthForOneTypoOutOfVocabulary: Int = 4, minLengthForTwoTypos: Int = 9,
        maxPrefixExpansions: Int = 24, maxTypoExpansions: Int = 12, typoThreshold: Int = 1, prefixSearch: Bool = true, mergeFactor: Int = 2
    ) {
        self.titleWeight = titleWeight
        self.tagsWeight = tagsWeight
        self.descriptionWeight = descriptionWeight
        self.k1 = k1
        self.titleB = titleB
        self.tagsB = tagsB
        self.descriptionB = descriptionB
        self.popularityWeight = popularityWeight
        self.ratingShare = ratingShare
        self.prefixMultiplier = prefixMultiplier
        self.oneTypoMultiplier = oneTypoMultiplier
        self.twoTyposMultiplier = twoTyposMultiplier
        self.typoFrequencyExponent = typoFrequencyExponent
        self.nearbySlipMultiplier = nearbySlipMultiplier
        self.unlikelyEditMultiplier = unlikelyEditMultiplier
        self.minLengthForOneTypo = minLengthForOneTypo
        self.minLengthForOneTypoOutOfVocabulary = minLengthForOneTypoOutOfVocabulary
        self.minLengthForTwoTypos = minLengthForTwoTypos
        self.maxPrefixExpansions = maxPrefixExpansions
        self.maxTypoExpansions = maxTypoExpansions
        self.typoThreshold = typoThreshold
        self.prefixSearch = prefixSearch
        self.mergeFactor = mergeFactor
    }
}

extension SearchIndexConfiguration {
    /// How many edits a query word of `characters` characters may be corrected with: two from
    /// ``minLengthForTwoTypos``, one from ``minLengthForOneTypo`` for a word in the vocabulary
    /// and from ``minLengthForOneTypoOutOfVocabulary`` for one that is not, else none.
    func typoBudget(characters: Int, inVocabulary: Bool) -> Int {
        guard maxTypoExpansions > 0 else { return 0 }
        if characters >= minLengthForTwoTypos { return 2 }
        return characters >= (inVocabulary ? minLengthForOneTypo : minLengthForOneTypoOutOfVocabulary) ? 1 : 0
    }
}
