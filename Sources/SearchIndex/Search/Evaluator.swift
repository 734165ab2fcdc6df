internal import Foundation
internal import VideoCore

/// The filter of a query, resolved against one segment's doc values.
struct SegmentFilter {
    let matchesNothing: Bool
    let uploader: UInt32?
    let duration: ClosedRange<Float>?
    let uploadedAt: ClosedRange<Int64>?
    let visibilityMask: UInt32
    let statusMask: UInt32
    /// The uploader whose documents pass the visibility and status masks, if in this segment.
    let owner: UInt32?
    let segment: Segment
    let deleted: Bitset

    init(_ filter: SearchFilter, segment: Segment, deleted: Bitset) {
        self.segment = segment
        self.deleted = deleted
        var nothing = false
        if let name = filter.uploader {
            uploader = segment.uploaderIndex(name)
            if uploader == nil { nothing = true }
        } else {
            uploader = nil
        }
        duration = filter.duration.map { Float($0.lowerBound.indexSeconds)...Float($0.upperBound.indexSeconds) }
        // Clamped so that absurd dates (Date.distantFuture × 10⁹) cannot trap the conversion.
        func millis(_ date: Date, _ rule: FloatingPointRoundingRule) -> Int64 {
            let value = (date.timeIntervalSince1970 * 1000).rounded(rule)
            if value.isNaN { return 0 }
            return Int64(max(-9e15, min(9e15, value)))
        }
        uploadedAt = filter.uploadedAt.flatMap {
            let low = millis($0.lowerBound, .up), high = millis($0.upperBound, .down)
            return low <= high ? low...high : nil
        }
        var visibilityMask: UInt32 = 0
        for (index, visibility) in Visibility.allCases.enumerated() where filter.visibilities.contains(visibility) {
            visibilityMask |= 1 << UInt32(index)
        }
        var statusMask: UInt32 = 0
        for (index, status) in VideoStatus.allCases.enumerated() where filter.statuses.contains(status) {
            statusMask |= 1 << UInt32(index)
        }
        self.visibilityMask = visibilityMask
        self.statusMask = statusMask
        owner = filter.ownedBy.flatMap { segment.uploaderIndex($0) }
        if let range = filter.uploadedAt, uploadedAt == nil, range.lowerBound <= range.upperBound {
            nothing = true  // a range narrower than a millisecond holds no stored time
        }
        matchesNothing = nothing || ((visibilityMask == 0 || statusMask == 0) && owner == nil)
    }

    @inline(__always)
    func admits(_ ord: Int) -> Bool {
        if deleted.contains(ord) { return false }
        let flag = UInt32(segment.flags[ord])
        if visibilityMask & (1 << (flag >> 4)) == 0 || statusMask & (1 << (flag & 0x0F)) == 0 {
            guard let owner, segment.uploader[ord] == owner else { return false }
        }
        if let uploader, segment.uploader[ord] != uploader { return false }
        if let duration, !duration.contains(segment.duration[ord]) { return false }
        if let uploadedAt, !uploadedAt.contains(segment.uploadedAt[ord]) { return false }
        return true
    }
}

/// BM25F scoring of one expansion in one segment.
struct ExpansionScorer {
    let weight: (Double, Double, Double)
    let b: (Double, Double, Double)
    let inverseAverage: (Double, Double, Double)
    let k1: Double
    let scale: Double   // idf * multiplier * (k1 + 1)

    init(_ expansion: Expansion, plan: QueryPlan, configuration c: SearchIndexConfiguration) {
        weight = (c.titleWeight, c.tagsWeight, c.descriptionWeight)
        b = (c.titleB, c.tagsB, c.descriptionB)
        inverseAverage = (1 / plan.averageLengths[0], 1 / plan.averageLengths[1], 1 / plan.averageLengths[2])
        k1 = c.k1
        scale = expansion.idf * expansion.multiplier * (c.k1 + 1)
    }

    /// The most any posting of a block can score, from the block's per-field maximum
    /// frequencies and minimum lengths (the score grows with the one and falls with the other).
    func upperBound(maxFrequencies: UInt8, minLengths: UInt32) -> Double {
        score(tf: maxFrequencies, lengths: minLengths)
    }

