internal import Foundation

/// One dictionary term that a query term may match, with how much a match is worth.
struct Expansion: Sendable, Hashable {
    var term: [UInt8]
    /// 1 for the exact word, below 1 for prefix completions and typo variants.
    var multiplier: Double
    /// BM25 inverse document frequency, fixed when the plan is made.
    var idf: Double
    /// 0 the exact word, 1 a prefix completion, 1 + edits for a typo variant.
    var kind: UInt8

    /// Whether the term matches the word as typed (exactly or as its completion), not a correction.
    var isAsTyped: Bool { kind < 2 }
}

/// A query turned into term groups (one per query word; a document must match every group,
/// through any of its expansions) plus the statistics BM25F needs.
///
/// A plan is computed once per query against the current view and travels inside a pagination
/// cursor, so later pages score documents exactly as the first page did.
struct QueryPlan: Sendable, Hashable {
    var groups: [[Expansion]]
    var averageLengths: [Double]
    /// The last query word when it matches as a prefix (for highlighting partial words).
    var prefix: [UInt8]?
    /// True when the text had characters but no searchable word (only punctuation, say).
    var noSearchableTerms: Bool

    static let maxGroups = 16

    init(groups: [[Expansion]], averageLengths: [Double], prefix: [UInt8]?, noSearchableTerms: Bool) {
        self.groups = groups
        self.averageLengths = averageLengths
        self.prefix = prefix
        self.noSearchableTerms = noSearchableTerms
    }

    /// Whether some word may be corrected (see ``SearchIndexConfiguration/typoBudget(characters:inVocabulary:)``).
    var hasTypoCandidates: Bool { typoBudgets.contains { $0 > 0 } }

    /// Whether a word that may be corrected is in no document, so it is likely misspelled (or,
    /// when it is the word being typed, unfinished).
    var hasOutOfVocabularyWord: Bool {
        zip(typoBudgets, inVocabulary).contains { budget, known in budget > 0 && !known }
    }

    /// Whether some word matches through a typo variant (so the corrected tiers can hold documents).
    var hasTypoExpansions: Bool { groups.contains { $0.contains { !$0.isAsTyped } } }

    /// The analyzed query words (not carried in cursors).
    var words: [[UInt8]] = []
    /// Per word, how many edits it may be corrected with (not carried in cursors).
    var typoBudgets: [Int] = []
    /// Per word, whether some document contains it (not carried in cursors).
    var inVocabulary: [Bool] = []

