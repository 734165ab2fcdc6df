internal import Foundation
public import Logging
internal import Synchronization
internal import VideoCore

/// An embedded, typo-tolerant, search-as-you-type full-text index of videos.
///
/// ```swift
/// let index = SearchIndex(logger: logger)
/// try index.apply([.upsert(SearchDocument(id: "v1", title: "Café au lait", views: 120))])
/// let page = try index.search(SearchQuery("cafe"))
/// print(page.hits.first?.title.marked(open: "<em>", close: "</em>"))  // <em>Café</em> au lait
/// ```
///
/// Structure: a list of immutable segments (see the module docs) plus a tombstone bitmap per
/// segment. Each ``apply(_:feedPosition:)`` turns its upserts into one new small segment and marks replaced
/// or deleted documents in the tombstones, then publishes a new read view. Small segments merge
/// as they pile up (the newest two merge while the newer holds at least 1/``SearchIndexConfiguration/mergeFactor``
/// of the older's live documents), so the count stays logarithmic and merged segments drop deleted documents.
///
/// Thread safety: every method may be called from any thread. Searches read the last published
/// view without waiting for writers; writers are serialized by a lock. A batch becomes visible
/// to searches atomically when `apply` returns.
///
/// Logging: bulk builds, rebuilds and snapshots are logged at `info` with their sizes and times,
/// merges at `debug`; searches and single batches are not logged.
public final class SearchIndex: Sendable {
    /// Ranking and matching settings; fixed for the life of the index.
    public let configuration: SearchIndexConfiguration
    /// Where the index reports bulk builds, merges and snapshots.
    public let logger: Logger
    private let published: Mutex<IndexView>
    private let writer: Mutex<WriterState>

    private struct WriterState: ~Copyable {
        var segments: [Segment]
        var deleted: [Bitset]
        var feedPosition: String?
    }

    /// Makes an empty index that logs to `logger`.
    public convenience init(configuration: SearchIndexConfiguration = SearchIndexConfiguration(), logger: Logger) {
        self.init(configuration: configuration, logger: logger, segments: [], deleted: [], feedPosition: nil)
    }

    init(configuration: SearchIndexConfiguration, logger: Logger, segments: [Segment], deleted: [Bitset], feedPosition: String?) {
        self.configuration = configuration
        self.logger = logger
        published = Mutex(IndexView(segments: segments, deleted: deleted, feedPosition: feedPosition))
        writer = Mutex(WriterState(segments: segments, deleted: deleted, feedPosition: feedPosition))
    }

    var currentView: IndexView { published.withLock { $0 } }

    /// The position in the store's change feed that the index reflects, as recorded by the last
    /// ``apply(_:feedPosition:)`` that passed one (``SearchFeedFollower`` does). Saved in
    /// snapshots, so a loaded index resumes following exactly where its contents end.
    public var feedPosition: String? { currentView.feedPosition }

    /// The number of live documents.
    public var count: Int { currentView.liveCount }

    /// The stored document with this id, if it is indexed.
    public func document(id: String) -> SearchDocument? {
        let view = currentView
        guard let (segment, ord) = view.locate(id) else { return nil }
        return view.segments[segment].document(ord)
    }

    /// Sizes of the index, for monitoring.
    public struct Statistics: Sendable, Hashable {
        /// Live documents.
        public var documents: Int
        /// Deleted documents still held until their segment merges.
        public var deletedDocuments: Int
        /// Segments in the current view.
        public var segments: Int
        /// Bytes of memory held by the segments' columns (stored text, doc values, dictionary, postings).
        public var memoryBytes: Int
        /// Distinct terms summed over segments.
        public var terms: Int
    }

    /// Current sizes.
    public var statistics: Statistics {
        let view = currentView
        return Statistics(
            documents: view.liveCount, deletedDocuments: view.deleted.reduce(0) { $0 + $1.count },
            segments: view.segments.count, memoryBytes: view.segments.reduce(0) { $0 + $1.byteCount },
            terms: view.segments.reduce(0) { $0 + $1.termCount })
    }

    // MARK: Writing

