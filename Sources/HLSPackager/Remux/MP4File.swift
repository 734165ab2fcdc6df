public import Foundation
public import VideoCore

/// An already-encoded MP4/MOV file (progressive, `moov` anywhere) opened for remuxing: its H.264,
/// HEVC and AAC tracks as `TrackFormat`s and its samples as `EncodedPacket`s, without decoding.
///
/// The file is memory-mapped; packets copy their bytes out, so they outlive the `MP4File`.
/// Tracks of other codecs (and data tracks) are skipped. A single edit list entry is applied,
/// so B-frame delay and AAC priming come out as negative timestamps, as FFmpeg reports them.
/// Fragmented MP4 input is not read (its samples live in `moof` boxes): it throws
/// `VideoStackError/Code/unsupported`. A truncated or inconsistent file throws
/// `VideoStackError/Code/corrupt` naming the box.
public struct MP4File: Sendable {
    /// One usable track.
    public struct Track: Sendable {
        /// The track's format, with `extradata` holding the `avcC` record or AudioSpecificConfig.
        public var format: TrackFormat
        /// The `tkhd` track id.
        public var trackID: Int
        /// Duration from the sample table.
        public var duration: Duration
        let samples: SampleTable
    }

    struct SampleTable: Sendable {
        var offsets: [Int] = []
        var sizes: [Int] = []
        var dts: [Int64] = []
        var cto: [Int64] = []
        var sync: [Bool] = []
    }

    /// The H.264, HEVC and AAC tracks, in file order.
    public let tracks: [Track]
    let data: Data

