import VideoCore

/// The decoder configuration of one track, read from its `TrackFormat` (and first keyframe).
enum CodecConfiguration: Equatable {
    case h264(H264.Configuration)
    case hevc(HEVC.Configuration)
    case aac(AAC.Config, audioSpecificConfig: [UInt8])

    var codecString: String {
        switch self {
        case .h264(let configuration): configuration.codecString
        case .hevc(let configuration): configuration.codecString
        case .aac(let config, _): config.codecString
        }
    }

    /// Reads the configuration of `format`; H.264 without extradata falls back to the SPS/PPS of `firstKeyframe`.
    init(format: TrackFormat, firstKeyframe: [UInt8]?) throws {
        switch format.codec {
        case "h264":
            self = .h264(try H264.Configuration(extradata: format.extradata, firstKeyframe: firstKeyframe))
        case "hevc":
            self = .hevc(try HEVC.Configuration(record: format.extradata))
        case "aac":
            if format.extradata.isEmpty {
                // Raw ADTS input carries its configuration in every frame header.
                if let first = firstKeyframe, let adts = AAC.parseADTS(first[...]) {
                    self = .aac(adts.config, audioSpecificConfig: adts.config.bytes)
                    return
                }
                let config = try AAC.Config(objectType: 2, sampleRate: format.sampleRate, channels: format.channels)
                self = .aac(config, audioSpecificConfig: config.bytes)
            } else {
                self = .aac(try AAC.Config(format.extradata), audioSpecificConfig: format.extradata)
            }
        default:
            throw VideoStackError(.unsupported, "The packager handles H.264 or HEVC video and AAC audio; this track's codec is '\(format.codec)'. Transcode it to H.264/AAC first.")
        }
    }
}

/// One sample of a fragment, its bytes already in MP4 form (length-prefixed NAL units, raw AAC).
struct FragmentSample {
    var data: [UInt8]
    /// In the track's timescale.
    var duration: UInt32
    /// Presentation minus decode time, in the track's timescale (negative allowed: `trun` version 1).
    var compositionOffset: Int32
    var isSync: Bool
}

/// The samples of one track inside one fragment.
struct TrackRun {
    var trackID: UInt32
    /// Decode time of the first sample, in the track's timescale (`tfdt`).
    var baseDecodeTime: UInt64
    var samples: [FragmentSample]
    var isVideo: Bool
}

/// Writes CMAF / fragmented MP4: the init segment (`ftyp` + `moov` with `mvex`) and media fragments (`moof` + `mdat`).
enum FMP4Writer {
    static func initSegment(tracks: [(id: UInt32, format: TrackFormat, codec: CodecConfiguration)]) -> [UInt8] {
        var w = ByteWriter(capacity: 1024)
        w.box("ftyp") { w in
            w.fourCC("iso6")
            w.u32(0)
            w.fourCC("iso6")
            if tracks.count == 1 { w.fourCC("cmfc") }
            w.fourCC("mp41")
        }
        w.box("moov") { w in
            w.fullBox("mvhd", version: 0, flags: 0) { w in
                w.u32(0); w.u32(0) // creation, modification
                w.u32(1000)
                w.u32(0) // duration unknown: fragments carry the media
                w.u32(0x0001_0000) // rate 1.0
                w.u16(0x0100) // volume 1.0
                w.zeros(10)
                writeMatrix(&w)
                w.zeros(24)
                w.u32((tracks.map(\.id).max() ?? 0) + 1)
            }
            for track in tracks {
                writeTrack(&w, id: track.id, format: track.format, codec: track.codec)
            }
            w.box("mvex") { w in
                for track in tracks {
                    w.fullBox("trex", version: 0, flags: 0) { w in
                        w.u32(track.id)
                        w.u32(1) // sample description index
                        w.u32(0); w.u32(0); w.u32(0)
                    }
                }
            }
        }
        return w.bytes
    }

