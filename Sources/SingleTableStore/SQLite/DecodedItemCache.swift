internal import Synchronization

/// Decoded items the readers have seen, so that hot items are not decoded again.
///
/// Every stored item carries a write id that is unique to that write in that database (see
/// `ItemCodec.versionWithWriteID`), so the id names the bytes: a cached item is valid exactly
/// when the row SQLite returns carries the same id. The cache can therefore never serve a stale
/// item, whoever wrote the file, and checking costs one 8-byte comparison. It is
/// set-associative, like a processor cache: an id picks a set of four slots and a new entry
/// replaces the oldest in its set, so lookups and evictions cost O(1). One cache is shared by
/// the store's reader threads; decoding happens outside its lock.
final class DecodedItemCache: Sendable {
    /// Slots in parallel arrays, so a probe reads ids without touching the items.
    private struct State {
        var ids: [UInt64]
        var items: [Item]
        var costs: [Int32]
        var stamps: [UInt64]
        var clock: UInt64 = 0
        /// Estimated bytes held by all entries; never above the budget.
        var bytes = 0

        init(slots: Int) {
            ids = [UInt64](repeating: 0, count: slots)
            items = [Item](repeating: [:], count: slots)
            costs = [Int32](repeating: 0, count: slots)
            stamps = [UInt64](repeating: 0, count: slots)
        }
    }

    private static let ways = 4
    /// Items stored in more bytes than this are decoded every time, so the budget bounds memory.
    static let largestCachedItem = 8 * 1024
    private let state: Mutex<State>
    private let setMask: Int
    private let budget: Int

    /// - Parameter budget: bytes of memory the cache may hold (0 disables it), estimated per
    ///   entry as four times its stored size. There is a slot for every 1 KiB of budget; when
    ///   entries run larger, the byte count stops new entries before the budget is exceeded.
    init(budget: Int) {
        self.budget = budget
        var sets = 1
        while sets * Self.ways * 1024 * 2 <= budget { sets *= 2 }
        setMask = budget > 0 ? sets - 1 : -1
        state = Mutex(State(slots: budget > 0 ? sets * Self.ways : 0))
    }

    /// The item stored as `blob`, from the cache or decoded.
    func item(_ blob: UnsafeRawBufferPointer) throws -> Item {
        guard setMask >= 0, let id = ItemCodec.writeID(of: blob), id != 0 else { return try ItemCodec.decode(blob) }
        // Ids are sequential: a multiplicative hash spreads them over the sets.
        let base = Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> 32) & setMask &* Self.ways
        let hit: Item? = state.withLock { state in
            for slot in base..<base + Self.ways where state.ids[slot] == id {
                state.clock &+= 1
                state.stamps[slot] = state.clock
                return state.items[slot]
            }
            return nil
        }
        if let hit { return hit }

        let item = try ItemCodec.decode(blob)
        guard blob.count <= Self.largestCachedItem else { return item }
        let cost = blob.count * 4 + 64
        state.withLock { state in
            var victim = base
            for slot in base..<base + Self.ways {
                if state.ids[slot] == 0 { victim = slot; break }
                if state.stamps[slot] < state.stamps[victim] { victim = slot }
            }
            let freed = Int(state.costs[victim])
            guard state.bytes - freed + cost <= budget else { return }
            state.bytes += cost - freed
            state.clock &+= 1
            state.ids[victim] = id
            state.items[victim] = item
            state.costs[victim] = Int32(cost)
            state.stamps[victim] = state.clock
        }
        return item
    }
}