    /// Applies changes in order as one batch, visible to searches atomically when this returns.
    ///
    /// `feedPosition`, when given, is recorded with the batch (see ``feedPosition``).
    /// Throws `VideoCore/VideoStackError/Code/invalidInput` for an id that is empty or longer than
    /// 256 bytes; then nothing of the batch is applied.
    public func apply(_ changes: [SearchChange], feedPosition: String? = nil) throws {
        var latest: [String: Int] = [:]  // id → index of its last change
        for (index, change) in changes.enumerated() {
            switch change {
            case .upsert(let document): latest[document.id] = index
            case .delete(let id): latest[id] = index
            }
        }
        var builder = SegmentBuilder()
        for (index, change) in changes.enumerated() {
            if case .upsert(let document) = change, latest[document.id] == index {
                try builder.add(document)
            }
        }
        let newSegment = builder.count > 0 ? try builder.finish() : nil
        try commit(newSegment: newSegment, removing: Array(latest.keys), feedPosition: feedPosition)
    }

    /// Adds or replaces documents.
    public func upsert(_ documents: [SearchDocument]) throws {
        try apply(documents.map { .upsert($0) })
    }

    /// Removes documents; unknown ids are ignored.
    public func delete(ids: [String]) throws {
        try apply(ids.map { .delete(id: $0) })
    }

    /// Adds a large sequence of documents as one segment, streaming, without holding them all.
    ///
    /// The fast path for an initial build or a rebuild from the store (a million video documents
    /// in about 20 s on one core, peak memory under 1 GiB). Later documents with an id seen earlier (in the sequence or the index) replace
    /// the earlier ones. Throws like ``apply(_:feedPosition:)``; on error nothing is applied.
    public func add<S: Sequence>(contentsOf documents: S) throws where S.Element == SearchDocument {
        let started = ContinuousClock.now
        var builder = SegmentBuilder()
        for document in documents { try builder.add(document) }
        guard builder.count > 0 else { return }
        let segment = try builder.finish()
        try commit(newSegment: segment, removing: [], alsoRemovingIDsOf: segment)
        logger.info("search index: added documents in bulk", metadata: [
            "documents": "\(segment.docCount)", "terms": "\(segment.termCount)", "bytes": "\(segment.byteCount)",
            "duration": "\(ContinuousClock.now - started)", "live": "\(count)",
        ])
    }

    /// Replaces everything in the index with `documents`, atomically for searches.
    ///
    /// For rebuilding from the store. Later duplicates of an id win. Throws like ``apply(_:feedPosition:)``;
    /// on error the index is unchanged.
    public func replaceAll<S: Sequence>(with documents: S, feedPosition: String? = nil) throws where S.Element == SearchDocument {
        let started = ContinuousClock.now
        var builder = SegmentBuilder()
        for document in documents { try builder.add(document) }
        let segment = builder.count > 0 ? try builder.finish() : nil
        writer.withLock { state in
            state.segments = []
            state.deleted = []
            state.feedPosition = feedPosition
            if let segment {
                state.segments = [segment]
                var dead = Bitset(capacity: segment.docCount)
                for ord in segment.shadowedOrdinals { dead.insert(ord) }
                state.deleted = [dead]
            }
            let view = IndexView(segments: state.segments, deleted: state.deleted, feedPosition: state.feedPosition)
            published.withLock { $0 = view }
        }
        logger.info("search index: replaced all documents", metadata: [
            "documents": "\(count)", "bytes": "\(segment?.byteCount ?? 0)", "duration": "\(ContinuousClock.now - started)",
            "feedPosition": "\(feedPosition ?? "none")",
        ])
    }

    private func commit(newSegment: Segment?, removing ids: [String], alsoRemovingIDsOf added: Segment? = nil, feedPosition: String? = nil) throws {
        try writer.withLock { state in
            if let feedPosition { state.feedPosition = feedPosition }
            func tombstone(_ key: UnsafeBufferPointer<UInt8>) {
                for index in state.segments.indices {
                    if let ord = state.segments[index].ordinal(of: key) { state.deleted[index].insert(ord) }
                }
            }
            for id in ids {
                var id = id
                id.withUTF8 { tombstone($0) }
            }
            if let added, !state.segments.isEmpty {
                for ord in 0..<added.docCount { tombstone(added.id(ord)) }
            }
            if let newSegment {
                state.segments.append(newSegment)
                var dead = Bitset(capacity: newSegment.docCount)
                for ord in newSegment.shadowedOrdinals { dead.insert(ord) }
                state.deleted.append(dead)
            }
            try mergeIfNeeded(&state)
            let view = IndexView(segments: state.segments, deleted: state.deleted, feedPosition: state.feedPosition)
            published.withLock { $0 = view }
        }
    }

