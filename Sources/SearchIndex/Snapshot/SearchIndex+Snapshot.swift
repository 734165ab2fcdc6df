public import Foundation
public import Logging
internal import VideoCore

/// The snapshot file format (little-endian, version 1):
/// `"VSSRCH01"`, UInt32 version, UInt32 segment count, the feed position (a column of UTF-8
/// bytes, UInt64 count 2⁶⁴−1 for none); per segment its columns, each as
/// UInt64 element count then the raw elements padded to 8 bytes, then its tombstone words;
/// finally a UInt64 checksum of everything before it.
extension SearchIndex {
    private static let magic = Array("VSSRCH01".utf8)
    private static let formatVersion: UInt32 = 1

    /// Writes the current view to `url` atomically (a temporary file renamed over it).
    ///
    /// Searches and writes may continue meanwhile; the snapshot holds the view at the call.
    /// Logs the file's size and the time taken at `info`.
    /// Throws `VideoCore/VideoStackError/Code/io` when the file cannot be written.
    public func writeSnapshot(to url: URL) throws {
        let started = ContinuousClock.now
        let view = currentView
        var bytes = 0
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw VideoStackError(.io, "Cannot create \(temporary.path) for the search snapshot; check that the directory exists and is writable.")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var writer = SnapshotWriter(handle: handle)
            try writer.write(SearchIndex.magic)
            try writer.write(UInt32(SearchIndex.formatVersion))
            try writer.write(UInt32(view.segments.count))
            if let position = view.feedPosition {
                try Array(position.utf8).withUnsafeBytes {
                    try writer.writeColumn($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: $0.count, stride: 1)
                }
            } else {
                try writer.write(UInt64.max)
            }
            for (segment, deleted) in zip(view.segments, view.deleted) {
                for column in segment.rawColumns { try writer.writeColumn(column.pointer, count: column.count, stride: column.stride) }
                try deleted.words.withUnsafeBufferPointer {
                    try writer.writeColumn(UnsafeRawPointer($0.baseAddress!), count: $0.count, stride: 8)
                }
            }
            let checksum = writer.checksum
            try writer.write(checksum)
            try handle.synchronize()
            bytes = writer.bytesWritten
        } catch let error as VideoStackError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw VideoStackError(.io, "Writing the search snapshot to \(url.path) failed; check free disk space.", cause: ErrorDescription(error))
        }
        if rename(temporary.path, url.path) != 0 {
            let code = errno
            try? FileManager.default.removeItem(at: temporary)
            throw VideoStackError(.io, "Cannot move the search snapshot into place at \(url.path).", cause: POSIXErrorCode(code, String(cString: strerror(code))))
        }
        logger.info("search index: wrote snapshot", metadata: [
            "path": "\(url.path)", "bytes": "\(bytes)", "documents": "\(view.liveCount)", "segments": "\(view.segments.count)",
            "duration": "\(ContinuousClock.now - started)", "feedPosition": "\(view.feedPosition ?? "none")",
        ])
    }

    /// Loads an index written by ``writeSnapshot(to:)``; the index logs to `logger`.
    ///
    /// Logs the file's size and the time taken at `info`. Throws `VideoCore/VideoStackError/Code/notFound` when the file is missing,
    /// `VideoCore/VideoStackError/Code/corrupt` when it is truncated, damaged or not a snapshot,
    /// and `VideoCore/VideoStackError/Code/unsupported` for a newer format version.
    public static func loadSnapshot(from url: URL, configuration: SearchIndexConfiguration = SearchIndexConfiguration(), logger: Logger) throws -> SearchIndex {
        let started = ContinuousClock.now
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw VideoStackError(.notFound, "No search snapshot at \(url.path); build the index and call writeSnapshot(to:) first.")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw VideoStackError(.io, "Cannot read the search snapshot at \(url.path).", cause: ErrorDescription(error))
        }
        let index = try data.withUnsafeBytes { raw in
            var reader = SnapshotReader(raw: raw, path: url.path)
            try reader.verifyChecksum()
            guard try reader.bytes(8) == magic else {
                throw reader.corrupt("it does not start with the snapshot signature")
            }
            let version: UInt32 = try reader.value()
            guard version == formatVersion else {
                throw VideoStackError(.unsupported, "The search snapshot at \(url.path) has format version \(version); this build reads version \(formatVersion). Rebuild the index from the store.")
            }
            let segmentCount: UInt32 = try reader.value()
            let feedPosition = try reader.optionalString()
            var segments: [Segment] = []
            var deleted: [Bitset] = []
            for _ in 0..<segmentCount {
                let segment = try Segment(reading: &reader)
                let words: Column<UInt64> = try reader.column()
                guard words.count == (segment.docCount + 63) / 64 else { throw reader.corrupt("a tombstone set has the wrong size") }
                segments.append(segment)
                deleted.append(Bitset(words: words.toArray()))
            }
            guard reader.remainingBeforeChecksum == 0 else { throw reader.corrupt("it has trailing bytes") }
            return SearchIndex(configuration: configuration, logger: logger, segments: segments, deleted: deleted, feedPosition: feedPosition)
        }
        logger.info("search index: loaded snapshot", metadata: [
            "path": "\(url.path)", "bytes": "\(data.count)", "documents": "\(index.count)",
            "segments": "\(index.currentView.segments.count)", "duration": "\(ContinuousClock.now - started)",
            "feedPosition": "\(index.feedPosition ?? "none")",
        ])
        return index
    }
}

