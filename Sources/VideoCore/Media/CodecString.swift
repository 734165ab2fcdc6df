/// RFC 6381 codec strings (the `CODECS` of HLS), derived from the streams' own configuration
/// records. The transcoder, the demuxer and the HLS packager all name codecs through these.
package enum CodecString {
    /// `avc1.PPCCLL`: profile, constraint flags and level, as the SPS and the `avcC` record carry them.
    package static func avc(profile: UInt8, constraints: UInt8, level: UInt8) -> String {
        "avc1." + [profile, constraints, level].map(hex).joined()
    }

    /// `avc1.PPCCLL` from H.264 extradata, either an `avcC` record or Annex B SPS/PPS; nil
    /// without a sequence parameter set.
    package static func avc(_ extradata: [UInt8]) -> String? {
        if extradata.first == 1, extradata.count >= 4 {
            return avc(profile: extradata[1], constraints: extradata[2], level: extradata[3])
        }
        var index = 0
        while index + 4 < extradata.count {
            // A start code (00 00 01) followed by a NAL unit of type 7, the sequence parameter set.
            if extradata[index] == 0, extradata[index + 1] == 0, extradata[index + 2] == 1 {
                if extradata[index + 3] & 0x1F == 7, index + 7 <= extradata.count {
                    return avc(profile: extradata[index + 4], constraints: extradata[index + 5], level: extradata[index + 6])
                }
                index += 3
            } else {
                index += 1
            }
        }
        return nil
    }

    /// `mp4a.40.N` with N the MPEG-4 audio object type (2 for AAC-LC).
    package static func aac(objectType: Int) -> String {
        "mp4a.40.\(objectType)"
    }

    /// `mp4a.40.N` from an AudioSpecificConfig. Object type 31 is an escape: the real type is 32
    /// plus the next six bits. Empty or zero configurations are taken as AAC-LC.
    package static func aac(_ extradata: [UInt8]) -> String {
        guard let first = extradata.first else { return aac(objectType: 2) }
        var objectType = Int(first >> 3)
        if objectType == 31, extradata.count >= 2 {
            objectType = 32 + (Int(first & 0x07) << 3 | Int(extradata[1] >> 5))
        }
        return aac(objectType: objectType == 0 ? 2 : objectType)
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }
}
