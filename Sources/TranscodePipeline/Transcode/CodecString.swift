/// RFC 6381 codec strings, derived from the streams' own configuration records.
enum CodecString {
    /// `avc1.PPCCLL` from H.264 extradata, either an `avcC` record or Annex B SPS/PPS.
    static func avc(_ extradata: [UInt8]) -> String? {
        var sps: ArraySlice<UInt8>?
        if extradata.first == 1, extradata.count >= 4 {
            sps = extradata[1..<4]
        } else {
            var index = 0
            while index + 4 < extradata.count {
                // A start code (00 00 01) followed by a NAL unit of type 7, the sequence parameter set.
                if extradata[index] == 0, extradata[index + 1] == 0, extradata[index + 2] == 1 {
                    if extradata[index + 3] & 0x1F == 7, index + 7 <= extradata.count {
                        sps = extradata[(index + 4)..<(index + 7)]
                        break
                    }
                    index += 3
                } else {
                    index += 1
                }
            }
        }
        guard let sps else { return nil }
        return "avc1." + sps.map { hex($0) }.joined()
    }

    /// `mp4a.40.N` with N the audio object type from an AudioSpecificConfig (2 for AAC-LC).
    /// Object type 31 is an escape: the real type is 32 plus the next six bits.
    static func aac(_ extradata: [UInt8]) -> String {
        guard let first = extradata.first else { return "mp4a.40.2" }
        var objectType = Int(first >> 3)
        if objectType == 31, extradata.count >= 2 {
            objectType = 32 + (Int(first & 0x07) << 3 | Int(extradata[1] >> 5))
        }
        return "mp4a.40.\(objectType == 0 ? 2 : objectType)"
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