    /// Opens and indexes the MP4 file at `url` (a local file).
    ///
    /// - Throws: `VideoStackError/Code/notFound` when there is no such file, `.io` when it cannot
    ///   be opened or mapped (the cause holds the system call and errno), `.corrupt` for a damaged
    ///   file, `.unsupported` for fragmented MP4 or files without H.264, HEVC or AAC.
    public init(url: URL) throws {
        let path = url.path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            let code = errno
            let reason = String(cString: strerror(code))
            throw VideoStackError(code == ENOENT || code == ENOTDIR ? .notFound : .io,
                                  "Cannot open '\(path)' (\(reason)); check that it exists and is readable.",
                                  cause: POSIXErrorCode(code, "open(\(path)): \(reason)"))
        }
        close(descriptor)
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw VideoStackError(.io, "Cannot map '\(path)' into memory; check that it is a regular, readable file.", cause: ErrorDescription(error))
        }
        var reader = BoxReader(data: data, range: 0..<data.count, path: "")
        var moov: BoxReader?
        var fragmented = false
        while let box = try reader.next() {
            if box.type == "moov" { moov = box.body }
            if box.type == "moof" { fragmented = true }
        }
        guard let moov else {
            throw VideoStackError(.corrupt, "'\(path)' has no moov box: it is not an MP4 file, or it was cut short before the index was written.")
        }
        var tracks: [Track] = []
        var body = moov
        var hasMvex = false
        while let box = try body.next() {
            if box.type == "mvex" { hasMvex = true }
            guard box.type == "trak" else { continue }
            if let track = try Self.readTrack(box.body, fileSize: data.count) { tracks.append(track) }
        }
        if (fragmented || hasMvex) && tracks.allSatisfy({ $0.samples.sizes.isEmpty }) {
            throw VideoStackError(.unsupported, "'\(path)' is a fragmented MP4; remux it to a regular MP4 first (ffmpeg -i IN -c copy OUT.mp4).")
        }
        guard !tracks.isEmpty else {
            throw VideoStackError(.unsupported, "'\(path)' has no H.264, HEVC or AAC track; transcode it instead of remuxing.")
        }
        self.tracks = tracks
    }

    /// Every sample of every track in file order (the order a sequential reader meets them).
    public func packets() -> PacketSequence { PacketSequence(file: self) }

    /// Walks the samples of all tracks in file order; each step copies one sample's bytes.
    public struct PacketSequence: Sequence, Sendable {
        let file: MP4File

        /// An iterator from the first sample.
        public func makeIterator() -> Iterator { Iterator(file: file) }

        /// The iterator of ``PacketSequence``.
        public struct Iterator: IteratorProtocol {
            let file: MP4File
            var positions: [Int]

            init(file: MP4File) {
                self.file = file
                positions = Array(repeating: 0, count: file.tracks.count)
            }

            /// The next sample in file order, or nil at the end.
            public mutating func next() -> (track: Int, packet: EncodedPacket)? {
                var best = -1
                var bestOffset = Int.max
                for (index, track) in file.tracks.enumerated() where positions[index] < track.samples.offsets.count {
                    let offset = track.samples.offsets[positions[index]]
                    if offset < bestOffset { bestOffset = offset; best = index }
                }
                guard best >= 0 else { return nil }
                let table = file.tracks[best].samples
                let i = positions[best]
                positions[best] += 1
                let bytes = file.data.withUnsafeBytes { raw in
                    [UInt8](UnsafeRawBufferPointer(rebasing: raw[table.offsets[i]..<(table.offsets[i] + table.sizes[i])]))
                }
                let duration = i + 1 < table.dts.count ? table.dts[i + 1] - table.dts[i] : (i > 0 ? table.dts[i] - table.dts[i - 1] : 0)
                return (best, EncodedPacket(data: bytes, pts: table.dts[i] + table.cto[i], dts: table.dts[i], duration: duration, isKeyframe: table.sync[i]))
            }
        }
    }

    private static func readTrack(_ trak: BoxReader, fileSize: Int) throws -> Track? {
        var trak = trak
        var trackID = 0
        var timescale: Int32 = 0
        var handler = ""
        var stbl: BoxReader?
        var editMediaTime: Int64 = 0
        while let box = try trak.next() {
            switch box.type {
            case "tkhd":
                var b = box.body
                let version = try b.u8()
                try b.skip(3 + (version == 1 ? 16 : 8))
                trackID = Int(try b.u32())
            case "edts":
                var edts = box.body
                while let edit = try edts.next() {
                    guard edit.type == "elst" else { continue }
                    var b = edit.body
                    let version = try b.u8()
                    try b.skip(3)
                    let count = try b.u32()
                    var entries: [(duration: UInt64, mediaTime: Int64)] = []
                    for _ in 0..<min(count, 16) {
                        let duration = version == 1 ? try b.u64() : UInt64(try b.u32())
                        let mediaTime = version == 1 ? Int64(bitPattern: try b.u64()) : Int64(Int32(bitPattern: try b.u32()))
                        try b.skip(4)
                        entries.append((duration, mediaTime))
                    }
                    // An initial empty edit delays the track; one real edit trims its start. Only the latter matters here.
                    if let first = entries.first(where: { $0.mediaTime >= 0 }) { editMediaTime = first.mediaTime }
                }
            case "mdia":
                var mdia = box.body
                while let child = try mdia.next() {
                    switch child.type {
                    case "mdhd":
                        var b = child.body
                        let version = try b.u8()
                        try b.skip(3 + (version == 1 ? 16 : 8))
                        timescale = Int32(clamping: try b.u32())
                    case "hdlr":
                        var b = child.body
                        try b.skip(8)
                        handler = try b.fourCC()
                    case "minf":
                        var minf = child.body
                        while let m = try minf.next() {
                            if m.type == "stbl" { stbl = m.body }
                        }
                    default: break
                    }
                }
            default: break
            }
        }
        guard handler == "vide" || handler == "soun", var stbl else { return nil }
        guard timescale > 0 else { throw VideoStackError(.corrupt, "Track \(trackID) has a zero timescale in its mdhd box.") }
        var format: TrackFormat?
        var table = SampleTable()
        var stts: [(count: Int, delta: Int64)] = [], ctts: [(count: Int, offset: Int64)] = []
        var stsc: [(first: Int, perChunk: Int)] = [], chunkOffsets: [Int] = []
        var sizes: [Int] = [], syncSamples: Set<Int>? = nil
        while let box = try stbl.next() {
            var b = box.body
            switch box.type {
            case "stsd":
                try b.skip(8)
                if let entry = try b.next() { format = try readSampleEntry(entry, handler: handler, timescale: timescale) }
            case "stts":
                try b.skip(4)
                for _ in 0..<(try b.count(entrySize: 8)) { stts.append((Int(try b.u32()), Int64(try b.u32()))) }
            case "ctts":
                let version = try b.u8()
                try b.skip(3)
                for _ in 0..<(try b.count(entrySize: 8)) {
                    let count = Int(try b.u32())
                    let raw = try b.u32()
                    ctts.append((count, version == 1 ? Int64(Int32(bitPattern: raw)) : Int64(Int32(bitPattern: raw))))
                }
            case "stss":
                try b.skip(4)
                var set = Set<Int>()
                for _ in 0..<(try b.count(entrySize: 4)) { set.insert(Int(try b.u32()) - 1) }
                syncSamples = set
            case "stsz":
                try b.skip(4)
                let fixed = Int(try b.u32())
                let count = Int(try b.u32())
                if fixed != 0 {
                    guard count <= fileSize / fixed else { throw VideoStackError(.corrupt, "Track \(trackID): stsz claims \(count) samples of \(fixed) bytes, more than the file holds.") }
                    sizes = Array(repeating: fixed, count: count)
                } else {
                    guard count * 4 <= b.remaining else { throw VideoStackError(.corrupt, "Track \(trackID): the stsz box is shorter than its sample count.") }
                    sizes.reserveCapacity(count)
                    for _ in 0..<count { sizes.append(Int(try b.u32())) }
                }
            case "stsc":
                try b.skip(4)
                for _ in 0..<(try b.count(entrySize: 12)) {
                    let first = Int(try b.u32()); let perChunk = Int(try b.u32()); try b.skip(4)
                    stsc.append((first, perChunk))
                }
            case "stco":
                try b.skip(4)
                for _ in 0..<(try b.count(entrySize: 4)) { chunkOffsets.append(Int(try b.u32())) }
            case "co64":
                try b.skip(4)
                for _ in 0..<(try b.count(entrySize: 8)) { chunkOffsets.append(Int(clamping: try b.u64())) }
            default: break
            }
        }
        guard var format else { return nil }
        let count = sizes.count
        func corrupt(_ what: String) -> VideoStackError {
            VideoStackError(.corrupt, "Track \(trackID): \(what); the file's sample table is damaged. Re-mux it with ffmpeg -c copy.")
        }
        guard stts.reduce(0, { $0 + $1.count }) >= count else { throw corrupt("stts covers fewer samples than stsz lists") }
        // Chunk layout: sample i lives in some chunk at a running offset.
        table.offsets.reserveCapacity(count)
        var sample = 0
        for (entryIndex, entry) in stsc.enumerated() {
            let lastChunk = entryIndex + 1 < stsc.count ? stsc[entryIndex + 1].first - 1 : chunkOffsets.count
            guard entry.first >= 1, lastChunk <= chunkOffsets.count, entry.perChunk < 1 << 24 else { throw corrupt("stsc refers to chunks that stco does not have") }
            if entry.first > lastChunk { continue }
            for chunk in (entry.first - 1)..<lastChunk where sample < count {
                var offset = chunkOffsets[chunk]
                for _ in 0..<min(entry.perChunk, count - sample) {
                    guard offset >= 0, offset + sizes[sample] <= fileSize else { throw corrupt("sample \(sample + 1) lies past the end of the file (the file is truncated)") }
                    table.offsets.append(offset)
                    offset += sizes[sample]
                    sample += 1
                }
            }
        }
        guard table.offsets.count == count else { throw corrupt("the chunk tables place \(table.offsets.count) of \(count) samples") }
        table.sizes = sizes
        table.dts.reserveCapacity(count)
        var time: Int64 = -editMediaTime
        // Loops are bounded by the sample count, never by a (possibly damaged) table entry.
        for entry in stts where table.dts.count < count {
            for _ in 0..<min(entry.count, count - table.dts.count) {
                table.dts.append(time)
                time += entry.delta
            }
        }
        table.cto = Array(repeating: 0, count: count)
        var index = 0
        for entry in ctts where index < count {
            for _ in 0..<min(entry.count, count - index) {
                table.cto[index] = entry.offset
                index += 1
            }
        }
        // Negative composition offsets (ctts version 1) would put presentation before decoding;
        // move decode times back instead, as FFmpeg's reader does, so pts stays where it was.
        if let lowest = table.cto.min(), lowest < 0 {
            for i in 0..<count {
                table.dts[i] += lowest
                table.cto[i] -= lowest
            }
        }
        table.sync = (0..<count).map { syncSamples?.contains($0) ?? true }
        let duration = Double(time + editMediaTime) / Double(timescale)
        if format.kind == .video, let first = stts.first, first.delta > 0, stts.allSatisfy({ $0.delta == first.delta || $0.count == 1 }) {
            format.frameRate = Rational(Int(timescale), Int(first.delta))
        }
        if format.bitRate == 0, duration > 0 { format.bitRate = Int(Double(sizes.reduce(0, +) * 8) / duration) }
        return Track(format: format, trackID: trackID, duration: .seconds(duration), samples: table)
    }

    private static func readSampleEntry(_ entry: BoxReader.Box, handler: String, timescale: Int32) throws -> TrackFormat? {
        var b = entry.body
        switch entry.type {
        case "avc1", "avc3":
            try b.skip(24)
            let width = Int(try b.u16()), height = Int(try b.u16())
            try b.skip(50)
            var extradata: [UInt8] = []
            var sar = Rational(1, 1)
            while let child = try b.next() {
                if child.type == "avcC" { extradata = child.body.bytes() }
                if child.type == "pasp" {
                    var p = child.body
                    sar = Rational(Int(try p.u32()), Int(try p.u32()))
                }
            }
            guard !extradata.isEmpty else { throw VideoStackError(.corrupt, "An H.264 track has no avcC box.") }
            let config = try H264.Configuration(record: extradata)
            return TrackFormat(kind: .video, codec: "h264", extradata: extradata, timescale: timescale, width: width, height: height,
                               sampleAspectRatio: sar, codecString: config.codecString)
        case "hvc1", "hev1":
            try b.skip(24)
            let width = Int(try b.u16()), height = Int(try b.u16())
            try b.skip(50)
            var extradata: [UInt8] = []
            while extradata.isEmpty, let child = try b.next() {
                if child.type == "hvcC" { extradata = child.body.bytes() }
            }
            let config = try HEVC.Configuration(record: extradata)
            return TrackFormat(kind: .video, codec: "hevc", extradata: extradata, timescale: timescale, width: width, height: height,
                               codecString: config.codecString)
        case "mp4a":
            try b.skip(16)
            let channels = Int(try b.u16())
            try b.skip(6)
            let sampleRate = Int(try b.u32() >> 16)
            var asc: [UInt8] = []
            while asc.isEmpty, let child = try b.next() {
                if child.type == "esds" { asc = try readESDS(child.body) }
            }
            guard !asc.isEmpty else { return nil }
            let config = try AAC.Config(asc)
            return TrackFormat(kind: .audio, codec: "aac", extradata: asc, timescale: timescale, sampleRate: config.sampleRate > 0 ? config.sampleRate : sampleRate,
                               channels: config.channelConfiguration > 0 ? config.channelConfiguration : channels, codecString: config.codecString)
        default:
            return nil
        }
    }

    /// Finds the DecoderSpecificInfo (tag 5) inside an `esds` box.
    private static func readESDS(_ body: BoxReader) throws -> [UInt8] {
        let bytes = body.bytes()
        var index = 4
        func length() -> Int? {
            var value = 0
            for _ in 0..<4 {
                guard index < bytes.count else { return nil }
                let byte = bytes[index]; index += 1
                value = value << 7 | Int(byte & 0x7F)
                if byte & 0x80 == 0 { return value }
            }
            return value
        }
        while index < bytes.count {
            let tag = bytes[index]; index += 1
            guard let size = length() else { return [] }
            switch tag {
            case 3: index += 3 // ES_ID and flags (no optional fields from common muxers)
            case 4: index += 13
            case 5:
                guard index + size <= bytes.count else { return [] }
                return Array(bytes[index..<(index + size)])
            default: index += size
            }
        }
        return []
    }
}

