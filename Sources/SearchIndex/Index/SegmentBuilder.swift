internal import Foundation
internal import VideoCore

/// Accumulates documents and turns them into an immutable ``Segment``.
///
/// Per document it analyzes the three text fields once and keeps (term id, packed frequencies)
/// pairs; `finish` sorts the dictionary and lays postings out with a counting sort, so memory
/// stays proportional to the number of distinct (document, term) pairs.
struct SegmentBuilder {
    private var parts = Segment.Parts()
    private var terms = ByteInterner()
    private var uploaders = ByteInterner()
    private var titleBytes = ChunkedArray<UInt8>()
    private var descriptionBytes = ChunkedArray<UInt8>()
    private var pairTerm = ChunkedArray<UInt32>()
    private var pairFrequencies = ChunkedArray<UInt8>()
    private var docPairStart: [UInt32] = [0]
    private var lastDocOfTerm: [Int32] = []
    private var slotOfTerm: [Int32] = []
    private var tokens = TokenBuffer()
    private(set) var count = 0

    static let maxIDBytes = 256
    /// Title, tags and description together; far above any real video's text.
    static let maxDocumentTextBytes = 1 << 20
    /// Offsets are 32-bit; a segment refuses to grow past this many bytes of any one column.
    static let maxColumnBytes = Int(UInt32.max) - 1

    /// Adds one document (its id must not repeat within this builder).
    mutating func add(_ document: SearchDocument) throws {
        let idCount = document.id.utf8.count
        guard idCount > 0, idCount <= SegmentBuilder.maxIDBytes else {
            throw VideoStackError(.invalidInput, "A search document id must be 1 to \(SegmentBuilder.maxIDBytes) bytes of UTF-8; got \(idCount) bytes. Use the video id's text.")
        }
        let textBytes = document.title.utf8.count + document.description.utf8.count + document.tags.reduce(0) { $0 + $1.utf8.count }
        guard textBytes <= SegmentBuilder.maxDocumentTextBytes else {
            throw VideoStackError(.limitExceeded, "Search document \(document.id.prefix(64)) has \(textBytes) bytes of title, tags and description; at most \(SegmentBuilder.maxDocumentTextBytes) are indexed. Shorten the description.")
        }
        guard descriptionBytes.count + document.description.utf8.count < SegmentBuilder.maxColumnBytes,
              titleBytes.count + document.title.utf8.count < SegmentBuilder.maxColumnBytes,
              pairTerm.count < Int(UInt32.max) - 65_536, count < Int(Int32.max) else {
            throw VideoStackError(.limitExceeded, "One index segment holds at most 4 GiB of text; add documents in smaller batches.")
        }
        let ord = Int32(count)
        var lengths: [Int] = [0, 0, 0]
        func index(_ text: String, field: Field, into builder: inout SegmentBuilder) {
            builder.tokens.removeAll()
            TextAnalyzer.analyze(text, into: &builder.tokens)
            lengths[field.rawValue] += builder.tokens.tokens.count
            let tokenList = builder.tokens.tokens
            builder.tokens.bytes.withUnsafeBufferPointer { all in
                for token in tokenList {
                    let key = UnsafeBufferPointer(start: all.baseAddress! + Int(token.termStart), count: Int(token.termLength))
                    let term = builder.terms.intern(key)
                    if term == builder.lastDocOfTerm.count {
                        builder.lastDocOfTerm.append(-1)
                        builder.slotOfTerm.append(0)
                    }
                    if builder.lastDocOfTerm[term] != ord {
                        builder.lastDocOfTerm[term] = ord
                        builder.slotOfTerm[term] = Int32(builder.pairTerm.count)
                        builder.pairTerm.append(UInt32(term))
                        builder.pairFrequencies.append(0)
                    }
                    let slot = Int(builder.slotOfTerm[term])
                    builder.pairFrequencies[slot] = SegmentBuilder.increment(builder.pairFrequencies[slot], field)
                }
            }
        }
        index(document.title, field: .title, into: &self)
        for tag in document.tags { index(tag, field: .tags, into: &self) }
        index(document.description, field: .description, into: &self)
        docPairStart.append(UInt32(pairTerm.count))

        parts.idBytes.append(contentsOf: document.id.utf8); parts.idOffsets.append(UInt32(parts.idBytes.count))
        titleBytes.append(contentsOf: document.title.utf8); parts.titleOffsets.append(UInt32(titleBytes.count))
        descriptionBytes.append(contentsOf: document.description.utf8)
        parts.descriptionOffsets.append(UInt32(descriptionBytes.count))
        for (position, tag) in document.tags.enumerated() {
            if position > 0 { parts.tagBytes.append(0x1F) }
            parts.tagBytes.append(contentsOf: tag.utf8.lazy.map { $0 == 0x1F ? 0x20 : $0 })
        }
        parts.tagOffsets.append(UInt32(parts.tagBytes.count))
        var uploader = document.uploader
        parts.uploader.append(UInt32(uploader.withUTF8 { uploaders.intern($0) }))
        parts.duration.append(Float(document.duration.indexSeconds))
        let millis = document.uploadedAt.timeIntervalSince1970 * 1000
        parts.uploadedAt.append(millis.isFinite ? Int64(max(-9e15, min(9e15, millis))) : 0)
        parts.views.append(document.views)
        parts.ratingSum.append(document.ratingSum)
        parts.ratingCount.append(document.ratingCount)
        let visibility = Visibility.allCases.firstIndex(of: document.visibility) ?? 0
        let status = VideoStatus.allCases.firstIndex(of: document.status) ?? 0
        parts.flags.append(UInt8(visibility << 4 | status))
        parts.fieldLengths.append(UInt32(min(lengths[0], 255) | min(lengths[1], 255) << 8 | min(lengths[2], 65535) << 16))
        count += 1
    }