    @inline(__always)
    func score(tf: UInt8, lengths: UInt32) -> Double {
        var x = 0.0
        let title = tf & 0x07
        if title != 0 {
            x += weight.0 * Double(title) / (1 - b.0 + b.0 * Double(lengths & 0xFF) * inverseAverage.0)
        }
        let tags = (tf >> 3) & 0x03
        if tags != 0 {
            x += weight.1 * Double(tags) / (1 - b.1 + b.1 * Double(lengths >> 8 & 0xFF) * inverseAverage.1)
        }
        let description = tf >> 5
        if description != 0 {
            x += weight.2 * Double(description) / (1 - b.2 + b.2 * Double(lengths >> 16) * inverseAverage.2)
        }
        return scale * x / (k1 + x)
    }
}

/// Matches of one term group in one segment: sorted ordinals, best contribution, whether a
/// title/tag (hot) list produced it, and whether a list of the word as typed (not a typo
/// variant) did.
struct GroupMatches {
    var docs: [UInt32] = []
    var scores: [Double] = []
    var hot: [Bool] = []
    var asTyped: [Bool] = []
}

/// Which postings lists of a word group a tier reads: title/tag (hot) or description-only
/// (cold) lists, of the word as typed (exact or completed) or of its typo variants.
struct ListSelection: OptionSet {
    let rawValue: UInt8
    static let hotAsTyped = ListSelection(rawValue: 1)
    static let coldAsTyped = ListSelection(rawValue: 2)
    static let hotTypos = ListSelection(rawValue: 4)
    static let coldTypos = ListSelection(rawValue: 8)
    static let asTyped: ListSelection = [.hotAsTyped, .coldAsTyped]
    static let all: ListSelection = [.hotAsTyped, .coldAsTyped, .hotTypos, .coldTypos]
}

/// Runs one tier of a query over one segment.
struct SegmentEvaluator {
    let segment: Segment
    let filter: SegmentFilter
    let plan: QueryPlan
    let configuration: SearchIndexConfiguration

    struct List {
        let index: Int
        let scorer: ExpansionScorer
        /// From the word as typed (exact or a completion), not from a typo variant.
        let isAsTyped: Bool
        var isHot: Bool { index & 1 == 0 }
    }

    /// The postings lists of one group in this segment that `selection` names.
    func lists(group: Int, _ selection: ListSelection) -> [List] {
        var out: [List] = []
        for expansion in plan.groups[group] {
            let typed = expansion.isAsTyped
            let hot = selection.contains(typed ? .hotAsTyped : .hotTypos)
            let cold = selection.contains(typed ? .coldAsTyped : .coldTypos)
            guard hot || cold, let term = expansion.term.withUnsafeBufferPointer({ segment.termID($0) }) else { continue }
            let scorer = ExpansionScorer(expansion, plan: plan, configuration: configuration)
            if hot && segment.listCount[2 * term] > 0 { out.append(List(index: 2 * term, scorer: scorer, isAsTyped: typed)) }
            if cold && segment.listCount[2 * term + 1] > 0 { out.append(List(index: 2 * term + 1, scorer: scorer, isAsTyped: typed)) }
        }
        return out
    }

    func cost(_ lists: [List]) -> Int { lists.reduce(0) { $0 + Int(segment.listCount[$1.index]) } }

    /// Decodes every posting of one list.
    func decode(_ list: List) -> GroupMatches {
        var cursor = PostingCursor(segment: segment, list: list.index)
        var out = GroupMatches()
        out.docs.reserveCapacity(cursor.count)
        out.scores.reserveCapacity(cursor.count)
        let lengths = segment.fieldLengths.base
        while cursor.doc != UInt32.max {
            out.docs.append(cursor.doc)
            out.scores.append(list.scorer.score(tf: cursor.tf, lengths: lengths[Int(cursor.doc)]))
            cursor.next()
        }
        out.hot = [Bool](repeating: list.isHot, count: out.docs.count)
        out.asTyped = [Bool](repeating: list.isAsTyped, count: out.docs.count)
        return out
    }

