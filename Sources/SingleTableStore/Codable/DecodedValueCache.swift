internal import Synchronization

/// Values decoded from items, remembered by the items they came from, so that a hot item (a
/// video everyone is opening) is not decoded on every read.
///
/// Decoding is a pure function of the item, so a remembered value is right exactly when the item
/// read now equals the one it was decoded from: the cache can never answer a stale value, whoever
/// changed the item, and needs no invalidation. The check is cheap where it matters: an item the
/// store serves from its own decoded-item cache shares that entry's storage, and comparing two
/// dictionaries that share storage is a pointer comparison; any other item is compared by value
/// (still cheaper than decoding it again).
///
/// The cache is direct-mapped: `key` picks one slot, and a new value replaces what the slot held.
///
/// Thread safety: any number of tasks may use one cache; a lookup holds a lock only to copy a slot.
public final class DecodedValueCache<Value: Decodable & Sendable>: Sendable {
    private struct Entry: Sendable {
        var item: Item
        var value: Value
    }

    private let slots: Mutex<[Entry?]>
    private let mask: Int
    private let decoder = ItemDecoder()

    /// - Parameter capacity: how many values to keep (rounded up to a power of two); 0 keeps none.
    public init(capacity: Int = 1024) {
        var count = 1
        while count < capacity { count <<= 1 }
        mask = capacity > 0 ? count - 1 : -1
        slots = Mutex([Entry?](repeating: nil, count: capacity > 0 ? count : 0))
    }

    /// The value `item` decodes to, remembered or decoded (what `ItemDecoder` throws otherwise).
    ///
    /// - Parameter key: what identifies the item (its primary key, an id), to pick its slot.
    public func decode(_ item: Item, key: some Hashable) throws -> Value {
        guard mask >= 0 else { return try decoder.decode(Value.self, from: item) }
        let slot = key.hashValue & mask
        if let entry = slots.withLock({ $0[slot] }), entry.item == item {
            return entry.value
        }
        let value = try decoder.decode(Value.self, from: item)
        slots.withLock { $0[slot] = Entry(item: item, value: value) }
        return value
    }
}