/// 64-bit checksum fed 8 bytes at a time (fast enough for hundreds of MB).
struct SnapshotChecksum {
    private(set) var value: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var pending: [UInt8] = []

    mutating func update(_ raw: UnsafeRawBufferPointer) {
        var bytes = raw[...]
        if !pending.isEmpty {
            while !bytes.isEmpty && pending.count < 8 { pending.append(bytes.removeFirst()) }
            if pending.count == 8 {
                pending.withUnsafeBytes { mix($0.loadUnaligned(as: UInt64.self)) }
                pending.removeAll()
            }
        }
        let rebased = UnsafeRawBufferPointer(rebasing: bytes)
        let words = rebased.count / 8
        for index in 0..<words { mix(rebased.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)) }
        pending.append(contentsOf: rebased[(words * 8)...])
    }

    @inline(__always)
    private mutating func mix(_ word: UInt64) {
        value = (value ^ word) &* 0x100_0000_01b3
        value ^= value >> 32
    }

    var final: UInt64 {
        var copy = self
        var tail: UInt64 = UInt64(pending.count)
        for (index, byte) in pending.enumerated() { tail |= UInt64(byte) << UInt64(8 * (index + 1)) }
        copy.mix(tail)
        return copy.value
    }
}

struct SnapshotWriter {
    let handle: FileHandle
    var checksumState = SnapshotChecksum()
    private(set) var bytesWritten = 0
    var checksum: UInt64 { checksumState.final }

    mutating func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeRaw($0) }
    }

    mutating func write<T: FixedWidthInteger>(_ value: T) throws {
        var little = value.littleEndian
        try withUnsafeBytes(of: &little) { try writeRaw($0) }
    }

    mutating func writeColumn(_ pointer: UnsafeRawPointer, count: Int, stride: Int) throws {
        try write(UInt64(count))
        let byteCount = count * stride
        try writeRaw(UnsafeRawBufferPointer(start: pointer, count: byteCount))
        let padding = (8 - byteCount % 8) % 8
        if padding > 0 { try write([UInt8](repeating: 0, count: padding)) }
    }

    private mutating func writeRaw(_ raw: UnsafeRawBufferPointer) throws {
        guard raw.count > 0 else { return }
        checksumState.update(raw)
        bytesWritten += raw.count
        // Write in chunks so no copy of a large column is made.
        var offset = 0
        while offset < raw.count {
            let length = min(1 << 24, raw.count - offset)
            let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress! + offset), count: length, deallocator: .none)
            try handle.write(contentsOf: data)
            offset += length
        }
    }
}

struct SnapshotReader {
    let raw: UnsafeRawBufferPointer
    let path: String
    var offset = 0

    init(raw: UnsafeRawBufferPointer, path: String) {
        self.raw = raw
        self.path = path
    }

    func corrupt(_ why: String) -> VideoStackError {
        VideoStackError(.corrupt, "The search snapshot at \(path) is damaged (\(why)); delete it and rebuild the index from the store.")
    }

    var remainingBeforeChecksum: Int { raw.count - 8 - offset }

