import VideoCore

/// H.264 bitstream helpers: NAL unit framing, the `avcC` record, and what the SPS says.
enum H264 {
    /// NAL unit types this package looks at.
    static let nalSPS: UInt8 = 7
    static let nalPPS: UInt8 = 8
    static let nalAUD: UInt8 = 9

    /// Whether `data` starts with an Annex B start code (00 00 01 or 00 00 00 01).
    static func isAnnexB(_ data: [UInt8]) -> Bool {
        data.count >= 3 && data[0] == 0 && data[1] == 0 && (data[2] == 1 || (data.count >= 4 && data[2] == 0 && data[3] == 1))
    }

    /// The NAL units of an Annex B buffer, without start codes (trailing zero bytes trimmed).
    static func annexBUnits(_ data: [UInt8]) -> [ArraySlice<UInt8>] {
        var units: [ArraySlice<UInt8>] = []
        data.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            var index = 0
            var start = -1
            while index + 2 < count {
                if buffer[index] == 0, buffer[index + 1] == 0, buffer[index + 2] == 1 {
                    if start >= 0 {
                        var end = index
                        while end > start, buffer[end - 1] == 0 { end -= 1 }
                        if end > start { units.append(data[start..<end]) }
                    }
                    index += 3
                    start = index
                } else if buffer[index + 2] > 1 {
                    // No start code can begin at index+1 or index+2 either.
                    index += 3
                } else {
                    index += 1
                }
            }
            if start >= 0, start < count { units.append(data[start..<count]) }
        }
        return units
    }

    /// The NAL units of a length-prefixed buffer (`lengthSize` bytes big-endian per unit); nil if the lengths do not add up.
    static func lengthPrefixedUnits(_ data: [UInt8], lengthSize: Int) -> [ArraySlice<UInt8>]? {
        var units: [ArraySlice<UInt8>] = []
        var index = 0
        while index < data.count {
            guard index + lengthSize <= data.count else { return nil }
            var length = 0
            for byte in data[index..<(index + lengthSize)] { length = length << 8 | Int(byte) }
            index += lengthSize
            guard length > 0, index + length <= data.count else { return nil }
            units.append(data[index..<(index + length)])
            index += length
        }
        return units
    }

    /// Converts one access unit to 4-byte length-prefixed NAL units (the `avcC`/MP4 form), dropping
    /// access unit delimiters, which MP4 samples must not carry.
    static func toLengthPrefixed(_ data: [UInt8]) -> [UInt8] {
        guard isAnnexB(data) else { return data }
        let units = annexBUnits(data)
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 4 * units.count)
        for unit in units where unit.first.map({ $0 & 0x1F }) != nalAUD {
            let length = UInt32(unit.count)
            out.append(UInt8(length >> 24)); out.append(UInt8(truncatingIfNeeded: length >> 16))
            out.append(UInt8(truncatingIfNeeded: length >> 8)); out.append(UInt8(truncatingIfNeeded: length))
            out.append(contentsOf: unit)
        }
        return out
    }

    /// A parsed `AVCDecoderConfigurationRecord`.
    struct Configuration: Equatable {
        var sps: [[UInt8]]
        var pps: [[UInt8]]
        var lengthSize: Int

        /// `avc1.PPCCLL` from the first SPS (profile, constraint flags, level).
        var codecString: String {
            CodecString.avc(profile: sps[0][1], constraints: sps[0][2], level: sps[0][3])
        }

        /// The record's bytes, for an `avcC` box.
        var record: [UInt8] {
            let first = sps[0]
            var out: [UInt8] = [1, first[1], first[2], first[3], 0xFC | UInt8(lengthSize - 1), 0xE0 | UInt8(sps.count)]
            for unit in sps {
                out += [UInt8(unit.count >> 8), UInt8(unit.count & 0xFF)] + unit
            }
            out.append(UInt8(pps.count))
            for unit in pps {
                out += [UInt8(unit.count >> 8), UInt8(unit.count & 0xFF)] + unit
            }
            // High profiles carry chroma format and bit depths; decoders expect them.
            if [100, 110, 122, 144].contains(first[1]), let info = try? SequenceParameterSet(first) {
                out += [0xFC | UInt8(info.chromaFormat & 3), 0xF8 | UInt8((info.bitDepthLuma - 8) & 7),
                        0xF8 | UInt8((info.bitDepthChroma - 8) & 7), 0]
            }
            return out
        }

        /// Reads the configuration from `extradata` (an `avcC` record or Annex B SPS/PPS), or,
        /// when there is none, from the SPS/PPS in the first keyframe.
        init(extradata: [UInt8], firstKeyframe: [UInt8]?) throws {
            if let first = extradata.first, first == 1, extradata.count >= 7 {
                try self.init(record: extradata)
                return
            }
            var sps: [[UInt8]] = [], pps: [[UInt8]] = []
            let sources = [extradata] + (firstKeyframe.map { [$0] } ?? [])
            for source in sources where !source.isEmpty {
                let units = isAnnexB(source) ? annexBUnits(source) : (lengthPrefixedUnits(source, lengthSize: 4) ?? [])
                for unit in units {
                    switch unit.first.map({ $0 & 0x1F }) {
                    case nalSPS?: if !sps.contains(Array(unit)) { sps.append(Array(unit)) }
                    case nalPPS?: if !pps.contains(Array(unit)) { pps.append(Array(unit)) }
                    default: break
                    }
                }
                if !sps.isEmpty && !pps.isEmpty { break }
            }
            guard let first = sps.first, first.count >= 4, !pps.isEmpty else {
                throw VideoStackError(.invalidPackets, "The H.264 track has no SPS/PPS: its extradata is empty or unreadable and the first keyframe carries none. Pass the encoder's extradata in TrackFormat.extradata.")
            }
            self.init(sps: sps, pps: pps, lengthSize: 4)
        }

        init(sps: [[UInt8]], pps: [[UInt8]], lengthSize: Int) {
            self.sps = sps
            self.pps = pps
            self.lengthSize = lengthSize
        }

        init(record data: [UInt8]) throws {
            func bad() -> VideoStackError {
                VideoStackError(.invalidPackets, "The H.264 avcC record in TrackFormat.extradata is truncated or malformed (\(data.count) bytes).")
            }
            guard data.count >= 7 else { throw bad() }
            lengthSize = Int(data[4] & 3) + 1
            var index = 5
            func take(_ count: Int) throws -> [UInt8] {
                guard index + count <= data.count else { throw bad() }
                defer { index += count }
                return Array(data[index..<(index + count)])
            }
            func sets(_ count: Int) throws -> [[UInt8]] {
                var out: [[UInt8]] = []
                for _ in 0..<count {
                    let size = try take(2)
                    out.append(try take(Int(size[0]) << 8 | Int(size[1])))
                }
                return out
            }
            index = 6
            sps = try sets(Int(data[5] & 0x1F))
            let ppsCount = try take(1)[0]
            pps = try sets(Int(ppsCount))
            guard let first = sps.first, first.count >= 4, !pps.isEmpty, lengthSize != 3 else { throw bad() }
        }
    }

    /// What an SPS says about the picture.
    struct SequenceParameterSet {
        var profile: Int
        var chromaFormat = 1
        var bitDepthLuma = 8
        var bitDepthChroma = 8
        var width = 0
        var height = 0

        init(_ nal: [UInt8]) throws {
            var reader = BitReader(unescaping: Array(nal.dropFirst()))
            profile = try reader.bits(8)
            _ = try reader.bits(16) // constraint flags and level
            _ = try reader.golomb() // seq_parameter_set_id
            if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(profile) {
                chromaFormat = try reader.golomb()
                if chromaFormat == 3 { _ = try reader.bits(1) }
                bitDepthLuma = try reader.golomb() + 8
                bitDepthChroma = try reader.golomb() + 8
                _ = try reader.bits(1) // transform bypass
                if try reader.bits(1) == 1 {
                    for list in 0..<(chromaFormat == 3 ? 12 : 8) where try reader.bits(1) == 1 {
                        var last = 8, next = 8
                        for _ in 0..<(list < 6 ? 16 : 64) where next != 0 {
                            next = (last + (try reader.signedGolomb()) + 256) % 256
                            last = next == 0 ? last : next
                        }
                    }
                }
            }
            _ = try reader.golomb() // log2_max_frame_num
            let pocType = try reader.golomb()
            if pocType == 0 {
                _ = try reader.golomb()
            } else if pocType == 1 {
                _ = try reader.bits(1)
                _ = try reader.signedGolomb()
                _ = try reader.signedGolomb()
                let cycle = try reader.golomb()
                guard cycle < 256 else { throw BitReader.Overrun() }
                for _ in 0..<cycle { _ = try reader.signedGolomb() }
            }
            _ = try reader.golomb() // max_num_ref_frames
            _ = try reader.bits(1)
            let widthMBs = try reader.golomb() + 1
            let heightMapUnits = try reader.golomb() + 1
            let frameMBsOnly = try reader.bits(1)
            if frameMBsOnly == 0 { _ = try reader.bits(1) }
            _ = try reader.bits(1)
            var cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0
            if try reader.bits(1) == 1 {
                cropLeft = try reader.golomb(); cropRight = try reader.golomb()
                cropTop = try reader.golomb(); cropBottom = try reader.golomb()
            }
            let subWidth = chromaFormat == 1 || chromaFormat == 2 ? 2 : 1
            let subHeight = chromaFormat == 1 ? 2 : 1
            let cropUnitX = chromaFormat == 0 ? 1 : subWidth
            let cropUnitY = (chromaFormat == 0 ? 1 : subHeight) * (2 - frameMBsOnly)
            width = widthMBs * 16 - cropUnitX * (cropLeft + cropRight)
            height = (2 - frameMBsOnly) * heightMapUnits * 16 - cropUnitY * (cropTop + cropBottom)
        }
    }
}

/// Reads bits (MSB first) from an RBSP, with emulation-prevention bytes removed.
struct BitReader {
    struct Overrun: Error {}

    let bytes: [UInt8]
    var position = 0

    init(unescaping data: [UInt8]) {
        var out: [UInt8] = []
        out.reserveCapacity(data.count)
        var zeros = 0
        for byte in data {
            if zeros >= 2 && byte == 3 {
                zeros = 0
                continue
            }
            zeros = byte == 0 ? zeros + 1 : 0
            out.append(byte)
        }
        bytes = out
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func bits(_ count: Int) throws -> Int {
        var value = 0
        for _ in 0..<count {
            guard position < bytes.count * 8 else { throw Overrun() }
            value = value << 1 | Int(bytes[position >> 3] >> (7 - UInt8(position & 7)) & 1)
            position += 1
        }
        return value
    }

    mutating func golomb() throws -> Int {
        var zeros = 0
        while try bits(1) == 0 {
            zeros += 1
            guard zeros < 32 else { throw Overrun() }
        }
        return (1 << zeros) - 1 + (try bits(zeros))
    }

    mutating func signedGolomb() throws -> Int {
        let code = try golomb()
        return code & 1 == 1 ? (code + 1) / 2 : -(code / 2)
    }
}