    @inline(__always)
    static func increment(_ packed: UInt8, _ field: Field) -> UInt8 {
        switch field {
        case .title: return packed & 0x07 == 0x07 ? packed : packed + 1
        case .tags: return packed & 0x18 == 0x18 ? packed : packed + 0x08
        case .description: return packed & 0xE0 == 0xE0 ? packed : packed + 0x20
        }
    }

    /// Builds the segment; the builder is consumed.
    consuming func finish() throws -> Segment {
        // Uploader dictionary, sorted so filters can binary-search it.
        let uploaderOrder = SegmentBuilder.sortedOrder(uploaders)
        var uploaderRank = [UInt32](repeating: 0, count: uploaders.count)
        for (rank, old) in uploaderOrder.enumerated() {
            uploaderRank[old] = UInt32(rank)
            parts.uploaderNames.append(contentsOf: uploaders.bytes(of: old))
            parts.uploaderNameOffsets.append(UInt32(parts.uploaderNames.count))
        }
        for index in parts.uploader.indices { parts.uploader[index] = uploaderRank[Int(parts.uploader[index])] }

        // Term dictionary in byte order; postings renumbered to match.
        let termOrder = SegmentBuilder.sortedOrder(terms)
        let termCount = termOrder.count
        var rank = [UInt32](repeating: 0, count: termCount)
        for (newID, old) in termOrder.enumerated() {
            rank[old] = UInt32(newID)
            parts.termBytes.append(contentsOf: terms.bytes(of: old))
            parts.termOffsets.append(UInt32(parts.termBytes.count))
        }
        terms = ByteInterner()
        lastDocOfTerm = []
        slotOfTerm = []

        // Counting sort of (document, term) pairs into lists 2*term (+1 when description-only).
        let listTotal = 2 * termCount
        var listCount = [UInt32](repeating: 0, count: listTotal)
        // A pair's list is recomputed where needed rather than stored: rewriting the pairs in
        // place made a copy of them at a million documents.
        @inline(__always) func listOf(_ index: Int) -> Int {
            Int(rank[Int(pairTerm[index])]) * 2 + (pairFrequencies[index] & 0x1F == 0 ? 1 : 0)
        }
        for index in pairTerm.indices { listCount[listOf(index)] += 1 }
        // Postings are written straight from the per-document pairs in two passes: the first
        // sizes every list (varint widths depend on the deltas), the second writes each posting
        // at its list's running offset. No sorted copy of the pairs is ever made, which keeps
        // the peak memory of a million-document build well below 1 GiB.
        func varintWidth(_ value: UInt32) -> Int {
            value < 1 << 7 ? 1 : value < 1 << 14 ? 2 : value < 1 << 21 ? 3 : value < 1 << 28 ? 4 : 5
        }
        var listBytes = [Int](repeating: 0, count: listTotal)
        var seen = [UInt32](repeating: 0, count: listTotal)       // postings placed so far
        var previousDoc = [UInt32](repeating: 0, count: listTotal)
        for doc in 0..<count {
            for index in Int(docPairStart[doc])..<Int(docPairStart[doc + 1]) {
                let list = listOf(index)
                let delta = seen[list] % UInt32(Segment.blockSize) == 0 ? UInt32(doc) : UInt32(doc) - previousDoc[list]
                listBytes[list] += varintWidth(delta) + 1
                previousDoc[list] = UInt32(doc)
                seen[list] += 1
            }
        }
        var listStart = [UInt32](repeating: 0, count: listTotal + 1)
        var skipStart = [UInt32](repeating: 0, count: listTotal + 1)
        var total = 0
        for list in 0..<listTotal {
            total += listBytes[list]
            guard total < SegmentBuilder.maxColumnBytes else {
                throw VideoStackError(.limitExceeded, "One index segment holds at most 4 GiB of postings; add documents in smaller batches.")
            }
            listStart[list + 1] = UInt32(total)
            skipStart[list + 1] = skipStart[list] + listCount[list] / UInt32(Segment.blockSize)
        }
        listBytes = []
        // Written straight into the final column: copying an array of this size would double it.
        let postings = Column<UInt8>(uninitializedCount: total)
        postings.base.initialize(repeating: 0, count: total)
        var blockStart = [UInt32](repeating: 0, count: listTotal + 1)
        for list in 0..<listTotal {
            blockStart[list + 1] = blockStart[list] + (listCount[list] + UInt32(Segment.blockSize) - 1) / UInt32(Segment.blockSize)
        }
        let blockCount = Int(blockStart[listTotal])
        var blockMaxFrequencies = [UInt8](repeating: 0, count: blockCount)
        var blockMinLengths = [UInt32](repeating: UInt32.max, count: blockCount)
        var blockMaxPopularity = [UInt16](repeating: 0, count: blockCount)
        // Popularity per document, quantized upwards so a block's value bounds all of its documents.
        var documentPopularity = [UInt16](repeating: 0, count: count)
        for doc in 0..<count {
            let (views, rating) = Segment.popularity(views: parts.views[doc], ratingSum: parts.ratingSum[doc], ratingCount: parts.ratingCount[doc])
            documentPopularity[doc] = UInt16(min(255, (views * 255).rounded(.up))) << 8 | UInt16(min(255, (rating * 255).rounded(.up)))
        }
        var skipLastDoc = [UInt32](repeating: 0, count: Int(skipStart[listTotal]))
        var skipEndOffset = [UInt32](repeating: 0, count: Int(skipStart[listTotal]))
        var writeOffset = listStart.map(Int.init)
        for list in 0..<listTotal { seen[list] = 0 }
        do {
            let out = postings.base
            for doc in 0..<count {
                for index in Int(docPairStart[doc])..<Int(docPairStart[doc + 1]) {
                    let list = listOf(index)
                    let n = Int(seen[list])
                    var delta = n % Segment.blockSize == 0 ? UInt32(doc) : UInt32(doc) - previousDoc[list]
                    var offset = writeOffset[list]
                    while delta >= 0x80 {
                        out[offset] = UInt8(delta & 0x7F) | 0x80
                        offset += 1
                        delta >>= 7
                    }
                    out[offset] = UInt8(delta)
                    out[offset + 1] = pairFrequencies[index]
                    offset += 2
                    writeOffset[list] = offset
                    previousDoc[list] = UInt32(doc)
                    seen[list] += 1
                    let block = Int(blockStart[list]) + n / Segment.blockSize
                    let frequencies = pairFrequencies[index]
                    let maxima = blockMaxFrequencies[block]
                    blockMaxFrequencies[block] = max(maxima & 0x07, frequencies & 0x07) | max(maxima & 0x18, frequencies & 0x18)
                        | max(maxima & 0xE0, frequencies & 0xE0)
                    let lengths = parts.fieldLengths[doc]
                    let minima = blockMinLengths[block]
                    blockMinLengths[block] = min(minima & 0xFF, lengths & 0xFF) | min(minima & 0xFF00, lengths & 0xFF00)
                        | min(minima & 0xFFFF_0000, lengths & 0xFFFF_0000)
                    let popularity = documentPopularity[doc]
                    let most = blockMaxPopularity[block]
                    blockMaxPopularity[block] = max(most & 0xFF00, popularity & 0xFF00) | max(most & 0xFF, popularity & 0xFF)
                    if n % Segment.blockSize == Segment.blockSize - 1 {
                        let skip = Int(skipStart[list]) + n / Segment.blockSize
                        skipLastDoc[skip] = UInt32(doc)
                        skipEndOffset[skip] = UInt32(offset)
                    }
                }
            }
        }
        pairTerm = ChunkedArray()
        pairFrequencies = ChunkedArray()
        docPairStart = []
        parts.listStart = listStart
        parts.listCount = listCount
        parts.skipStart = skipStart
        parts.skipLastDoc = skipLastDoc
        parts.skipEndOffset = skipEndOffset
        parts.blockStart = blockStart
        parts.blockMaxFrequencies = blockMaxFrequencies
        parts.blockMinLengths = blockMinLengths
        parts.blockMaxPopularity = blockMaxPopularity
        return Segment(taking: &parts, titleBytes: titleBytes.takeColumn(), descriptionBytes: descriptionBytes.takeColumn(),
                       postings: postings)
    }

    private static func sortedOrder(_ interner: ByteInterner) -> [Int] {
        interner.bytes.withUnsafeBufferPointer { all in
            let offsets = interner.offsets
            func slice(_ id: Int) -> UnsafeBufferPointer<UInt8> {
                let start = Int(offsets[id])
                return UnsafeBufferPointer(start: all.baseAddress.map { $0 + start }, count: Int(offsets[id + 1]) - start)
            }
            return (0..<interner.count).sorted { compareBytes(slice($0), slice($1)) < 0 }
        }
    }
}
