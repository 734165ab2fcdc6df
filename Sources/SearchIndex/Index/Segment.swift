internal import Foundation
internal import Synchronization
internal import VideoCore

/// Text fields, in the order their term frequencies are packed into a posting's byte.
enum Field: Int, CaseIterable {
    case title = 0, tags = 1, description = 2
}

/// An immutable slice of the index: stored documents, doc-value columns, a sorted term dictionary
/// and compressed postings.
///
/// Layout (all flat columns, no per-document objects, so a million documents cost a few hundred MB):
/// - Term dictionary: terms sorted byte-wise in `termBytes`/`termOffsets`; ids are positions, so
///   lookups and prefix ranges are binary searches.
/// - Each term has two postings lists: *hot* (the term is in the title or tags) and *cold*
///   (description only). Search reads the short hot lists first and touches cold lists only when
///   the hot ones cannot fill the page. List `2 * term + 0` is hot, `2 * term + 1` cold.
/// - A posting is the document ordinal as a varint delta from the previous one, then one byte of
///   per-field term frequencies (title 3 bits, tags 2, description 3; saturated, BM25 barely moves
///   past them). Every 128 postings a skip entry (last ordinal, end offset) lets a cursor jump.
/// - Documents are numbered `0..<docCount` in insertion order; deletions live outside, in the
///   index view's tombstones, so a segment never changes after it is built.
final class Segment: Sendable {
    static let blockSize = 128

    let docCount: Int

    // Stored fields (UTF-8, one flat buffer each; tags joined by U+001F).
    let idBytes: Column<UInt8>, idOffsets: Column<UInt32>
    let titleBytes: Column<UInt8>, titleOffsets: Column<UInt32>
    let descriptionBytes: Column<UInt8>, descriptionOffsets: Column<UInt32>
    let tagBytes: Column<UInt8>, tagOffsets: Column<UInt32>
    let uploaderNames: Column<UInt8>, uploaderNameOffsets: Column<UInt32>
    // Doc values.
    let uploader: Column<UInt32>
    let duration: Column<Float>
    let uploadedAt: Column<Int64>       // milliseconds since 1970
    let views: Column<Int64>
    let ratingSum: Column<Int64>
    let ratingCount: Column<Int64>
    let flags: Column<UInt8>            // visibility index << 4 | status index
    let fieldLengths: Column<UInt32>    // title tokens | tags tokens << 8 | description tokens << 16
    let fieldLengthTotals: [Int]        // per field, for average lengths
    // Terms and postings.
    let termBytes: Column<UInt8>, termOffsets: Column<UInt32>
    let listStart: Column<UInt32>       // 2 * termCount + 1 byte offsets into `postings`
    let listCount: Column<UInt32>       // 2 * termCount
    let skipStart: Column<UInt32>       // 2 * termCount + 1 indices into the skip columns
    let skipLastDoc: Column<UInt32>, skipEndOffset: Column<UInt32>
    let postings: Column<UInt8>
    // Block-max data, one entry per block of 128 postings (the last block of a list may be short):
    // the most a block can score, so single-word queries skip blocks that cannot reach the page.
    let blockStart: Column<UInt32>      // 2 * termCount + 1 indices into the block columns
    let blockMaxFrequencies: Column<UInt8>   // per-field maxima, packed like a posting's byte
    let blockMinLengths: Column<UInt32>      // per-field minima, packed like fieldLengths
    let blockMaxPopularity: Column<UInt16>   // ceil(255 * views score) << 8 | ceil(255 * rating score)
    // Derived on build and load, not stored.
    let viewsScore: Column<Float>       // log(1 + views) / log(1 + 10⁹), 0...1
    let ratingScore: Column<Float>      // Bayesian average rating mapped to 0...1
    private let idSlots: Column<UInt32> // open addressing: ordinal + 1, 0 = empty
    /// Ordinals whose id appears again later in this segment (they start out deleted).
    let shadowedOrdinals: [Int]

    var termCount: Int { termOffsets.count - 1 }

    /// A scratch table lent to one query at a time.
    struct ScratchTable: @unchecked Sendable {
        // @unchecked: a table is either in the pool (touched only under its lock) or lent to
        // exactly one query, so no two threads ever use it at once.
        let buffer: UnsafeMutableBufferPointer<UInt32>
    }

