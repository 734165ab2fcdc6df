/// Decoded items the readers have seen, so that hot items are not decoded again.
///
/// Every stored item carries a write id that is unique to that write in that database (see
/// `ItemCodec.versionWithWriteID`), so the id names the bytes: a cached item is valid exactly
/// when the row SQLite returns carries the same id. The cache can therefore never serve a stale
/// item, whoever wrote the file, and checking costs one 8-byte comparison. It is
/// set-associative, like a processor cache: an id picks a set of four slots and a new entry
/// takes an empty slot or replaces one at random, so lookups and evictions cost O(1). Each
/// reader thread owns its cache, so a lookup takes no lock.
final class DecodedItemCache {
    /// An id and its item side by side, so a probe touches one cache line per set, not two
    /// arrays; the costs are apart because only inserts read them.
    private struct Slot {
        var id: UInt64 = 0
        var item: Item = [:]
    }

    private struct State {
        var slots: [Slot]
        var costs: [Int32]
        /// Estimated bytes held by all entries; never above the budget.
        var bytes = 0

        init(slots count: Int) {
            slots = [Slot](repeating: Slot(), count: count)
            costs = [Int32](repeating: 0, count: count)
        }
    }

    private static let ways = 4
    /// Items stored in more bytes than this are decoded every time, so the budget bounds memory.
    static let largestCachedItem = 8 * 1024
    private var state: State
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
        state = State(slots: budget > 0 ? sets * Self.ways : 0)
    }

    /// The item stored as `blob`, from the cache or decoded.
    func item(_ blob: UnsafeRawBufferPointer) throws -> Item {
        guard setMask >= 0, let id = ItemCodec.writeID(of: blob), id != 0 else { return try ItemCodec.decode(blob) }
        // Ids are sequential: a multiplicative hash spreads them over the sets.
        let mixed = id &* 0x9E37_79B9_7F4A_7C15
        let base = Int(truncatingIfNeeded: mixed >> 32) & setMask &* Self.ways
        for slot in base..<base + Self.ways where state.slots[slot].id == id {
            return state.slots[slot].item
        }

        let item = try ItemCodec.decode(blob)
        guard blob.count <= Self.largestCachedItem else { return item }
        let cost = blob.count * 4 + 64
        // An empty slot of the set, else one picked by the id's hash: random replacement needs
        // no bookkeeping on hits, and hits are what this cache is for.
        var victim = base + Int(truncatingIfNeeded: mixed >> 20) & (Self.ways - 1)
        for slot in base..<base + Self.ways where state.slots[slot].id == 0 {
            victim = slot
            break
        }
        let freed = Int(state.costs[victim])
        guard state.bytes - freed + cost <= budget else { return item }
        state.bytes += cost - freed
        state.slots[victim] = Slot(id: id, item: item)
        state.costs[victim] = Int32(cost)
        return item
    }
}