    init(text: String, view: IndexView, configuration: SearchIndexConfiguration, typos: Bool) {
        var buffer = TokenBuffer()
        TextAnalyzer.analyze(text, into: &buffer)
        var words: [[UInt8]] = []
        for index in buffer.tokens.indices {
            let word = Array(buffer.term(index))
            if !words.contains(word) { words.append(word) }
            if words.count == QueryPlan.maxGroups { break }
        }
        self.words = words
        averageLengths = view.averageLengths
        noSearchableTerms = words.isEmpty && !text.allSatisfy(\.isWhitespace)
        // Search as you type: the word being typed is a prefix unless the user ended it.
        let lastIsPrefix = configuration.prefixSearch
            && text.unicodeScalars.last.map { $0.properties.isAlphabetic || $0.properties.numericType != nil } == true
        prefix = lastIsPrefix ? words.last : nil
        let total = Double(max(view.liveCount, 1))
        func idf(_ df: Int) -> Double {
            let df = Double(min(df, Int(total)))
            return log(1 + (total - df + 0.5) / (df + 0.5))
        }
        groups = []
        for (position, word) in words.enumerated() {
            var expansions: [Expansion] = []
            var seen: Set<[UInt8]> = [word]
            let exactDF = QueryPlan.documentFrequency(of: word, in: view)
            if exactDF > 0 { expansions.append(Expansion(term: word, multiplier: 1, idf: idf(exactDF), kind: 0)) }
            // The vocabulary test: a word some document contains is probably meant as typed; one
            // that none contains is probably misspelled, and is corrected from fewer characters.
            let maxEdits = configuration.typoBudget(
                characters: String(decoding: word, as: UTF8.self).unicodeScalars.count, inVocabulary: exactDF > 0)
            typoBudgets.append(maxEdits)
            inVocabulary.append(exactDF > 0)
            if position == words.count - 1 && lastIsPrefix && configuration.maxPrefixExpansions > 0 {
                let completions = QueryPlan.completions(of: word, in: view, limit: configuration.maxPrefixExpansions)
                for (term, df) in completions where !seen.contains(term) {
                    seen.insert(term)
                    expansions.append(Expansion(term: term, multiplier: configuration.prefixMultiplier, idf: idf(df), kind: 1))
                }
            }
            if typos && maxEdits > 0 {
                // Likelier slips first (see nearbySlipMultiplier), then fewest edits, then most
                // frequent, so a cut keeps the likeliest intended words.
                var ranked: [(term: [UInt8], distance: Int, df: Int, plausibility: Double)] = []
                for variant in QueryPlan.typoVariants(of: word, maxEdits: maxEdits, in: view) where !seen.contains(variant.term) {
                    var plausibility = 1.0
                    if variant.distance == 1 {
                        switch TypingErrors.slip(typed: word, intended: variant.term) {
                        case .likely: plausibility = 1
                        case .nearby: plausibility = configuration.nearbySlipMultiplier
                        case .unlikely: plausibility = configuration.unlikelyEditMultiplier
                        }
                    }
                    ranked.append((variant.term, variant.distance, variant.df, plausibility))
                }
                // A stable sort: typoVariants already orders by edits, then frequency.
                let order = ranked.indices.sorted { a, b in
                    if ranked[a].distance != ranked[b].distance { return ranked[a].distance < ranked[b].distance }
                    if ranked[a].plausibility != ranked[b].plausibility { return ranked[a].plausibility > ranked[b].plausibility }
                    return a < b
                }
                let variants = order.prefix(configuration.maxTypoExpansions).map { ranked[$0] }
                // Optionally (typoFrequencyExponent > 0, off by default) a noisy-channel prior: rarer
                // variants are scaled down by their share of the most frequent neighbour's frequency.
                let mostFrequent = Double(variants.map(\.df).max() ?? 1)
                for variant in variants {
                    seen.insert(variant.term)
                    let prior = pow(Double(variant.df) / max(1, mostFrequent), configuration.typoFrequencyExponent)
                    let multiplier = prior * variant.plausibility
                        * (variant.distance == 1 ? configuration.oneTypoMultiplier : configuration.twoTyposMultiplier)
                    expansions.append(Expansion(term: variant.term, multiplier: multiplier, idf: idf(variant.df),
                                                kind: UInt8(1 + variant.distance)))
                }
            }
            // One IDF per word, from its most frequent expansion: otherwise a rare completion or
            // typo variant would outscore the exact word just for being rare, and the
            // multipliers could not keep exact > prefix > typo.
            if let common = expansions.map({ QueryPlan.documentFrequency(of: $0.term, in: view) }).max() {
                let shared = idf(common)
                for index in expansions.indices { expansions[index].idf = shared }
            }
            groups.append(expansions)
        }
    }

    static func documentFrequency(of word: [UInt8], in view: IndexView) -> Int {
        word.withUnsafeBufferPointer { key in
            view.segments.reduce(0) { sum, segment in sum + (segment.termID(key).map(segment.documentFrequency) ?? 0) }
        }
    }

    /// The most frequent dictionary terms that extend `prefix` (not `prefix` itself).
    static func completions(of prefix: [UInt8], in view: IndexView, limit: Int) -> [([UInt8], Int)] {
        var frequency: [[UInt8]: Int] = [:]
        prefix.withUnsafeBufferPointer { key in
            for segment in view.segments {
                let range = segment.prefixRange(key)
                // Keep only a bounded candidate set per segment: the top `limit` by frequency.
                var best: [(Int, Int)] = []  // (df, term id)
                for term in range where segment.term(term).count > key.count {
                    let df = segment.documentFrequency(term)
                    if best.count < limit {
                        best.append((df, term))
                        if best.count == limit { best.sort { $0.0 > $1.0 } }
                    } else if df > best[limit - 1].0 {
                        var index = limit - 1
                        while index > 0 && best[index - 1].0 < df { index -= 1 }
                        best.insert((df, term), at: index)
                        best.removeLast()
                    }
                }
                for (df, term) in best { frequency[Array(segment.term(term)), default: 0] += df }
            }
        }
        return frequency.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.lexicographicallyPrecedes($1.key) }
            .prefix(limit).map { ($0.key, $0.value) }
    }

    /// Dictionary terms within `maxEdits` (Damerau–Levenshtein, adjacent swaps count once) of
    /// `word`, fewest edits first, then most frequent.
    static func typoVariants(of word: [UInt8], maxEdits: Int, in view: IndexView) -> [(term: [UInt8], distance: Int, df: Int)] {
        var found: [[UInt8]: (distance: Int, df: Int)] = [:]
        // Fewest edits first: a two-edit walk visits every two-letter prefix and far more
        // terms, so it runs only when no term is one edit away.
        var budgets = [min(1, maxEdits)]
        if maxEdits >= 2 { budgets.append(maxEdits) }
        for budget in budgets where found.isEmpty {
            for segment in view.segments {
                for (term, distance) in TypoSearch.search(segment: segment, word: word, maxEdits: budget) where distance > 0 {
                    let bytes = Array(segment.term(term))
                    let df = segment.documentFrequency(term)
                    if let old = found[bytes] {
                        found[bytes] = (min(old.distance, distance), old.df + df)
                    } else {
                        found[bytes] = (distance, df)
                    }
                }
            }
        }
        return found.map { (term: $0.key, distance: $0.value.distance, df: $0.value.df) }
            .sorted { a, b in
                if a.distance != b.distance { return a.distance < b.distance }
                if a.df != b.df { return a.df > b.df }
                return a.term.lexicographicallyPrecedes(b.term)
            }
    }
}

