import VideoCore

/// AAC helpers: the AudioSpecificConfig and ADTS headers.
enum AAC {
    static let sampleRates = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]

    /// What an AudioSpecificConfig says.
    struct Config: Equatable {
        /// MPEG-4 audio object type (2 = AAC-LC, 5 = SBR/HE-AAC, 29 = PS).
        var objectType: Int
        var sampleRateIndex: Int
        var sampleRate: Int
        var channelConfiguration: Int

        /// `mp4a.40.N` per RFC 6381.
        var codecString: String { CodecString.aac(objectType: objectType) }

        init(objectType: Int, sampleRate: Int, channels: Int) throws {
            guard let index = AAC.sampleRates.firstIndex(of: sampleRate) else {
                throw VideoStackError(.unsupported, "AAC at \(sampleRate) Hz has no standard sample-rate index; resample to 48000 or 44100 Hz.")
            }
            self.objectType = objectType
            self.sampleRateIndex = index
            self.sampleRate = sampleRate
            self.channelConfiguration = channels
        }

        /// Parses the first bytes of an AudioSpecificConfig (ISO 14496-3 1.6.2.1).
        init(_ data: [UInt8]) throws {
            var reader = BitReader(bytes: data)
            do {
                objectType = try reader.bits(5)
                if objectType == 31 { objectType = 32 + (try reader.bits(6)) }
                sampleRateIndex = try reader.bits(4)
                sampleRate = sampleRateIndex == 15 ? try reader.bits(24) : (sampleRateIndex < AAC.sampleRates.count ? AAC.sampleRates[sampleRateIndex] : 0)
                channelConfiguration = try reader.bits(4)
            } catch {
                throw VideoStackError(.invalidPackets, "The AAC AudioSpecificConfig in TrackFormat.extradata is too short (\(data.count) bytes); pass the encoder's extradata.")
            }
            guard sampleRate > 0, objectType > 0 else {
                throw VideoStackError(.invalidPackets, "The AAC AudioSpecificConfig names an invalid sample rate index \(sampleRateIndex) or object type \(objectType).")
            }
        }

        /// The two-byte AudioSpecificConfig for a plain (non-extended) configuration.
        var bytes: [UInt8] {
            let bits = objectType << 11 | sampleRateIndex << 7 | channelConfiguration << 3
            return [UInt8(bits >> 8), UInt8(bits & 0xFF)]
        }

        /// A 7-byte ADTS header for a raw frame of `payloadSize` bytes (for MPEG-TS).
        func adtsHeader(payloadSize: Int) -> [UInt8] {
            let length = payloadSize + 7
            // ADTS can only signal object types 1-4; HE-AAC is sent as LC with implicit SBR.
            let profile = min(max(objectType, 1), 4) - 1
            return [
                0xFF, 0xF1,
                UInt8(profile << 6 | sampleRateIndex << 2 | channelConfiguration >> 2),
                UInt8((channelConfiguration & 3) << 6 | length >> 11),
                UInt8((length >> 3) & 0xFF),
                UInt8((length & 7) << 5 | 0x1F),
                0xFC,
            ]
        }
    }

    /// Parses an ADTS header at the start of `data`: the config, header length and frame length; nil if none.
    static func parseADTS(_ data: ArraySlice<UInt8>) -> (config: Config, headerLength: Int, frameLength: Int)? {
        let d = Array(data.prefix(9))
        guard d.count >= 7, d[0] == 0xFF, d[1] & 0xF6 == 0xF0 else { return nil }
        let protectionAbsent = d[1] & 1
        let objectType = Int(d[2] >> 6) + 1
        let rateIndex = Int(d[2] >> 2) & 0xF
        let channels = Int(d[2] & 1) << 2 | Int(d[3] >> 6)
        let frameLength = Int(d[3] & 3) << 11 | Int(d[4]) << 3 | Int(d[5] >> 5)
        guard rateIndex < sampleRates.count, let config = try? Config(objectType: objectType, sampleRate: sampleRates[rateIndex], channels: channels) else { return nil }
        let headerLength = protectionAbsent == 1 ? 7 : 9
        guard frameLength >= headerLength else { return nil }
        return (config, headerLength, frameLength)
    }
}