    /// Union of two sorted match sets, keeping the better score per document.
    static func union(_ a: GroupMatches, _ b: GroupMatches) -> GroupMatches {
        var out = GroupMatches()
        out.docs.reserveCapacity(a.docs.count + b.docs.count)
        out.scores.reserveCapacity(a.docs.count + b.docs.count)
        out.hot.reserveCapacity(a.docs.count + b.docs.count)
        out.asTyped.reserveCapacity(a.docs.count + b.docs.count)
        var i = 0, j = 0
        while i < a.docs.count || j < b.docs.count {
            if j == b.docs.count || (i < a.docs.count && a.docs[i] < b.docs[j]) {
                out.docs.append(a.docs[i]); out.scores.append(a.scores[i]); out.hot.append(a.hot[i])
                out.asTyped.append(a.asTyped[i]); i += 1
            } else if i == a.docs.count || b.docs[j] < a.docs[i] {
                out.docs.append(b.docs[j]); out.scores.append(b.scores[j]); out.hot.append(b.hot[j])
                out.asTyped.append(b.asTyped[j]); j += 1
            } else {
                out.docs.append(a.docs[i]); out.scores.append(max(a.scores[i], b.scores[j]))
                out.hot.append(a.hot[i] || b.hot[j]); out.asTyped.append(a.asTyped[i] || b.asTyped[j]); i += 1; j += 1
            }
        }
        return out
    }

    func materialize(_ lists: [List]) -> GroupMatches {
        var parts = lists.map(decode).sorted { $0.docs.count < $1.docs.count }
        guard !parts.isEmpty else { return GroupMatches() }
        // Merge smallest first so large lists are copied as few times as possible.
        while parts.count > 1 {
            let merged = SegmentEvaluator.union(parts[0], parts[1])
            parts.removeFirst(2)
            let position = parts.firstIndex { $0.docs.count >= merged.docs.count } ?? parts.count
            parts.insert(merged, at: position)
        }
        return parts[0]
    }

    /// Candidates that survived every group so far, with per-group contributions (row-major,
    /// `groupCount` wide, in group order so sums are computed identically on every page), and
    /// per group a bit for "matched in a hot list" and one for "matched as typed".
    struct Candidates {
        var docs: [UInt32]
        var contributions: [Double]
        var hotMask: [UInt32]
        var asTypedMask: [UInt32]
    }

    /// Evaluates groups `0..<groupCount` with AND semantics over the lists `selection` names and
    /// calls `visit` for every admitted document with its text score, whether every group matched
    /// in a hot list, and whether every group matched as typed.
    func evaluate(groupCount: Int, selection: ListSelection, excludeGroup: Int?, visit: (Int, Double, Bool, Bool) -> Void) {
        if filter.matchesNothing || groupCount == 0 { return }
        var groupLists: [[List]] = []
        for group in 0..<groupCount {
            let lists = lists(group: group, selection)
            if lists.isEmpty { return }
            groupLists.append(lists)
        }
        let order = (0..<groupCount).sorted { cost(groupLists[$0]) < cost(groupLists[$1]) }
        let first = materialize(groupLists[order[0]])
        var candidates = Candidates(docs: first.docs, contributions: [], hotMask: [], asTypedMask: [])
        candidates.contributions = [Double](repeating: 0, count: first.docs.count * groupCount)
        candidates.hotMask = [UInt32](repeating: 0, count: first.docs.count)
        candidates.asTypedMask = [UInt32](repeating: 0, count: first.docs.count)
        for index in first.docs.indices {
            candidates.contributions[index * groupCount + order[0]] = first.scores[index]
            if first.hot[index] { candidates.hotMask[index] = 1 << UInt32(order[0]) }
            if first.asTyped[index] { candidates.asTypedMask[index] = 1 << UInt32(order[0]) }
        }
        for group in order.dropFirst() {
            if candidates.docs.isEmpty { return }
            candidates = intersect(candidates, group: group, lists: groupLists[group], groupCount: groupCount)
        }
        if let excludeGroup {
            let lists = lists(group: excludeGroup, .all)
            if !lists.isEmpty { candidates = exclude(candidates, lists: lists, groupCount: groupCount) }
        }
        let every: UInt32 = groupCount >= 32 ? UInt32.max : (1 << UInt32(groupCount)) - 1
        for index in candidates.docs.indices {
            let ord = Int(candidates.docs[index])
            guard filter.admits(ord) else { continue }
            var text = 0.0
            for group in 0..<groupCount { text += candidates.contributions[index * groupCount + group] }
            visit(ord, text, candidates.hotMask[index] == every, candidates.asTypedMask[index] == every)
        }
    }