/// Finds dictionary terms near a word by walking the sorted dictionary like a trie.
///
/// Neighbouring terms share prefixes, so the edit-distance rows for a shared prefix are reused;
/// when every entry of a row exceeds the budget, no term with that prefix can match and the walk
/// jumps past all of them with a binary search. That visits only the prefixes within reach of the
/// word, a few thousand rows for a dictionary of hundreds of thousands of terms.
enum TypoSearch {
    static func search(segment: Segment, word: [UInt8], maxEdits: Int) -> [(term: Int, distance: Int)] {
        let m = word.count
        let width = m + 1
        let maxDepth = TextAnalyzer.maxTermBytes + 1
        var rows = [Int](repeating: 0, count: (maxDepth + 1) * width)
        for j in 0...m { rows[j] = j }
        var out: [(Int, Int)] = []
        var previous: UnsafeBufferPointer<UInt8>? = nil
        var validDepth = 0
        var t = 0
        let termCount = segment.termCount
        word.withUnsafeBufferPointer { q in
            rows.withUnsafeMutableBufferPointer { rows in
                while t < termCount {
                    let w = segment.term(t)
                    var depth = 0
                    if let previous {
                        let limit = min(validDepth, min(previous.count, w.count))
                        while depth < limit && previous[depth] == w[depth] { depth += 1 }
                    }
                    var pruned = false
                    while depth < w.count && depth < maxDepth {
                        let c = w[depth]
                        let row = (depth + 1) * width
                        let above = depth * width
                        rows[row] = depth + 1
                        var rowMin = rows[row]
                        // Only a band of 2k+1 cells around the diagonal can be within k edits;
                        // cells outside it are saturated at k+1 and never recomputed.
                        let low = max(1, depth + 1 - maxEdits)
                        let high = min(m, depth + 1 + maxEdits)
                        if low - 1 >= 1 { rows[row + low - 1] = maxEdits + 1 }
                        if high + 1 <= m { rows[row + high + 1] = maxEdits + 1 }
                        if low <= high {
                            for j in low...high {
                                var value = min(rows[above + j] + 1, rows[row + j - 1] + 1)
                                value = min(value, rows[above + j - 1] + (c == q[j - 1] ? 0 : 1))
                                if depth >= 1 && j >= 2 && c == q[j - 2] && w[depth - 1] == q[j - 1] {
                                    value = min(value, rows[(depth - 1) * width + j - 2] + 1)
                                }
                                rows[row + j] = value
                                rowMin = min(rowMin, value)
                            }
                        }
                        depth += 1
                        if rowMin > maxEdits {
                            pruned = true
                            break
                        }
                    }
                    previous = w
                    validDepth = depth
                    if pruned {
                        // No term starting with w[0..<depth] can be within budget: jump past them all.
                        let prefix = UnsafeBufferPointer(rebasing: w[0..<depth])
                        var low = t + 1
                        var high = termCount
                        while low < high {
                            let mid = (low + high) / 2
                            let candidate = segment.term(mid)
                            let shares = candidate.count >= depth && memcmpEqual(candidate.baseAddress, prefix.baseAddress, depth)
                            if shares { low = mid + 1 } else { high = mid }
                        }
                        t = low
                        continue
                    }
                    if w.count <= maxDepth && abs(w.count - m) <= maxEdits {
                        let distance = rows[w.count * width + m]
                        if distance <= maxEdits { out.append((t, distance)) }
                    }
                    t += 1
                }
            }
        }
        return out
    }
}