    private static func writeMatrix(_ w: inout ByteWriter) {
        for value: UInt32 in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] { w.u32(value) }
    }

    private static func writeTrack(_ w: inout ByteWriter, id: UInt32, format: TrackFormat, codec: CodecConfiguration) {
        let isVideo = format.kind == .video
        w.box("trak") { w in
            w.fullBox("tkhd", version: 0, flags: 3) { w in
                w.u32(0); w.u32(0)
                w.u32(id)
                w.u32(0)
                w.u32(0) // duration
                w.zeros(8)
                w.u16(0) // layer
                w.u16(isVideo ? 0 : 1) // alternate group
                w.u16(isVideo ? 0 : 0x0100)
                w.u16(0)
                writeMatrix(&w)
                if isVideo {
                    let sar = format.sampleAspectRatio
                    let displayWidth = sar.numerator > 0 && sar.denominator > 0 ? format.width * sar.numerator / sar.denominator : format.width
                    w.u32(UInt32(displayWidth) << 16)
                    w.u32(UInt32(format.height) << 16)
                } else {
                    w.u32(0); w.u32(0)
                }
            }
            w.box("mdia") { w in
                w.fullBox("mdhd", version: 0, flags: 0) { w in
                    w.u32(0); w.u32(0)
                    w.u32(UInt32(format.timescale))
                    w.u32(0)
                    w.u16(0x55C4) // 'und'
                    w.u16(0)
                }
                w.fullBox("hdlr", version: 0, flags: 0) { w in
                    w.u32(0)
                    if isVideo { w.fourCC("vide") } else { w.fourCC("soun") }
                    w.zeros(12)
                    if isVideo { w.append(Array("VideoHandler".utf8)) } else { w.append(Array("SoundHandler".utf8)) }
                    w.u8(0)
                }
                w.box("minf") { w in
                    if isVideo {
                        w.fullBox("vmhd", version: 0, flags: 1) { w in w.zeros(8) }
                    } else {
                        w.fullBox("smhd", version: 0, flags: 0) { w in w.zeros(4) }
                    }
                    w.box("dinf") { w in
                        w.fullBox("dref", version: 0, flags: 0) { w in
                            w.u32(1)
                            w.fullBox("url ", version: 0, flags: 1) { _ in }
                        }
                    }
                    w.box("stbl") { w in
                        w.fullBox("stsd", version: 0, flags: 0) { w in
                            w.u32(1)
                            writeSampleEntry(&w, format: format, codec: codec)
                        }
                        w.fullBox("stts", version: 0, flags: 0) { w in w.u32(0) }
                        w.fullBox("stsc", version: 0, flags: 0) { w in w.u32(0) }
                        w.fullBox("stsz", version: 0, flags: 0) { w in w.u32(0); w.u32(0) }
                        w.fullBox("stco", version: 0, flags: 0) { w in w.u32(0) }
                    }
                }
            }
        }
    }

    private static func writeSampleEntry(_ w: inout ByteWriter, format: TrackFormat, codec: CodecConfiguration) {
        switch codec {
        case .hevc(let configuration):
            w.box("hvc1") { w in
                writeVisualSampleEntryFields(&w, format: format)
                w.box("hvcC") { w in w.append(configuration.record) }
                writePixelAspect(&w, format: format)
            }
        case .h264(let configuration):
            w.box("avc1") { w in
                writeVisualSampleEntryFields(&w, format: format)
                w.box("avcC") { w in w.append(configuration.record) }
                writePixelAspect(&w, format: format)
            }
        case .aac(let config, let audioSpecificConfig):
            w.box("mp4a") { w in
                w.zeros(6)
                w.u16(1)
                w.zeros(8)
                w.u16(UInt16(clamping: max(config.channelConfiguration, format.channels, 1)))
                w.u16(16)
                w.u16(0); w.u16(0)
                w.u32(UInt32(min(config.sampleRate, 65535)) << 16)
                w.fullBox("esds", version: 0, flags: 0) { w in
                    let decoderSpecific = descriptor(tag: 5, audioSpecificConfig)
                    var decoderConfig: [UInt8] = [0x40, 0x15, 0, 0, 0]
                    let bitRate = UInt32(clamping: max(format.bitRate, 0))
                    for shift: UInt32 in [24, 16, 8, 0] { decoderConfig.append(UInt8(truncatingIfNeeded: bitRate >> shift)) }
                    for shift: UInt32 in [24, 16, 8, 0] { decoderConfig.append(UInt8(truncatingIfNeeded: bitRate >> shift)) }
                    let esBody: [UInt8] = [0, 0, 0] + descriptor(tag: 4, decoderConfig + decoderSpecific) + descriptor(tag: 6, [2])
                    w.append(descriptor(tag: 3, esBody))
                }
            }
        }
    }

    private static func writeVisualSampleEntryFields(_ w: inout ByteWriter, format: TrackFormat) {
        w.zeros(6)
        w.u16(1) // data reference index
        w.zeros(16)
        w.u16(UInt16(clamping: format.width))
        w.u16(UInt16(clamping: format.height))
        w.u32(0x0048_0000); w.u32(0x0048_0000) // 72 dpi
        w.u32(0)
        w.u16(1) // frames per sample
        w.zeros(32) // compressor name
        w.u16(0x0018)
        w.u16(0xFFFF)
    }

    private static func writePixelAspect(_ w: inout ByteWriter, format: TrackFormat) {
        let sar = format.sampleAspectRatio
        if sar.numerator > 0, sar.denominator > 0, sar.numerator != sar.denominator {
            w.box("pasp") { w in w.u32(UInt32(sar.numerator)); w.u32(UInt32(sar.denominator)) }
        }
    }

    /// An MPEG-4 descriptor: tag, then the length in 7-bit groups, then the body.
    private static func descriptor(tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        var length = body.count
        var lengthBytes: [UInt8] = [UInt8(length & 0x7F)]
        length >>= 7
        while length > 0 {
            lengthBytes.insert(UInt8(length & 0x7F) | 0x80, at: 0)
            length >>= 7
        }
        return [tag] + lengthBytes + body
    }

    /// One `moof` + `mdat` holding `runs`; returns the bytes.
    static func fragment(sequence: UInt32, runs: [TrackRun]) -> [UInt8] {
        let payload = runs.reduce(0) { total, run in total + run.samples.reduce(0) { $0 + $1.data.count } }
        var w = ByteWriter(capacity: payload + 200 + runs.reduce(0) { $0 + 16 * $1.samples.count })
        var dataOffsetPositions: [Int] = []
        w.box("moof") { w in
            w.fullBox("mfhd", version: 0, flags: 0) { w in w.u32(sequence) }
            for run in runs {
                w.box("traf") { w in
                    w.fullBox("tfhd", version: 0, flags: 0x02_0000) { w in w.u32(run.trackID) }
                    w.fullBox("tfdt", version: 1, flags: 0) { w in w.u64(run.baseDecodeTime) }
                    let flags: UInt32 = 0x01 | 0x100 | 0x200 | 0x400 | (run.isVideo ? 0x800 : 0)
                    w.fullBox("trun", version: 1, flags: flags) { w in
                        w.u32(UInt32(run.samples.count))
                        dataOffsetPositions.append(w.count)
                        w.i32(0)
                        for sample in run.samples {
                            w.u32(sample.duration)
                            w.u32(UInt32(sample.data.count))
                            w.u32(sample.isSync ? 0x0200_0000 : 0x0101_0000)
                            if run.isVideo { w.i32(sample.compositionOffset) }
                        }
                    }
                }
            }
        }
        let moofSize = w.count
        var offset = moofSize + 8
        for (index, run) in runs.enumerated() {
            w.patchU32(at: dataOffsetPositions[index], UInt32(offset))
            offset += run.samples.reduce(0) { $0 + $1.data.count }
        }
        w.u32(UInt32(8 + payload))
        w.fourCC("mdat")
        for run in runs {
            for sample in run.samples { w.append(sample.data) }
        }
        return w.bytes
    }
}
