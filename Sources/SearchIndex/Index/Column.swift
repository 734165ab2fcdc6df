internal import Foundation

/// An immutable, heap-allocated array of plain values that hot loops read through a raw pointer.
///
/// Swift arrays would do, but reading them from tight decoding loops costs bounds and uniqueness
/// checks, and their storage may not be held by pointer outside a closure. A column owns its
/// memory for its whole life and never changes after `init`.
final class Column<Element: BitwiseCopyable>: @unchecked Sendable {
    // @unchecked: the memory is written only in `init` and freed only in `deinit`; in between it
    // is read-only, so sharing it across threads is safe.
    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(_ array: [Element]) {
        count = array.count
        base = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
        array.withUnsafeBufferPointer { source in
            if let address = source.baseAddress { base.initialize(from: address, count: count) }
        }
    }

    /// Allocates `count` elements for the caller to fill before sharing the column.
    init(uninitializedCount count: Int) {
        self.count = count
        base = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
    }

    /// Copies `count` elements from raw bytes (used when loading a snapshot).
    init(count: Int, copyingFrom raw: UnsafeRawPointer) {
        self.count = count
        base = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
        UnsafeMutableRawPointer(base).copyMemory(from: raw, byteCount: count * MemoryLayout<Element>.stride)
    }

    deinit { base.deallocate() }

    @inline(__always)
    subscript(index: Int) -> Element { base[index] }

    var byteCount: Int { count * MemoryLayout<Element>.stride }

    var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    func toArray() -> [Element] { Array(buffer) }
}

/// Hashes a byte string eight bytes at a time (a multiply-xorshift mix): terms and ids are
/// short, and this runs for every token indexed. Deterministic across runs and machines.
@inline(__always)
func hashBytes(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
    guard let base = bytes.baseAddress else { return hash }
    let raw = UnsafeRawPointer(base)
    var offset = 0
    while offset + 8 <= bytes.count {
        hash = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 32
        offset += 8
    }
    if offset < bytes.count {
        var tail: UInt64 = 0
        for index in offset..<bytes.count { tail |= UInt64(base[index]) << UInt64(8 * (index - offset)) }
        hash = (hash ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    }
    return hash ^ (hash >> 29)
}

/// Interns byte strings to dense ids `0..<count`, storing the bytes in one flat array.
///
/// Used while building a segment: a `Dictionary<[UInt8], Int>` would allocate an array per
/// token looked up, which dominates indexing time at millions of tokens.
struct ByteInterner {
    private(set) var bytes: [UInt8] = []
    private(set) var offsets: [UInt32] = [0]
    private var slots: [UInt32] = Array(repeating: 0, count: 1024)  // id + 1, 0 = empty

    var count: Int { offsets.count - 1 }

    func bytes(of id: Int) -> ArraySlice<UInt8> {
        bytes[Int(offsets[id])..<Int(offsets[id + 1])]
    }

    /// Returns the id of `key`, adding it if new.
    mutating func intern(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hashBytes(key)) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let id = Int(entry - 1)
            let start = Int(offsets[id])
            let end = Int(offsets[id + 1])
            if end - start == key.count {
                let equal = bytes.withUnsafeBufferPointer { all in
                    key.count == 0 || memcmp(all.baseAddress! + start, key.baseAddress!, key.count) == 0
                }
                if equal { return id }
            }
            slot = (slot + 1) & mask
        }
        let id = count
        bytes.append(contentsOf: key)
        offsets.append(UInt32(bytes.count))
        slots[slot] = UInt32(id + 1)
        if count * 2 > slots.count {
            grow()
            mask = slots.count - 1
        }
        return id
    }

    private mutating func grow() {
        var newSlots = [UInt32](repeating: 0, count: slots.count * 2)
        let mask = newSlots.count - 1
        bytes.withUnsafeBufferPointer { all in
            for id in 0..<count {
                let start = Int(offsets[id])
                let key = UnsafeBufferPointer(rebasing: all[start..<Int(offsets[id + 1])])
                var slot = Int(truncatingIfNeeded: hashBytes(key)) & mask
                while newSlots[slot] != 0 { slot = (slot + 1) & mask }
                newSlots[slot] = UInt32(id + 1)
            }
        }
        slots = newSlots
    }
}

@inline(__always)
func memcmpEqual(_ a: UnsafePointer<UInt8>?, _ b: UnsafePointer<UInt8>?, _ count: Int) -> Bool {
    guard count > 0 else { return true }
    guard let a, let b else { return false }
    for i in 0..<count where a[i] != b[i] { return false }
    return true
}

/// Lexicographic comparison of two byte strings (the order of the term dictionary).
@inline(__always)
func compareBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
    let n = min(a.count, b.count)
    for i in 0..<n where a[i] != b[i] {
        return a[i] < b[i] ? -1 : 1
    }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// A growable array stored in chunks of 64 MiB.
///
/// A segment builder appends hundreds of MB of text and tens of millions of (document, term)
/// pairs. A plain array doubles its buffer as it grows and briefly holds the old and the new
/// copy, which set the peak memory of a million-document build. Here only the last chunk grows
/// (by doubling, so small builds stay small); full chunks are never copied, and chunks of this
/// size are mapped memory that returns to the system when freed.
struct ChunkedArray<Element: BitwiseCopyable> {
    private static var shift: Int { 26 - MemoryLayout<Element>.stride.trailingZeroBitCount }
    private static var chunkSize: Int { 1 << shift }
    private static var mask: Int { chunkSize - 1 }
    private var chunks: [[Element]] = []
    private(set) var count = 0

    var indices: Range<Int> { 0..<count }

    mutating func append(_ element: Element) {
        if count & ChunkedArray.mask == 0 { chunks.append([]) }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    mutating func append<C: Collection>(contentsOf elements: C) where C.Element == Element {
        var rest = elements[...]
        while !rest.isEmpty {
            if count & ChunkedArray.mask == 0 { chunks.append([]) }
            let room = ChunkedArray.chunkSize - (count & ChunkedArray.mask)
            let piece = rest.prefix(room)
            chunks[chunks.count - 1].append(contentsOf: piece)
            count += piece.count
            rest = rest.dropFirst(piece.count)
        }
    }

    @inline(__always)
    subscript(index: Int) -> Element {
        get { chunks[index >> ChunkedArray.shift][index & ChunkedArray.mask] }
        set { chunks[index >> ChunkedArray.shift][index & ChunkedArray.mask] = newValue }
    }

    /// Moves the contents into a column, freeing each chunk as soon as it is copied.
    mutating func takeColumn() -> Column<Element> {
        let column = Column<Element>(uninitializedCount: count)
        var offset = 0
        for index in chunks.indices {
            chunks[index].withUnsafeBufferPointer { chunk in
                if let base = chunk.baseAddress { (column.base + offset).initialize(from: base, count: chunk.count) }
                offset += chunk.count
            }
            chunks[index] = []
        }
        chunks = []
        count = 0
        return column
    }
}
