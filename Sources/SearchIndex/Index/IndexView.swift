/// A fixed set of deleted ordinals for one segment.
struct Bitset: Sendable, Hashable {
    private(set) var words: [UInt64]
    private(set) var count = 0

    init(capacity: Int) { words = [UInt64](repeating: 0, count: (capacity + 63) / 64) }
    init(words: [UInt64]) {
        self.words = words
        count = words.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    @inline(__always)
    func contains(_ index: Int) -> Bool { words[index >> 6] & (1 << UInt64(index & 63)) != 0 }

    mutating func insert(_ index: Int) {
        let mask: UInt64 = 1 << UInt64(index & 63)
        if words[index >> 6] & mask == 0 {
            words[index >> 6] |= mask
            count += 1
        }
    }
}

/// What readers search: immutable segments and their tombstones at one moment.
///
/// A writer publishes a new view after each batch of changes; a search holds on to the view it
/// started with, so it never sees a half-applied batch and never blocks the writer.
final class IndexView: Sendable {
    let segments: [Segment]
    let deleted: [Bitset]
    let liveCount: Int
    /// Average token count of title, tags and description over all stored documents.
    let averageLengths: [Double]

    /// The change-feed position the view reflects, if its writer tracked one.
    let feedPosition: String?

    init(segments: [Segment], deleted: [Bitset], feedPosition: String?) {
        self.segments = segments
        self.deleted = deleted
        self.feedPosition = feedPosition
        var live = 0
        var docs = 0
        var totals = [0, 0, 0]
        for (segment, dead) in zip(segments, deleted) {
            live += segment.docCount - dead.count
            docs += segment.docCount
            for field in 0..<3 { totals[field] += segment.fieldLengthTotals[field] }
        }
        liveCount = live
        averageLengths = totals.map { docs > 0 ? max(1, Double($0) / Double(docs)) : 1 }
    }

    /// Where a document id lives, if it is live.
    func locate(_ id: String) -> (segment: Int, ordinal: Int)? {
        var id = id
        return id.withUTF8 { key in
            for index in segments.indices.reversed() {
                if let ord = segments[index].ordinal(of: key), !deleted[index].contains(ord) {
                    return (index, ord)
                }
            }
            return nil
        }
    }
}
