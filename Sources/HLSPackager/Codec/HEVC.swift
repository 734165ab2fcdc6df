import VideoCore

/// H.265/HEVC helpers for the remux path: the `hvcC` record and its RFC 6381 codec string.
enum HEVC {
    static let nalSPS: UInt8 = 33
    static let nalAUD: UInt8 = 35

    /// The NAL unit type of a unit's first header byte.
    static func type(_ firstByte: UInt8) -> UInt8 { (firstByte >> 1) & 0x3F }

    /// A parsed `HEVCDecoderConfigurationRecord`; the record itself is kept verbatim for the `hvcC` box.
    struct Configuration: Equatable {
        var record: [UInt8]
        var lengthSize: Int
        /// VPS, SPS and PPS units in record order (for Annex B output such as MPEG-TS).
        var parameterSets: [[UInt8]]

        init(record data: [UInt8]) throws {
            func bad() -> VideoStackError {
                VideoStackError(.invalidPackets, "The HEVC track's extradata is not a valid hvcC record (\(data.count) bytes); HEVC is packaged from MP4 or Matroska sources, which carry one.")
            }
            guard data.count >= 23, data[0] == 1 else { throw bad() }
            lengthSize = Int(data[21] & 3) + 1
            guard lengthSize != 3 else { throw bad() }
            var index = 23
            var sets: [[UInt8]] = []
            for _ in 0..<Int(data[22]) {
                guard index + 3 <= data.count else { throw bad() }
                let count = Int(data[index + 1]) << 8 | Int(data[index + 2])
                index += 3
                for _ in 0..<count {
                    guard index + 2 <= data.count else { throw bad() }
                    let length = Int(data[index]) << 8 | Int(data[index + 1])
                    index += 2
                    guard index + length <= data.count else { throw bad() }
                    sets.append(Array(data[index..<(index + length)]))
                    index += length
                }
            }
            guard sets.contains(where: { $0.first.map(HEVC.type) == HEVC.nalSPS }) else { throw bad() }
            record = data
            parameterSets = sets
        }

        /// `hvc1.P.C.TL.B…` per ISO 14496-15 annex E, e.g. `hvc1.1.6.L93.B0`.
        var codecString: String {
            let profileSpace = Int(record[1] >> 6)
            let tier = (record[1] >> 5) & 1
            let profile = Int(record[1] & 0x1F)
            var compatibility: UInt32 = 0
            for byte in record[2...5] { compatibility = compatibility << 8 | UInt32(byte) }
            // The flags are written bit-reversed.
            var reversed: UInt32 = 0
            for bit in 0..<32 where compatibility & (1 << UInt32(bit)) != 0 { reversed |= 1 << UInt32(31 - bit) }
            var constraints = Array(record[6...11])
            while constraints.last == 0 { constraints.removeLast() }
            var text = "hvc1." + (profileSpace > 0 ? String(UnicodeScalar(UInt8(64 + profileSpace))) : "") + "\(profile)"
            text += "." + String(reversed, radix: 16, uppercase: true)
            text += "." + (tier == 1 ? "H" : "L") + "\(record[12])"
            for byte in constraints { text += "." + String(byte, radix: 16, uppercase: true) }
            return text
        }
    }
}
