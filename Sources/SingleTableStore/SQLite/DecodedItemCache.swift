/// Decoded items a reader thread has seen, so that hot items are not decoded again.
///
/// Entries are keyed by primary key and checked against the bytes SQLite returns on every
/// hit: a changed item fails the comparison and is decoded afresh, so the cache can never serve
/// a stale item, whoever wrote the file. Each reader thread owns one cache; no locking.
final class DecodedItemCache {
    private struct Entry {
        var bytes: [UInt8]
        var item: Item
    }

    private var entries: [[UInt8]: Entry] = [:]
    private var cost = 0
    private let budget: Int

    /// - Parameter budget: approximate bytes of memory the cache may hold (0 disables it).
    init(budget: Int) {
        self.budget = budget
    }

    /// The item stored as `blob` under `pk`/`sk`, decoded or from the cache.
    func item(pk: UnsafeRawBufferPointer, sk: UnsafeRawBufferPointer, blob: UnsafeRawBufferPointer) throws -> Item {
        guard budget > 0 else { return try ItemCodec.decode(blob) }
        var key = [UInt8]()
        key.reserveCapacity(pk.count + sk.count + 2)
        ItemCodec.writeVarint(UInt64(pk.count), into: &key)
        key.append(contentsOf: pk)
        key.append(contentsOf: sk)
        if let entry = entries[key], entry.bytes.elementsEqual(blob) {
            return entry.item
        }
        let item = try ItemCodec.decode(blob)
        let entryCost = Self.cost(blob.count, key.count)
        if let old = entries.updateValue(Entry(bytes: Array(blob), item: item), forKey: key) {
            cost -= Self.cost(old.bytes.count, key.count)
        }
        cost += entryCost
        if cost > budget { evict() }
        return item
    }

    /// Decoded items take about twice their encoded size; the key and bookkeeping add more.
    private static func cost(_ blobCount: Int, _ keyCount: Int) -> Int { blobCount * 3 + keyCount + 96 }

    /// Drops entries in hash order (effectively at random) until a quarter of the budget is free.
    private func evict() {
        while cost > budget * 3 / 4, let victim = entries.first {
            entries.removeValue(forKey: victim.key)
            cost -= Self.cost(victim.value.bytes.count, victim.key.count)
        }
    }
}