/// Reads ISO BMFF boxes from a byte range, checking every size against the bounds.
struct BoxReader: Sendable {
    struct Box {
        var type: String
        var body: BoxReader
    }

    let data: Data
    var position: Int
    let end: Int
    let path: String

    init(data: Data, range: Range<Int>, path: String) {
        self.data = data
        self.position = range.lowerBound
        self.end = range.upperBound
        self.path = path
    }

    var remaining: Int { end - position }

    private func truncated(_ what: String) -> VideoStackError {
        VideoStackError(.corrupt, "The MP4 box '\(path)' is truncated while reading \(what); the file is damaged or cut short.")
    }

    mutating func next() throws -> Box? {
        guard remaining >= 8 else { return nil }
        var size = Int(try u32())
        let type = try fourCC()
        var header = 8
        if size == 1 {
            size = Int(clamping: try u64())
            header = 16
        } else if size == 0 {
            size = end - position + 8
        }
        let start = position - header
        guard size >= header, size <= end - start else {
            throw VideoStackError(.corrupt, "The MP4 box '\(path)/\(type)' claims \(size) bytes but only \(end - start) remain; the file is damaged or cut short.")
        }
        position = start + size
        return Box(type: type, body: BoxReader(data: data, range: (start + header)..<(start + size), path: path + "/" + type))
    }

