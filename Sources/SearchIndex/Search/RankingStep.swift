/// One pass of a query's evaluation: which words must match, through which lists, and the tier
/// each document it finds goes to.
///
/// The tiers, best first (``SearchHit/tier``): 0 every word as typed in the title or tags; 1
/// every word as typed, some only in the description; 2 and 3 the same when some word matched
/// only through a typo variant, so a document that needs a correction never outranks one that
/// matches as typed; 4 and up the leading words with the next one missing. Steps run in order and
/// each leaves out the documents of earlier tiers, so no document is ranked twice.
struct RankingStep {
    enum Kind {
        case asTypedInTitle
        case asTypedAnywhere
        case corrected
        /// The first `groupCount - dropped` words match and the next one does not.
        case dropped(Int)
        /// Sorts other than relevance: every word through any list, one tier.
        case unranked
    }

    let kind: Kind
    /// How many leading word groups must match.
    let used: Int
    /// The group whose documents are left out (they matched more words).
    let excluded: Int?

    /// The lists the step reads.
    var selection: ListSelection {
        switch kind {
        case .asTypedInTitle: .hotAsTyped
        case .asTypedAnywhere: .asTyped
        case .corrected, .dropped, .unranked: .all
        }
    }

    /// The worst tier the step can give.
    var lastTier: Int {
        switch kind {
        case .asTypedInTitle, .unranked: 0
        case .asTypedAnywhere: 1
        case .corrected: 3
        case .dropped(let dropped): 3 + dropped
        }
    }

    /// The tier of a document the step found (every group matched in a hot list / as typed), or
    /// nil when an earlier step ranked it.
    func tier(allHot: Bool, allAsTyped: Bool) -> Int? {
        switch kind {
        case .asTypedInTitle, .unranked: 0
        case .asTypedAnywhere: allHot ? nil : 1
        case .corrected: allAsTyped ? nil : (allHot ? 2 : 3)
        case .dropped(let dropped): 3 + dropped
        }
    }

    /// The same step for a single word group, as list scans in tier order: the lists read and the
    /// lists whose documents earlier tiers hold.
    var singleGroupScans: [(tier: Int, lists: ListSelection, skip: ListSelection)] {
        switch kind {
        case .asTypedInTitle: [(0, .hotAsTyped, [])]
        case .asTypedAnywhere: [(1, .coldAsTyped, .hotAsTyped)]
        case .corrected: [(2, .hotTypos, .asTyped), (3, .coldTypos, [.asTyped, .hotTypos])]
        case .dropped(let dropped): [(3 + dropped, .all, [])]
        case .unranked: [(0, .all, [])]
        }
    }

    /// The steps of a query of `groupCount` words; `corrections` when some word has typo variants.
    static func steps(groupCount: Int, sort: SearchSort, corrections: Bool) -> [RankingStep] {
        guard sort == .relevance else { return [RankingStep(kind: .unranked, used: groupCount, excluded: nil)] }
        var steps = [
            RankingStep(kind: .asTypedInTitle, used: groupCount, excluded: nil),
            RankingStep(kind: .asTypedAnywhere, used: groupCount, excluded: nil),
        ]
        if corrections { steps.append(RankingStep(kind: .corrected, used: groupCount, excluded: nil)) }
        for dropped in stride(from: 1, to: groupCount, by: 1) {
            steps.append(RankingStep(kind: .dropped(dropped), used: groupCount - dropped, excluded: groupCount - dropped))
        }
        return steps
    }
}