    private func intersect(_ candidates: Candidates, group: Int, lists: [List], groupCount: Int) -> Candidates {
        var out = Candidates(docs: [], contributions: [], hotMask: [], asTypedMask: [])
        out.docs.reserveCapacity(candidates.docs.count)
        func keep(_ index: Int, score: Double, hot: Bool, asTyped: Bool) {
            out.docs.append(candidates.docs[index])
            let row = index * groupCount
            out.contributions.append(contentsOf: candidates.contributions[row..<(row + groupCount)])
            out.contributions[out.contributions.count - groupCount + group] = score
            out.hotMask.append(candidates.hotMask[index] | (hot ? 1 << UInt32(group) : 0))
            out.asTypedMask.append(candidates.asTypedMask[index] | (asTyped ? 1 << UInt32(group) : 0))
        }
        let postings = cost(lists)
        if postings <= candidates.docs.count * 4 {
            // Comparable sizes: decode every list of the group once and look each posting up in
            // a dense ordinal → candidate table. Unlike merging the lists into one sorted union
            // first, this never copies postings, whatever the number of prefix completions.
            segment.withScratch { slot in
                for (index, doc) in candidates.docs.enumerated() { slot[Int(doc)] = UInt32(index + 1) }
                var best = [Double](repeating: -1, count: candidates.docs.count)
                var hot = [Bool](repeating: false, count: candidates.docs.count)
                var asTyped = [Bool](repeating: false, count: candidates.docs.count)
                let lengths = segment.fieldLengths.base
                for list in lists {
                    var cursor = PostingCursor(segment: segment, list: list.index)
                    while cursor.doc != UInt32.max {
                        let entry = slot[Int(cursor.doc)]
                        if entry != 0 {
                            let index = Int(entry - 1)
                            best[index] = max(best[index], list.scorer.score(tf: cursor.tf, lengths: lengths[Int(cursor.doc)]))
                            if list.isHot { hot[index] = true }
                            if list.isAsTyped { asTyped[index] = true }
                        }
                        cursor.next()
                    }
                }
                for doc in candidates.docs { slot[Int(doc)] = 0 }
                for index in candidates.docs.indices where best[index] >= 0 {
                    keep(index, score: best[index], hot: hot[index], asTyped: asTyped[index])
                }
            }
        } else {
            // Few candidates against long lists: probe them, skipping whole blocks.
            var cursors = lists.map { PostingCursor(segment: segment, list: $0.index) }
            let lengths = segment.fieldLengths.base
            for index in candidates.docs.indices {
                let doc = candidates.docs[index]
                var best = -1.0
                var hot = false
                var asTyped = false
                for c in cursors.indices {
                    cursors[c].advance(to: doc)
                    if cursors[c].doc == doc {
                        best = max(best, lists[c].scorer.score(tf: cursors[c].tf, lengths: lengths[Int(doc)]))
                        hot = hot || lists[c].isHot
                        asTyped = asTyped || lists[c].isAsTyped
                    }
                }
                if best >= 0 { keep(index, score: best, hot: hot, asTyped: asTyped) }
            }
        }
        return out
    }

    private func exclude(_ candidates: Candidates, lists: [List], groupCount: Int) -> Candidates {
        var out = Candidates(docs: [], contributions: [], hotMask: [], asTypedMask: [])
        var cursors = lists.map { PostingCursor(segment: segment, list: $0.index) }
        for index in candidates.docs.indices {
            let doc = candidates.docs[index]
            var found = false
            for c in cursors.indices {
                cursors[c].advance(to: doc)
                if cursors[c].doc == doc { found = true }
            }
            if !found {
                out.docs.append(doc)
                let row = index * groupCount
                out.contributions.append(contentsOf: candidates.contributions[row..<(row + groupCount)])
                out.hotMask.append(candidates.hotMask[index])
                out.asTypedMask.append(candidates.asTypedMask[index])
            }
        }
        return out
    }