    func verifyChecksum() throws {
        guard raw.count >= 24 else { throw corrupt("it is too short") }
        var checksum = SnapshotChecksum()
        checksum.update(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - 8)]))
        let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt64.self))
        guard stored == checksum.final else { throw corrupt("its checksum does not match; it was truncated or changed") }
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remainingBeforeChecksum else { throw corrupt("it ends early") }
        defer { offset += count }
        return Array(raw[offset..<(offset + count)])
    }

    mutating func value<T: FixedWidthInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        guard size <= remainingBeforeChecksum else { throw corrupt("it ends early") }
        defer { offset += size }
        return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// A length-prefixed UTF-8 string padded to 8 bytes, or nil for the count 2⁶⁴−1.
    mutating func optionalString() throws -> String? {
        let count: UInt64 = try value()
        if count == UInt64.max { return nil }
        guard count <= 1 << 20 else { throw corrupt("a string is too long") }
        let bytes = try self.bytes(Int(count))
        let padding = (8 - Int(count) % 8) % 8
        _ = try self.bytes(padding)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw corrupt("a string is not UTF-8") }
        return text
    }

    mutating func column<T: BitwiseCopyable>() throws -> Column<T> {
        let count: UInt64 = try value()
        let stride = MemoryLayout<T>.stride
        guard count <= UInt64(remainingBeforeChecksum / max(stride, 1)) else { throw corrupt("a column is longer than the file") }
        let byteCount = Int(count) * stride
        let column = Column<T>(count: Int(count), copyingFrom: raw.baseAddress! + offset)
        offset += byteCount + (8 - byteCount % 8) % 8
        guard offset <= raw.count - 8 else { throw corrupt("it ends early") }
        return column
    }
}

extension Segment {
    struct RawColumn {
        let pointer: UnsafeRawPointer
        let count: Int
        let stride: Int
    }

    private static func raw<T>(_ column: Column<T>) -> RawColumn {
        RawColumn(pointer: UnsafeRawPointer(column.base), count: column.count, stride: MemoryLayout<T>.stride)
    }

    /// The stored columns in snapshot order (derived columns are recomputed on load).
    var rawColumns: [RawColumn] {
        [Segment.raw(idBytes), Segment.raw(idOffsets), Segment.raw(titleBytes), Segment.raw(titleOffsets),
         Segment.raw(descriptionBytes), Segment.raw(descriptionOffsets), Segment.raw(tagBytes), Segment.raw(tagOffsets),
         Segment.raw(uploaderNames), Segment.raw(uploaderNameOffsets), Segment.raw(uploader), Segment.raw(duration),
         Segment.raw(uploadedAt), Segment.raw(views), Segment.raw(ratingSum), Segment.raw(ratingCount),
         Segment.raw(flags), Segment.raw(fieldLengths), Segment.raw(termBytes), Segment.raw(termOffsets),
         Segment.raw(listStart), Segment.raw(listCount), Segment.raw(skipStart), Segment.raw(skipLastDoc),
         Segment.raw(skipEndOffset), Segment.raw(postings), Segment.raw(blockStart), Segment.raw(blockMaxFrequencies),
         Segment.raw(blockMinLengths), Segment.raw(blockMaxPopularity)]
    }

