/// A ranked position: lower tier first, then higher key, then smaller id.
struct RankedItem {
    var tier: Int32
    var key: Double
    var segment: Int32
    var ordinal: Int32
}

/// Where the previous page ended.
struct CursorPosition {
    var tier: Int32
    var key: Double
    var id: [UInt8]
}

/// Keeps the best `capacity` items after an optional cursor position, in O(log k) per offer.
struct TopK {
    let capacity: Int
    let after: CursorPosition?
    let segments: [Segment]
    /// A max-heap on "worseness": the root is the worst item kept.
    private(set) var heap: [RankedItem] = []

    init(capacity: Int, after: CursorPosition?, segments: [Segment]) {
        self.capacity = capacity
        self.after = after
        self.segments = segments
        heap.reserveCapacity(capacity)
    }

    var isFull: Bool { heap.count >= capacity }

    @inline(__always)
    private func id(_ item: RankedItem) -> UnsafeBufferPointer<UInt8> {
        segments[Int(item.segment)].id(Int(item.ordinal))
    }

    /// Whether `a` ranks before `b`.
    @inline(__always)
    func precedes(_ a: RankedItem, _ b: RankedItem) -> Bool {
        if a.tier != b.tier { return a.tier < b.tier }
        if a.key != b.key { return a.key > b.key }
        return compareBytes(id(a), id(b)) < 0
    }

    @inline(__always)
    private func isAfterCursor(_ item: RankedItem) -> Bool {
        guard let after else { return true }
        if item.tier != after.tier { return item.tier > after.tier }
        if item.key != after.key { return item.key < after.key }
        return after.id.withUnsafeBufferPointer { compareBytes(id(item), $0) > 0 }
    }

    /// The key an item of `tier` must beat to enter, or nil while there is room. Infinity when
    /// the worst kept item is in a better tier (nothing of this tier can enter).
    func threshold(tier: Int32) -> Double? {
        guard isFull, let worst = heap.first else { return nil }
        if worst.tier < tier { return .infinity }
        if worst.tier > tier { return nil }
        return worst.key
    }

    /// Whether `item` would be kept if offered now (it is after the cursor and the page has
    /// room or it beats the worst kept item).
    func wouldAccept(_ item: RankedItem) -> Bool {
        isAfterCursor(item) && (heap.count < capacity || (capacity > 0 && precedes(item, heap[0])))
    }

    /// Offers an item; a document offered again keeps its better ranking (a word group can reach
    /// one document through several expansions).
    mutating func offer(_ item: RankedItem) {
        guard isAfterCursor(item) else { return }
        let accepted = heap.count < capacity || (capacity > 0 && precedes(item, heap[0]))
        guard accepted else { return }
        if let existing = heap.firstIndex(where: { $0.segment == item.segment && $0.ordinal == item.ordinal }) {
            if precedes(item, heap[existing]) {
                heap[existing] = item
                rebuild()
            }
            return
        }
        if heap.count < capacity {
            insert(item)
        } else if capacity > 0 && precedes(item, heap[0]) {
            heap[0] = item
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var worst = parent
                if left < heap.count && precedes(heap[worst], heap[left]) { worst = left }
                if right < heap.count && precedes(heap[worst], heap[right]) { worst = right }
                if worst == parent { break }
                heap.swapAt(parent, worst)
                parent = worst
            }
        }
    }

    private mutating func rebuild() {
        let items = heap
        heap.removeAll(keepingCapacity: true)
        for item in items { insert(item) }
    }

    private mutating func insert(_ item: RankedItem) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if precedes(heap[parent], heap[child]) {
                heap.swapAt(parent, child)
                child = parent
            } else { break }
        }
    }

    /// The kept items, best first.
    func sorted() -> [RankedItem] { heap.sorted { precedes($0, $1) } }
}