    private func mergeIfNeeded(_ state: inout WriterState) throws {
        // Drop segments with nothing live.
        var index = 0
        while index < state.segments.count {
            if state.deleted[index].count == state.segments[index].docCount {
                state.segments.remove(at: index)
                state.deleted.remove(at: index)
            } else {
                index += 1
            }
        }
        let factor = max(1, configuration.mergeFactor)
        while state.segments.count >= 2 {
            let n = state.segments.count
            let older = state.segments[n - 2].docCount - state.deleted[n - 2].count
            let newer = state.segments[n - 1].docCount - state.deleted[n - 1].count
            guard newer * factor >= older || n > 24 else { break }
            var builder = SegmentBuilder()
            for position in (n - 2)..<n {
                let segment = state.segments[position]
                for ord in 0..<segment.docCount where !state.deleted[position].contains(ord) {
                    try builder.add(segment.document(ord))
                }
            }
            state.segments.removeLast(2)
            state.deleted.removeLast(2)
            if builder.count > 0 {
                let merged = try builder.finish()
                state.segments.append(merged)
                state.deleted.append(Bitset(capacity: merged.docCount))
                logger.debug("search index: merged the two newest segments", metadata: [
                    "documents": "\(merged.docCount)", "segments": "\(state.segments.count)",
                ])
            }
        }
    }

    // MARK: Searching

    /// Runs a query against the latest published view.
    ///
    /// Words must all match (in any field); the last word also matches as a prefix. A word that
    /// no document contains may be corrected with one typo from 4 characters, a word that some
    /// document contains from 5, and any word with two from 9 (see
    /// ``SearchIndexConfiguration/minLengthForOneTypo``). Ranking tiers: all words as typed in
    /// title or tags, then anywhere, then all words with some corrected (title or tags, then
    /// anywhere), then with trailing words dropped; within a tier by BM25F plus popularity (or by
    /// the requested sort). So a document matching as typed always ranks above one that needs a
    /// correction.
    ///
    /// Errors: `VideoCore/VideoStackError/Code/limitExceeded` for text over
    /// ``SearchQuery/maxTextBytes`` bytes, `VideoCore/VideoStackError/Code/invalidInput` for a limit
    /// outside 1...``SearchQuery/maxLimit`` or an inverted range, and
    /// `VideoCore/VideoStackError/Code/invalidCursor` for a cursor of another query.
    /// Text of only punctuation or control characters returns no hits.
    public func search(_ query: SearchQuery) throws -> SearchResults {
        guard query.text.utf8.count <= SearchQuery.maxTextBytes else {
            throw VideoStackError(.limitExceeded, "A search query may be at most \(SearchQuery.maxTextBytes) bytes of UTF-8; got \(query.text.utf8.count). Shorten the text.")
        }
        guard (1...SearchQuery.maxLimit).contains(query.limit) else {
            throw VideoStackError(.invalidInput, "A search limit must be from 1 to \(SearchQuery.maxLimit); got \(query.limit).")
        }
        let view = currentView
        let fingerprint = SearchCursor.fingerprint(of: query)
        var plan: QueryPlan
        var after: CursorPosition? = nil
        if let text = query.cursor {
            let cursor = try SearchCursor(decoding: text)
            guard cursor.fingerprint == fingerprint else {
                throw VideoStackError(.invalidCursor, "This cursor belongs to a different query (text, sort or filter changed); start again without a cursor.")
            }
            plan = cursor.plan
            after = cursor.position
        } else {
            // Typo variants are looked for only when too few documents match the words as typed
            // (as Typesense does), or when a word is in no document and the words as typed do not
            // fill the page: they cost a dictionary walk per word, and rank below every document
            // that matches as typed, so a full page of those cannot change.
            plan = QueryPlan(text: query.text, view: view, configuration: configuration, typos: false)
        }
        if plan.noSearchableTerms { return SearchResults(hits: []) }
        var (top, strongMatches) = evaluate(plan: plan, query: query, view: view, after: after)
        if query.cursor == nil && plan.hasTypoCandidates
            && (strongMatches < configuration.typoThreshold || (plan.hasOutOfVocabularyWord && strongMatches <= query.limit)) {
            plan = QueryPlan(text: query.text, view: view, configuration: configuration, typos: true)
            (top, strongMatches) = evaluate(plan: plan, query: query, view: view, after: after)
        }

        let ranked = top.sorted()
        let page = ranked.prefix(query.limit)
        var hits: [SearchHit] = []
        hits.reserveCapacity(page.count)
        let highlighter = query.highlights ? Highlighter(plan: plan) : nil
        for item in page {
            let segment = view.segments[Int(item.segment)]
            let document = segment.document(Int(item.ordinal))
            hits.append(SearchHit(
                document: document, score: item.key, tier: Int(item.tier),
                title: highlighter?.highlight(document.title), description: highlighter?.highlight(document.description)))
        }
        var next: String? = nil
        if ranked.count > query.limit, let last = page.last {
            let id = Array(view.segments[Int(last.segment)].id(Int(last.ordinal)))
            next = SearchCursor(fingerprint: fingerprint, position: CursorPosition(tier: last.tier, key: last.key, id: id), plan: plan).encoded()
        }
        return SearchResults(hits: hits, nextCursor: next, highlighter: highlighter)
    }
}