    /// Reads a segment's columns and checks the invariants that reading it relies on.
    convenience init(reading reader: inout SnapshotReader) throws {
        let idBytes: Column<UInt8> = try reader.column(), idOffsets: Column<UInt32> = try reader.column()
        let titleBytes: Column<UInt8> = try reader.column(), titleOffsets: Column<UInt32> = try reader.column()
        let descriptionBytes: Column<UInt8> = try reader.column(), descriptionOffsets: Column<UInt32> = try reader.column()
        let tagBytes: Column<UInt8> = try reader.column(), tagOffsets: Column<UInt32> = try reader.column()
        let uploaderNames: Column<UInt8> = try reader.column(), uploaderNameOffsets: Column<UInt32> = try reader.column()
        let uploader: Column<UInt32> = try reader.column(), duration: Column<Float> = try reader.column()
        let uploadedAt: Column<Int64> = try reader.column(), views: Column<Int64> = try reader.column()
        let ratingSum: Column<Int64> = try reader.column(), ratingCount: Column<Int64> = try reader.column()
        let flags: Column<UInt8> = try reader.column(), fieldLengths: Column<UInt32> = try reader.column()
        let termBytes: Column<UInt8> = try reader.column(), termOffsets: Column<UInt32> = try reader.column()
        let listStart: Column<UInt32> = try reader.column(), listCount: Column<UInt32> = try reader.column()
        let skipStart: Column<UInt32> = try reader.column(), skipLastDoc: Column<UInt32> = try reader.column()
        let skipEndOffset: Column<UInt32> = try reader.column(), postings: Column<UInt8> = try reader.column()
        let blockStart: Column<UInt32> = try reader.column(), blockMaxFrequencies: Column<UInt8> = try reader.column()
        let blockMinLengths: Column<UInt32> = try reader.column(), blockMaxPopularity: Column<UInt16> = try reader.column()

        func offsetsValid(_ offsets: Column<UInt32>, end: Int) -> Bool {
            guard offsets.count >= 1, offsets[0] == 0, Int(offsets[offsets.count - 1]) == end else { return false }
            for index in 1..<offsets.count where offsets[index] < offsets[index - 1] { return false }
            return true
        }
        let docCount = idOffsets.count - 1
        let termCount = termOffsets.count - 1
        guard docCount >= 0, termCount >= 0,
              offsetsValid(idOffsets, end: idBytes.count), offsetsValid(titleOffsets, end: titleBytes.count),
              offsetsValid(descriptionOffsets, end: descriptionBytes.count), offsetsValid(tagOffsets, end: tagBytes.count),
              offsetsValid(uploaderNameOffsets, end: uploaderNames.count), offsetsValid(termOffsets, end: termBytes.count),
              titleOffsets.count == docCount + 1, descriptionOffsets.count == docCount + 1, tagOffsets.count == docCount + 1,
              [uploader.count, duration.count, uploadedAt.count, views.count, ratingSum.count, ratingCount.count,
               flags.count, fieldLengths.count].allSatisfy({ $0 == docCount }),
              listCount.count == 2 * termCount, listStart.count == 2 * termCount + 1, skipStart.count == 2 * termCount + 1,
              offsetsValid(listStart, end: postings.count), offsetsValid(skipStart, end: skipLastDoc.count),
              skipEndOffset.count == skipLastDoc.count, blockStart.count == 2 * termCount + 1,
              offsetsValid(blockStart, end: blockMaxFrequencies.count), blockMinLengths.count == blockMaxFrequencies.count,
              blockMaxPopularity.count == blockMaxFrequencies.count
        else { throw reader.corrupt("a segment's columns are inconsistent") }
        let blockSize = UInt32(Segment.blockSize)
        for list in 0..<(2 * termCount) {
            let count = listCount[list]
            guard skipStart[list + 1] - skipStart[list] == count / blockSize,
                  blockStart[list + 1] - blockStart[list] == (count + blockSize - 1) / blockSize,
                  listStart[list + 1] - listStart[list] >= 2 * count
            else { throw reader.corrupt("a postings list's counts disagree") }
        }
        let uploaderCount = UInt32(uploaderNameOffsets.count - 1)
        for ord in 0..<docCount where uploader[ord] >= uploaderCount { throw reader.corrupt("an uploader reference is out of range") }
        for index in 0..<skipEndOffset.count where Int(skipEndOffset[index]) > postings.count {
            throw reader.corrupt("a skip entry points past the postings")
        }
        self.init(
            idBytes: idBytes, idOffsets: idOffsets, titleBytes: titleBytes, titleOffsets: titleOffsets,
            descriptionBytes: descriptionBytes, descriptionOffsets: descriptionOffsets, tagBytes: tagBytes,
            tagOffsets: tagOffsets, uploaderNames: uploaderNames, uploaderNameOffsets: uploaderNameOffsets,
            uploader: uploader, duration: duration, uploadedAt: uploadedAt, views: views, ratingSum: ratingSum,
            ratingCount: ratingCount, flags: flags, fieldLengths: fieldLengths, termBytes: termBytes,
            termOffsets: termOffsets, listStart: listStart, listCount: listCount, skipStart: skipStart,
            skipLastDoc: skipLastDoc, skipEndOffset: skipEndOffset, postings: postings, blockStart: blockStart,
            blockMaxFrequencies: blockMaxFrequencies, blockMinLengths: blockMinLengths, blockMaxPopularity: blockMaxPopularity)
    }
}
