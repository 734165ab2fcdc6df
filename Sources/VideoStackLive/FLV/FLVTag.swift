internal import VideoCore

/// The body of one FLV video or audio tag (an RTMP video or audio message), parsed.
///
/// RTMP carries media as FLV tag bodies: H.264 as an AVC sequence header (the
/// `AVCDecoderConfigurationRecord`) followed by length-prefixed NAL units with a composition-time
/// offset; AAC as a sequence header (the `AudioSpecificConfig`) followed by raw frames.
public enum FLVTag: Sendable, Equatable {
    /// An AVC sequence header: the `avcC` record.
    case avcSequenceHeader([UInt8])
    /// One H.264 access unit: length-prefixed NAL units, the composition time offset in milliseconds.
    case avcFrame(data: [UInt8], compositionTime: Int32, isKeyframe: Bool)
    /// End of the AVC sequence, or a video info/command frame: nothing to decode.
    case videoControl
    /// An AAC sequence header: the `AudioSpecificConfig`.
    case aacSequenceHeader([UInt8])
    /// One raw AAC frame.
    case aacFrame([UInt8])

    /// FLV video codec ids (FLV specification, `CodecID`).
    static let videoCodecNames: [UInt8: String] = [
        1: "JPEG", 2: "Sorenson H.263", 3: "Screen video", 4: "On2 VP6", 5: "On2 VP6 with alpha",
        6: "Screen video 2", 7: "AVC (H.264)", 12: "HEVC",
    ]
    /// FLV audio formats (`SoundFormat`).
    static let audioFormatNames: [UInt8: String] = [
        0: "linear PCM", 1: "ADPCM", 2: "MP3", 3: "linear PCM (little-endian)", 4: "Nellymoser 16 kHz",
        5: "Nellymoser 8 kHz", 6: "Nellymoser", 7: "G.711 A-law", 8: "G.711 mu-law", 10: "AAC", 11: "Speex",
        14: "MP3 8 kHz", 15: "device-specific",
    ]

    /// Parses a video tag body. Throws ``VideoStackError/Code/unsupported`` for codecs other than
    /// H.264 (naming the codec) and ``VideoStackError/Code/corrupt`` for a truncated body.
    public static func video(_ body: [UInt8]) throws -> FLVTag {
        guard let first = body.first else {
            throw VideoStackError(.corrupt, "An empty video message arrived; an FLV video tag has at least a one-byte header.")
        }
        if first & 0x80 != 0 {
            let fourCC = body.count >= 5 ? String(decoding: body[1..<5], as: UTF8.self) : "?"
            throw VideoStackError(.unsupported, "The publisher sends Enhanced RTMP video ('\(fourCC)'); this server ingests H.264 in classic FLV. Set the encoder to H.264 (x264).")
        }
        let frameType = first >> 4
        let codec = first & 0x0F
        guard codec == 7 else {
            let name = videoCodecNames[codec] ?? "codec id \(codec)"
            throw VideoStackError(.unsupported, "The publisher sends \(name) video; this server ingests H.264 only. Set the encoder to H.264 (for ffmpeg: -c:v libx264).")
        }
        if frameType == 5 { return .videoControl }
        guard body.count >= 5 else {
            throw VideoStackError(.corrupt, "An AVC video tag of \(body.count) bytes is shorter than its 5-byte header.")
        }
        let raw = UInt32(body[2]) << 16 | UInt32(body[3]) << 8 | UInt32(body[4])
        let composition = Int32(bitPattern: raw << 8) >> 8  // signed 24 bits
        switch body[1] {
        case 0:
            let record = Array(body[5...])
            guard record.count >= 7, record[0] == 1 else {
                throw VideoStackError(.corrupt, "The AVC sequence header is not an AVCDecoderConfigurationRecord (\(record.count) bytes, version \(record.first.map(String.init) ?? "none")).")
            }
            return .avcSequenceHeader(record)
        case 1:
            return .avcFrame(data: Array(body[5...]), compositionTime: composition, isKeyframe: frameType == 1)
        case 2:
            return .videoControl
        default:
            throw VideoStackError(.corrupt, "AVC packet type \(body[1]) is not one of 0 (sequence header), 1 (NAL units), 2 (end of sequence).")
        }
    }

    /// Parses an audio tag body. Throws ``VideoStackError/Code/unsupported`` for formats other
    /// than AAC and ``VideoStackError/Code/corrupt`` for a truncated body.
    public static func audio(_ body: [UInt8]) throws -> FLVTag {
        guard let first = body.first else {
            throw VideoStackError(.corrupt, "An empty audio message arrived; an FLV audio tag has at least a one-byte header.")
        }
        let format = first >> 4
        guard format == 10 else {
            let name = audioFormatNames[format] ?? "sound format \(format)"
            throw VideoStackError(.unsupported, "The publisher sends \(name) audio; this server ingests AAC only. Set the encoder to AAC (for ffmpeg: -c:a aac).")
        }
        guard body.count >= 2 else {
            throw VideoStackError(.corrupt, "An AAC audio tag of \(body.count) byte is shorter than its 2-byte header.")
        }
        if body[1] == 0 {
            let config = Array(body[2...])
            guard config.count >= 2 else {
                throw VideoStackError(.corrupt, "The AAC sequence header holds \(config.count) bytes; an AudioSpecificConfig has at least 2.")
            }
            return .aacSequenceHeader(config)
        }
        return .aacFrame(Array(body[2...]))
    }
}

/// What an AudioSpecificConfig says (ISO 14496-3 1.6.2.1), as far as packaging needs.
struct AudioSpecificConfig: Sendable, Equatable {
    var objectType: Int
    var sampleRate: Int
    var channels: Int

    static let rates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 2 else { throw VideoStackError(.corrupt, "An AudioSpecificConfig needs 2 bytes; got \(bytes.count).") }
        var bits = BitCursor(bytes)
        var type = bits.read(5)
        if type == 31 { type = 32 + bits.read(6) }
        let index = bits.read(4)
        let rate: Int
        if index == 15 {
            guard bytes.count >= 5 else { throw VideoStackError(.corrupt, "The AudioSpecificConfig gives an explicit sample rate but is too short.") }
            rate = bits.read(24)
        } else {
            guard index < AudioSpecificConfig.rates.count else {
                throw VideoStackError(.corrupt, "The AudioSpecificConfig names sample-rate index \(index), which is reserved.")
            }
            rate = AudioSpecificConfig.rates[index]
        }
        let channels = bits.read(4)
        guard rate > 0 else { throw VideoStackError(.corrupt, "The AudioSpecificConfig gives a sample rate of 0.") }
        objectType = type
        sampleRate = rate
        // Channel configuration 0 means "in the program config element": stereo in practice.
        self.channels = channels == 0 ? 2 : channels
    }

    /// The RFC 6381 codec string, `mp4a.40.<object type>`.
    var codecString: String { "mp4a.40.\(objectType)" }
}

struct BitCursor {
    let bytes: [UInt8]
    var bit = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    mutating func read(_ count: Int) -> Int {
        var value = 0
        for _ in 0..<count {
            let byte = bit / 8 < bytes.count ? bytes[bit / 8] : 0
            value = value << 1 | Int(byte >> (7 - UInt8(bit % 8)) & 1)
            bit += 1
        }
        return value
    }
}