    /// Zeroed tables of one UInt32 per document, lent to queries and returned zeroed, so
    /// concurrent searches each get one without allocating (and faulting in) megabytes a query.
    private let scratchPool = Mutex<[ScratchTable]>([])

    /// Lends `body` a zeroed table of `docCount` entries; `body` must leave it zeroed.
    func withScratch<R>(_ body: (UnsafeMutableBufferPointer<UInt32>) -> R) -> R {
        let table = scratchPool.withLock { $0.popLast() } ?? {
            let fresh = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(docCount, 1))
            fresh.initialize(repeating: 0)
            return ScratchTable(buffer: fresh)
        }()
        defer {
            scratchPool.withLock { pool in
                if pool.count < 8 { pool.append(table) } else { table.buffer.deallocate() }
            }
        }
        return body(table.buffer)
    }

    deinit {
        scratchPool.withLock { pool in
            for table in pool { table.buffer.deallocate() }
            pool.removeAll()
        }
    }

    struct Parts {
        var idBytes: [UInt8] = [], idOffsets: [UInt32] = [0]
        var titleOffsets: [UInt32] = [0]
        var descriptionOffsets: [UInt32] = [0]
        var tagBytes: [UInt8] = [], tagOffsets: [UInt32] = [0]
        var uploaderNames: [UInt8] = [], uploaderNameOffsets: [UInt32] = [0]
        var uploader: [UInt32] = [], duration: [Float] = [], uploadedAt: [Int64] = [], views: [Int64] = []
        var ratingSum: [Int64] = [], ratingCount: [Int64] = [], flags: [UInt8] = [], fieldLengths: [UInt32] = []
        var termBytes: [UInt8] = [], termOffsets: [UInt32] = [0]
        var listStart: [UInt32] = [0], listCount: [UInt32] = [], skipStart: [UInt32] = [0]
        var skipLastDoc: [UInt32] = [], skipEndOffset: [UInt32] = []
        var blockStart: [UInt32] = [0], blockMaxFrequencies: [UInt8] = [], blockMinLengths: [UInt32] = []
        var blockMaxPopularity: [UInt16] = []
    }

    /// Moves the builder's arrays into columns one at a time, freeing each array as soon as it
    /// is copied, so building a million-document segment never holds two copies of its text.
    convenience init(taking parts: inout Parts, titleBytes: Column<UInt8>, descriptionBytes: Column<UInt8>, postings: Column<UInt8>) {
        func take<T: BitwiseCopyable>(_ array: inout [T]) -> Column<T> {
            let column = Column(array)
            array = []
            return column
        }
        self.init(
            idBytes: take(&parts.idBytes), idOffsets: take(&parts.idOffsets),
            titleBytes: titleBytes, titleOffsets: take(&parts.titleOffsets),
            descriptionBytes: descriptionBytes, descriptionOffsets: take(&parts.descriptionOffsets),
            tagBytes: take(&parts.tagBytes), tagOffsets: take(&parts.tagOffsets),
            uploaderNames: take(&parts.uploaderNames), uploaderNameOffsets: take(&parts.uploaderNameOffsets),
            uploader: take(&parts.uploader), duration: take(&parts.duration), uploadedAt: take(&parts.uploadedAt),
            views: take(&parts.views), ratingSum: take(&parts.ratingSum), ratingCount: take(&parts.ratingCount),
            flags: take(&parts.flags), fieldLengths: take(&parts.fieldLengths),
            termBytes: take(&parts.termBytes), termOffsets: take(&parts.termOffsets),
            listStart: take(&parts.listStart), listCount: take(&parts.listCount), skipStart: take(&parts.skipStart),
            skipLastDoc: take(&parts.skipLastDoc), skipEndOffset: take(&parts.skipEndOffset),
            postings: postings, blockStart: take(&parts.blockStart), blockMaxFrequencies: take(&parts.blockMaxFrequencies),
            blockMinLengths: take(&parts.blockMinLengths), blockMaxPopularity: take(&parts.blockMaxPopularity))
    }

    init(
        idBytes: Column<UInt8>, idOffsets: Column<UInt32>, titleBytes: Column<UInt8>, titleOffsets: Column<UInt32>,
        descriptionBytes: Column<UInt8>, descriptionOffsets: Column<UInt32>, tagBytes: Column<UInt8>,
        tagOffsets: Column<UInt32>, uploaderNames: Column<UInt8>, uploaderNameOffsets: Column<UInt32>,
        uploader: Column<UInt32>, duration: Column<Float>, uploadedAt: Column<Int64>, views: Column<Int64>,
        ratingSum: Column<Int64>, ratingCount: Column<Int64>, flags: Column<UInt8>, fieldLengths: Column<UInt32>,
        termBytes: Column<UInt8>, termOffsets: Column<UInt32>, listStart: Column<UInt32>, listCount: Column<UInt32>,
        skipStart: Column<UInt32>, skipLastDoc: Column<UInt32>, skipEndOffset: Column<UInt32>, postings: Column<UInt8>,
        blockStart: Column<UInt32>, blockMaxFrequencies: Column<UInt8>, blockMinLengths: Column<UInt32>,
        blockMaxPopularity: Column<UInt16>
    ) {
        self.docCount = idOffsets.count - 1
        self.idBytes = idBytes; self.idOffsets = idOffsets
        self.titleBytes = titleBytes; self.titleOffsets = titleOffsets
        self.descriptionBytes = descriptionBytes; self.descriptionOffsets = descriptionOffsets
        self.tagBytes = tagBytes; self.tagOffsets = tagOffsets
        self.uploaderNames = uploaderNames; self.uploaderNameOffsets = uploaderNameOffsets
        self.uploader = uploader; self.duration = duration; self.uploadedAt = uploadedAt; self.views = views
        self.ratingSum = ratingSum; self.ratingCount = ratingCount; self.flags = flags
        self.fieldLengths = fieldLengths
        self.termBytes = termBytes; self.termOffsets = termOffsets
        self.listStart = listStart; self.listCount = listCount; self.skipStart = skipStart
        self.skipLastDoc = skipLastDoc; self.skipEndOffset = skipEndOffset; self.postings = postings
        self.blockStart = blockStart; self.blockMaxFrequencies = blockMaxFrequencies
        self.blockMinLengths = blockMinLengths; self.blockMaxPopularity = blockMaxPopularity

        var totals = [0, 0, 0]
        var viewsScore = [Float](repeating: 0, count: docCount)
        var ratingScore = [Float](repeating: 0, count: docCount)
        for ord in 0..<docCount {
            let lengths = fieldLengths[ord]
            totals[0] += Int(lengths & 0xFF)
            totals[1] += Int(lengths >> 8 & 0xFF)
            totals[2] += Int(lengths >> 16)
            (viewsScore[ord], ratingScore[ord]) = Segment.popularity(views: views[ord], ratingSum: ratingSum[ord], ratingCount: ratingCount[ord])
        }
        self.fieldLengthTotals = totals
        self.viewsScore = Column(viewsScore)
        self.ratingScore = Column(ratingScore)

        var slotCount = 16
        while slotCount < docCount * 2 { slotCount <<= 1 }
        var slots = [UInt32](repeating: 0, count: slotCount)
        let mask = slotCount - 1
        var shadowed: [Int] = []
        for ord in 0..<docCount {
            let key = Segment.slice(idBytes, idOffsets, ord)
            var slot = Int(truncatingIfNeeded: hashBytes(key)) & mask
            while slots[slot] != 0 {
                let other = Int(slots[slot] - 1)
                let otherKey = Segment.slice(idBytes, idOffsets, other)
                if otherKey.count == key.count && memcmpEqual(otherKey.baseAddress, key.baseAddress, key.count) {
                    // The same id twice in one batch: the later document wins.
                    shadowed.append(other)
                    break
                }
                slot = (slot + 1) & mask
            }
            slots[slot] = UInt32(ord + 1)
        }
        self.idSlots = Column(slots)
        self.shadowedOrdinals = shadowed
    }

    /// Views on a log scale up to 10⁹, and the Bayesian-average rating, both mapped to 0...1.
    static func popularity(views: Int64, ratingSum: Int64, ratingCount: Int64) -> (Float, Float) {
        let viewsScore = Float(min(1, log1p(Double(max(0, views))) / log1p(1e9)))
        // Two phantom 3-star reviews keep one 5-star review from outranking a hundred 4.8s.
        let mean = (Double(ratingSum) + 6) / (Double(max(0, ratingCount)) + 2)
        return (viewsScore, Float(min(1, max(0, (mean - 1) / 4))))
    }

    @inline(__always)
    static func slice(_ bytes: Column<UInt8>, _ offsets: Column<UInt32>, _ index: Int) -> UnsafeBufferPointer<UInt8> {
        let start = Int(offsets[index])
        return UnsafeBufferPointer(start: bytes.base + start, count: Int(offsets[index + 1]) - start)
    }

    // MARK: Documents

    /// The ordinal of the document with this id, deleted or not.
    func ordinal(of id: UnsafeBufferPointer<UInt8>) -> Int? {
        let mask = idSlots.count - 1
        var slot = Int(truncatingIfNeeded: hashBytes(id)) & mask
        while true {
            let entry = idSlots[slot]
            if entry == 0 { return nil }
            let ord = Int(entry - 1)
            let candidate = Segment.slice(idBytes, idOffsets, ord)
            if candidate.count == id.count && memcmpEqual(candidate.baseAddress, id.baseAddress, id.count) {
                return ord
            }
            slot = (slot + 1) & mask
        }
    }

    func id(_ ord: Int) -> UnsafeBufferPointer<UInt8> { Segment.slice(idBytes, idOffsets, ord) }
    func idString(_ ord: Int) -> String { String(decoding: id(ord), as: UTF8.self) }
    func title(_ ord: Int) -> String { String(decoding: Segment.slice(titleBytes, titleOffsets, ord), as: UTF8.self) }
    func description(_ ord: Int) -> String {
        String(decoding: Segment.slice(descriptionBytes, descriptionOffsets, ord), as: UTF8.self)
    }
    func tags(_ ord: Int) -> [String] {
        let joined = String(decoding: Segment.slice(tagBytes, tagOffsets, ord), as: UTF8.self)
        return joined.isEmpty ? [] : joined.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
    }
    func uploaderName(_ ord: Int) -> String {
        String(decoding: Segment.slice(uploaderNames, uploaderNameOffsets, Int(uploader[ord])), as: UTF8.self)
    }

    /// The ordinal of an uploader name in this segment's uploader dictionary.
    func uploaderIndex(_ name: String) -> UInt32? {
        var name = name
        return name.withUTF8 { key in
            var low = 0
            var high = uploaderNameOffsets.count - 1
            while low < high {
                let mid = (low + high) / 2
                let c = compareBytes(Segment.slice(uploaderNames, uploaderNameOffsets, mid), key)
                if c == 0 { return UInt32(mid) }
                if c < 0 { low = mid + 1 } else { high = mid }
            }
            return nil
        }
    }

    func document(_ ord: Int) -> SearchDocument {
        let flag = flags[ord]
        return SearchDocument(
            id: idString(ord), title: title(ord), description: description(ord), tags: tags(ord),
            uploader: uploaderName(ord), duration: .seconds(Double(duration[ord])),
            uploadedAt: Date(timeIntervalSince1970: Double(uploadedAt[ord]) / 1000), views: views[ord],
            ratingSum: ratingSum[ord], ratingCount: ratingCount[ord],
            visibility: Visibility.allCases[Int(flag >> 4) % Visibility.allCases.count],
            status: VideoStatus.allCases[Int(flag & 0x0F) % VideoStatus.allCases.count])
    }

    // MARK: Terms

    func term(_ id: Int) -> UnsafeBufferPointer<UInt8> { Segment.slice(termBytes, termOffsets, id) }

    /// First term id whose bytes are not less than `key`.
    func lowerBound(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        var low = 0
        var high = termCount
        while low < high {
            let mid = (low + high) / 2
            if compareBytes(term(mid), key) < 0 { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func termID(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        let index = lowerBound(key)
        guard index < termCount else { return nil }
        return compareBytes(term(index), key) == 0 ? index : nil
    }

    /// The term ids that start with `prefix`.
    func prefixRange(_ prefix: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        let start = lowerBound(prefix)
        var low = start
        var high = termCount
        while low < high {
            let mid = (low + high) / 2
            let candidate = term(mid)
            let hasPrefix = candidate.count >= prefix.count
                && memcmpEqual(candidate.baseAddress, prefix.baseAddress, prefix.count)
            if hasPrefix { low = mid + 1 } else { high = mid }
        }
        return start..<low
    }

    func documentFrequency(_ term: Int) -> Int { Int(listCount[2 * term]) + Int(listCount[2 * term + 1]) }

    var byteCount: Int {
        [idBytes.byteCount, idOffsets.byteCount, titleBytes.byteCount, titleOffsets.byteCount,
         descriptionBytes.byteCount, descriptionOffsets.byteCount, tagBytes.byteCount, tagOffsets.byteCount,
         uploaderNames.byteCount, uploaderNameOffsets.byteCount, uploader.byteCount, duration.byteCount,
         uploadedAt.byteCount, views.byteCount, ratingSum.byteCount, ratingCount.byteCount, flags.byteCount,
         fieldLengths.byteCount, termBytes.byteCount, termOffsets.byteCount, listStart.byteCount,
         listCount.byteCount, skipStart.byteCount, skipLastDoc.byteCount, skipEndOffset.byteCount,
         postings.byteCount, blockStart.byteCount, blockMaxFrequencies.byteCount, blockMinLengths.byteCount,
         blockMaxPopularity.byteCount, viewsScore.byteCount, ratingScore.byteCount, idSlots.byteCount].reduce(0, +)
    }
}

/// Reads one postings list forward, with skips.
struct PostingCursor {
    private let base: UnsafePointer<UInt8>
    private var offset: Int
    private let end: Int
    private let skipLastDoc: UnsafePointer<UInt32>
    private let skipEndOffset: UnsafePointer<UInt32>
    private var nextSkip: Int
    private let skipEnd: Int
    private var remaining: Int
    /// The current document ordinal; `UInt32.max` once exhausted.
    private(set) var doc: UInt32 = 0
    /// The packed per-field term frequencies of `doc`.
    private(set) var tf: UInt8 = 0
    private var blockPosition = 0

    init(segment: Segment, list: Int) {
        base = UnsafePointer(segment.postings.base)
        offset = Int(segment.listStart[list])
        end = Int(segment.listStart[list + 1])
        skipLastDoc = UnsafePointer(segment.skipLastDoc.base)
        skipEndOffset = UnsafePointer(segment.skipEndOffset.base)
        nextSkip = Int(segment.skipStart[list])
        skipEnd = Int(segment.skipStart[list + 1])
        remaining = Int(segment.listCount[list])
        count = remaining
        next()
    }

    let count: Int

    /// Moves to the next posting.
    @inline(__always)
    mutating func next() {
        guard remaining > 0, offset < end else {
            doc = UInt32.max
            return
        }
        var delta: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            let byte = base[offset]
            offset += 1
            delta |= UInt32(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        // The first posting of a list and of each block stores the ordinal itself.
        doc = blockPosition == 0 ? delta : doc &+ delta
        tf = base[offset]
        offset += 1
        remaining -= 1
        blockPosition += 1
        if blockPosition == Segment.blockSize {
            blockPosition = 0
            nextSkip += 1
        }
    }

    /// Moves to the first posting at or after `target`.
    @inline(__always)
    mutating func advance(to target: UInt32) {
        if doc >= target { return }
        // Skip whole blocks whose last document is before the target.
        if nextSkip < skipEnd && skipLastDoc[nextSkip] < target {
            // The block after the current one starts at the current block's end offset.
            var skip = nextSkip
            while skip + 1 < skipEnd && skipLastDoc[skip + 1] < target { skip += 1 }
            let skipped = (skip - nextSkip + 1) * Segment.blockSize - blockPosition
            offset = Int(skipEndOffset[skip])
            remaining -= skipped
            nextSkip = skip + 1
            blockPosition = 0
            next()
        }
        while doc < target { next() }
    }
}
