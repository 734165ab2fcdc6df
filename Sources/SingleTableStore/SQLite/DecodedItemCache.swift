internal import Synchronization
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Decoded items the readers have seen, so that hot items are not decoded again.
///
/// Entries are keyed by primary key and checked against the bytes SQLite returns on every
/// hit: a changed item fails the comparison and is decoded afresh, so the cache can never serve
/// a stale item, whoever wrote the file. One cache is shared by the store's reader threads;
/// decoding happens outside its lock.
final class DecodedItemCache: Sendable {
    private struct Entry {
        var bytes: [UInt8]
        var item: Item
    }

    private struct State {
        var entries: [[UInt8]: Entry] = [:]
        var cost = 0
    }

    private let state = Mutex(State())
    private let budget: Int

    /// - Parameter budget: approximate bytes of memory the cache may hold (0 disables it).
    init(budget: Int) {
        self.budget = budget
    }

    /// The item stored as `blob` under `pk`/`sk`, from the cache or decoded.
    func item(pk: UnsafeRawBufferPointer, sk: UnsafeRawBufferPointer, blob: UnsafeRawBufferPointer) throws -> Item {
        guard budget > 0 else { return try ItemCodec.decode(blob) }
        var key = [UInt8]()
        key.reserveCapacity(pk.count + sk.count + 2)
        ItemCodec.writeVarint(UInt64(pk.count), into: &key)
        key.append(contentsOf: pk)
        key.append(contentsOf: sk)
        let hit: Item? = state.withLock { state in
            guard let entry = state.entries[key], entry.bytes.count == blob.count else { return nil }
            let same = entry.bytes.withUnsafeBytes { memcmp($0.baseAddress!, blob.baseAddress!, blob.count) == 0 }
            return same ? entry.item : nil
        }
        if let hit { return hit }

        let item = try ItemCodec.decode(blob)
        let entry = Entry(bytes: Array(blob), item: item)
        let cost = Self.cost(blob.count, key.count)
        state.withLock { state in
            if let old = state.entries.updateValue(entry, forKey: key) {
                state.cost -= Self.cost(old.bytes.count, key.count)
            }
            state.cost += cost
            if state.cost > budget {
                // Keep every other entry: one pass for every half-cache of inserts, so eviction
                // costs O(1) per insert and needs no bookkeeping on hits.
                var keep = false
                state.entries = state.entries.filter { _ in
                    keep.toggle()
                    return keep
                }
                state.cost = state.entries.reduce(0) { $0 + Self.cost($1.value.bytes.count, $1.key.count) }
            }
        }
        return item
    }

    /// Decoded items take about twice their encoded size; the key and bookkeeping add more.
    private static func cost(_ blobCount: Int, _ keyCount: Int) -> Int { blobCount * 3 + keyCount + 96 }
}
