internal import Synchronization
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Decoded items the readers have seen, so that hot items are not decoded again.
///
/// Entries are keyed by primary key and checked against the bytes SQLite returns on every hit:
/// a changed item fails the comparison and is decoded afresh, so the cache can never serve a
/// stale item, whoever wrote the file. It is set-associative, like a processor cache: a key's
/// hash picks a set of four slots, and a new entry replaces the oldest in its set, so lookups
/// and evictions cost O(1) and allocate nothing. One cache is shared by the store's reader
/// threads; decoding happens outside its lock.
final class DecodedItemCache: Sendable {
    private struct Entry {
        var hash: UInt64
        var key: [UInt8]
        var bytes: [UInt8]
        var item: Item
        var stamp: UInt64
    }

    private struct State {
        var slots: [Entry?]
        var clock: UInt64 = 0
        /// Estimated bytes held by all entries; never above the budget.
        var bytes = 0
    }

    private static let ways = 4
    /// Items stored in more bytes than this are decoded every time.
    static let largestCachedItem = 8 * 1024
    private let state: Mutex<State>
    private let setMask: Int
    private let budget: Int

    /// - Parameter budget: bytes of memory the cache may hold (0 disables it), estimated per
    ///   entry as its key, its stored bytes and three times that for the decoded item. There is
    ///   a slot for every 2 KiB of budget; when entries run larger, the byte count stops new
    ///   entries before the budget is exceeded.
    init(budget: Int) {
        self.budget = budget
        var sets = 1
        while sets * Self.ways * 2048 * 2 <= budget { sets *= 2 }
        setMask = budget > 0 ? sets - 1 : -1
        state = Mutex(State(slots: budget > 0 ? [Entry?](repeating: nil, count: sets * Self.ways) : []))
    }

    /// The item stored as `blob` under `pk`/`sk`, from the cache or decoded.
    func item(pk: UnsafeRawBufferPointer, sk: UnsafeRawBufferPointer, blob: UnsafeRawBufferPointer) throws -> Item {
        guard setMask >= 0 else { return try ItemCodec.decode(blob) }
        let hash = Self.hash(pk, sk)
        let base = Int(truncatingIfNeeded: hash) & setMask &* Self.ways
        let hit: Item? = state.withLock { state in
            for slot in base..<base + Self.ways {
                guard let entry = state.slots[slot], entry.hash == hash,
                      Self.sameKey(entry.key, pk, sk), Self.same(entry.bytes, blob) else { continue }
                state.clock &+= 1
                state.slots[slot]!.stamp = state.clock
                return entry.item
            }
            return nil
        }
        if let hit { return hit }

        let item = try ItemCodec.decode(blob)
        // The budget counts entries, so large items stay out: 16,384 entries of 400 KB would be 6 GB.
        guard blob.count <= Self.largestCachedItem else { return item }
        var key = [UInt8](pk)
        key.append(contentsOf: sk)
        var entry = Entry(hash: hash, key: key, bytes: Array(blob), item: item, stamp: 0)
        let cost = Self.cost(entry)
        state.withLock { state in
            state.clock &+= 1
            entry.stamp = state.clock
            // Replace this key's old entry if present, else an empty slot, else the oldest.
            var victim = base
            for slot in base..<base + Self.ways {
                guard let existing = state.slots[slot] else { victim = slot; break }
                if existing.hash == hash && Self.sameKey(existing.key, pk, sk) { victim = slot; break }
                if existing.stamp < state.slots[victim]!.stamp { victim = slot }
            }
            let freed = state.slots[victim].map(Self.cost) ?? 0
            guard state.bytes - freed + cost <= budget else { return }
            state.bytes += cost - freed
            state.slots[victim] = entry
        }
        return item
    }

    private static func cost(_ entry: Entry) -> Int { entry.key.count + entry.bytes.count * 4 + 128 }

    /// FNV-1a over the key's bytes, with the partition key's length mixed in so that
    /// ("ab", "c") and ("a", "bc") differ.
    private static func hash(_ pk: UnsafeRawBufferPointer, _ sk: UnsafeRawBufferPointer) -> UInt64 {
        var hash = FNV1a()
        hash.combine(UInt64(pk.count))
        hash.combine(pk)
        hash.combine(sk)
        return hash.value
    }

    private static func sameKey(_ key: [UInt8], _ pk: UnsafeRawBufferPointer, _ sk: UnsafeRawBufferPointer) -> Bool {
        guard key.count == pk.count + sk.count else { return false }
        return key.withUnsafeBytes { stored in
            (pk.isEmpty || memcmp(stored.baseAddress!, pk.baseAddress!, pk.count) == 0)
                && (sk.isEmpty || memcmp(stored.baseAddress! + pk.count, sk.baseAddress!, sk.count) == 0)
        }
    }

    private static func same(_ bytes: [UInt8], _ blob: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == blob.count else { return false }
        guard !blob.isEmpty else { return true }
        return bytes.withUnsafeBytes { memcmp($0.baseAddress!, blob.baseAddress!, blob.count) == 0 }
    }
}