extension SearchIndex {
    /// Ranks the documents of `view` for `plan`; returns the best `limit + 1` after `after` and
    /// how many documents matched every word (tiers 0 and 1).
    func evaluate(plan: QueryPlan, query: SearchQuery, view: IndexView, after: CursorPosition?) -> (TopK, Int) {
        var top = TopK(capacity: query.limit + 1, after: after, segments: view.segments)
        var strongMatches = 0
        let filters = view.segments.indices.map {
            SegmentFilter(query.filter, segment: view.segments[$0], deleted: view.deleted[$0])
        }
        let popularity = configuration.popularityWeight
        let ratingShare = Float(configuration.ratingShare)
        func key(_ segment: Segment, _ ord: Int, text: Double) -> Double {
            switch query.sort {
            case .relevance:
                let p = (1 - ratingShare) * segment.viewsScore[ord] + ratingShare * segment.ratingScore[ord]
                return text + popularity * Double(p)
            case .newest: return Double(segment.uploadedAt[ord]) / 1000
            case .mostViewed: return Double(segment.views[ord])
            case .topRated: return Double(segment.ratingScore[ord]) * 4 + 1
            }
        }
        let groupCount = plan.groups.count
        if groupCount == 0 {
            for (s, segment) in view.segments.enumerated() where !filters[s].matchesNothing {
                for ord in 0..<segment.docCount where filters[s].admits(ord) {
                    top.offer(RankedItem(tier: 0, key: key(segment, ord, text: 0), segment: Int32(s), ordinal: Int32(ord)))
                }
            }
            return (top, 0)
        }
        let singleGroupPath = query.sort == .relevance && popularity.isFinite
        for step in RankingStep.steps(groupCount: groupCount, sort: query.sort, corrections: plan.hasTypoExpansions) {
            if let after, step.lastTier < Int(after.tier) { continue }
            for (s, segment) in view.segments.enumerated() {
                let evaluator = SegmentEvaluator(segment: segment, filter: filters[s], plan: plan, configuration: configuration)
                func item(_ tier: Int, _ ord: Int, _ text: Double) -> RankedItem {
                    RankedItem(tier: Int32(tier), key: key(segment, ord, text: text), segment: Int32(s), ordinal: Int32(ord))
                }
                if step.used == 1 && singleGroupPath {
                    for scan in step.singleGroupScans {
                        evaluator.evaluateSingleGroup(
                            scan: scan.lists, skip: scan.skip, excludeGroup: step.excluded, popularityBound: max(0, popularity),
                            threshold: { top.threshold(tier: Int32(scan.tier)) },
                            wouldAccept: { ord, text in top.wouldAccept(item(scan.tier, ord, text)) }
                        ) { ord, text in
                            if scan.tier <= 1 { strongMatches += 1 }
                            top.offer(item(scan.tier, ord, text))
                        }
                    }
                    continue
                }
                evaluator.evaluate(groupCount: step.used, selection: step.selection, excludeGroup: step.excluded) { ord, text, allHot, allAsTyped in
                    guard let tier = step.tier(allHot: allHot, allAsTyped: allAsTyped) else { return }  // ranked in an earlier step
                    if tier <= 1 { strongMatches += 1 }
                    top.offer(item(tier, ord, text))
                }
            }
            if top.isFull { break }
        }
        return (top, strongMatches)
    }
}