    mutating func skip(_ count: Int) throws {
        guard count <= remaining else { throw truncated("\(count) bytes") }
        position += count
    }

    mutating func u8() throws -> UInt8 {
        guard remaining >= 1 else { throw truncated("a byte") }
        defer { position += 1 }
        return data[data.startIndex + position]
    }

    mutating func u16() throws -> UInt16 { UInt16(try u8()) << 8 | UInt16(try u8()) }

    mutating func u32() throws -> UInt32 {
        guard remaining >= 4 else { throw truncated("a 32-bit field") }
        let base = data.startIndex + position
        position += 4
        return UInt32(data[base]) << 24 | UInt32(data[base + 1]) << 16 | UInt32(data[base + 2]) << 8 | UInt32(data[base + 3])
    }

    mutating func u64() throws -> UInt64 { UInt64(try u32()) << 32 | UInt64(try u32()) }

    mutating func fourCC() throws -> String {
        let value = try u32()
        return String(decoding: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)], as: UTF8.self)
    }

    /// Number of table entries that follow, checked against the bytes left.
    mutating func count(entrySize: Int) throws -> Int {
        let count = Int(try u32())
        guard count * entrySize <= remaining else { throw truncated("a table of \(count) entries") }
        return count
    }

    func bytes() -> [UInt8] { [UInt8](data[(data.startIndex + position)..<(data.startIndex + end)]) }
}