    /// Evaluates a one-word query list by list, best possible score first, skipping every list
    /// whose best possible key cannot beat the current page (MaxScore at list granularity).
    ///
    /// Reads the lists of group 0 that `scan` names and skips documents that a list `skip` names
    /// holds (they ranked in an earlier tier) or that a list of `excludeGroup` holds. `threshold`
    /// returns the key to beat, `popularityBound` the most popularity can add.
    func evaluateSingleGroup(
        scan: ListSelection, skip: ListSelection, excludeGroup: Int?, popularityBound: Double?, threshold: () -> Double?,
        wouldAccept: (Int, Double) -> Bool, visit: (Int, Double) -> Void
    ) {
        if filter.matchesNothing || plan.groups.isEmpty { return }
        let scanned = lists(group: 0, scan).sorted { $0.scorer.scale > $1.scorer.scale }
        let earlierLists = skip.isEmpty ? [] : lists(group: 0, skip)
        let excluded = excludeGroup.map { lists(group: $0, .all) } ?? []
        let lengths = segment.fieldLengths.base
        let ratingShare = configuration.ratingShare
        for list in scanned {
            // BM25's saturation keeps a term's score below idf * multiplier * (k1 + 1).
            if let bound = popularityBound, let needed = threshold(), list.scorer.scale + bound <= needed { break }
            var earlierCursors = earlierLists.map { PostingCursor(segment: segment, list: $0.index) }
            var excludedCursors = excluded.map { PostingCursor(segment: segment, list: $0.index) }
            let count = Int(segment.listCount[list.index])
            let firstBlock = Int(segment.blockStart[list.index])
            let firstSkip = Int(segment.skipStart[list.index])
            for block in 0..<((count + Segment.blockSize - 1) / Segment.blockSize) {
                let entry = firstBlock + block
                if let bound = popularityBound, let needed = threshold() {
                    // Block-max: skip a block whose best text score plus best popularity cannot
                    // beat the page (the margin covers Float rounding of popularity; ties are scanned).
                    let popularity = segment.blockMaxPopularity[entry]
                    let mostPopular = (1 - ratingShare) * Double(popularity >> 8) / 255 + ratingShare * Double(popularity & 0xFF) / 255
                    let most = list.scorer.upperBound(maxFrequencies: segment.blockMaxFrequencies[entry],
                                                      minLengths: segment.blockMinLengths[entry])
                        + bound * mostPopular
                    if most + 1e-6 * (1 + abs(most)) < needed { continue }
                }
                var offset = block == 0 ? Int(segment.listStart[list.index]) : Int(segment.skipEndOffset[firstSkip + block - 1])
                var doc: UInt32 = 0
                for position in 0..<min(Segment.blockSize, count - block * Segment.blockSize) {
                    var delta: UInt32 = 0
                    var shift: UInt32 = 0
                    while true {
                        let byte = segment.postings[offset]
                        offset += 1
                        delta |= UInt32(byte & 0x7F) << shift
                        if byte < 0x80 { break }
                        shift += 7
                    }
                    doc = position == 0 ? delta : doc &+ delta
                    let tf = segment.postings[offset]
                    offset += 1
                    let ord = Int(doc)
                    guard filter.admits(ord) else { continue }
                    let score = list.scorer.score(tf: tf, lengths: lengths[ord])
                    // Whether a better tier already holds the document is asked only of documents
                    // that could enter the page: probing dozens of lists for every posting of a
                    // common word dominated dropped-word tiers. The cursors only move forward, and
                    // skip whole blocks between the rare probes.
                    guard wouldAccept(ord, score) else { continue }
                    var ranked = false
                    for c in earlierCursors.indices {
                        earlierCursors[c].advance(to: doc)
                        if earlierCursors[c].doc == doc { ranked = true }
                    }
                    for c in excludedCursors.indices where !ranked {
                        excludedCursors[c].advance(to: doc)
                        if excludedCursors[c].doc == doc { ranked = true }
                    }
                    if ranked { continue }
                    visit(ord, score)
                }
            }
        }
    }
}
