import VideoCore

/// Writes MPEG-2 transport stream segments (ISO 13818-1): PAT and PMT at the start of each
/// segment, H.264 as Annex B with access unit delimiters (and SPS/PPS before keyframes), AAC as ADTS.
///
/// Not thread-safe: continuity counters carry across segments, so one rendition owns one muxer.
final class TSMuxer {
    static let packetSize = 188
    static let pmtPID: UInt16 = 0x1000
    /// Added to every timestamp so the PCR, which runs ahead of decoding, never goes below zero.
    static let timestampOffset: Int64 = 126_000
    static let pcrLead: Int64 = 63_000

    let formats: [TrackFormat]
    let pids: [UInt16]
    let leader: Int
    private var continuity: [UInt16: UInt8] = [:]
    /// PIDs that already carried a packet in the segment being written.
    private var startedPIDs: Set<UInt16> = []

    init(formats: [TrackFormat]) {
        self.formats = formats
        self.pids = formats.indices.map { UInt16(0x100 + $0) }
        self.leader = formats.firstIndex { $0.kind == .video } ?? 0
    }

    /// One segment from per-track samples (decode times in each track's timescale). Returns the
    /// bytes and, when `iFrame`, the length of the prefix holding PAT, PMT and the leading keyframe.
    func segment(_ runs: [(track: Int, base: UInt64, samples: [FragmentSample])], codecs: [CodecConfiguration?], iFrame: Bool) -> ([UInt8], Int?) {
        var out: [UInt8] = []
        out.reserveCapacity(runs.reduce(0) { $0 + $1.samples.reduce(0) { $0 + $1.data.count } } * 21 / 20 + 2 * 188)
        startedPIDs = []
        writeSection(&out, pid: 0, section: patSection())
        writeSection(&out, pid: Self.pmtPID, section: pmtSection())

        // Every sample with its 90 kHz decode and presentation times, in decode order across tracks.
        struct Item { var track: Int; var sample: FragmentSample; var dts: Int64; var pts: Int64 }
        var items: [Item] = []
        for run in runs {
            let scale = Int64(formats[run.track].timescale)
            var decode = Int64(run.base)
            for sample in run.samples {
                let dts = decode * 90_000 / scale + Self.timestampOffset
                let pts = (decode + Int64(sample.compositionOffset)) * 90_000 / scale + Self.timestampOffset
                items.append(Item(track: run.track, sample: sample, dts: dts, pts: pts))
                decode += Int64(sample.duration)
            }
        }
        var leadingKeyframe: Item?
        if iFrame, let index = items.firstIndex(where: { $0.track == leader }) {
            leadingKeyframe = items.remove(at: index)
        }
        items.sort { $0.dts < $1.dts }
        var iFrameLength: Int?
        if let key = leadingKeyframe {
            writePES(&out, track: key.track, sample: key.sample, dts: key.dts, pts: key.pts, codec: codecs[key.track])
            iFrameLength = out.count
        }
        for item in items {
            writePES(&out, track: item.track, sample: item.sample, dts: item.dts, pts: item.pts, codec: codecs[item.track])
        }
        return (out, iFrameLength)
    }

    private func nextContinuity(_ pid: UInt16) -> UInt8 {
        let value = continuity[pid, default: 0]
        continuity[pid] = (value + 1) & 0x0F
        return value
    }

    private func patSection() -> [UInt8] {
        var body: [UInt8] = [0x00, 0x01, 0xC1, 0x00, 0x00] // transport_stream_id 1, version 0, current
        body += [0x00, 0x01, 0xE0 | UInt8(Self.pmtPID >> 8), UInt8(Self.pmtPID & 0xFF)]
        return section(tableID: 0x00, body: body)
    }

    private func pmtSection() -> [UInt8] {
        let pcrPID = pids[leader]
        var body: [UInt8] = [0x00, 0x01, 0xC1, 0x00, 0x00]
        body += [0xE0 | UInt8(pcrPID >> 8), UInt8(pcrPID & 0xFF), 0xF0, 0x00]
        for (index, format) in formats.enumerated() {
            let streamType: UInt8 = format.kind == .audio ? 0x0F : (format.codec == "hevc" ? 0x24 : 0x1B)
            body += [streamType, 0xE0 | UInt8(pids[index] >> 8), UInt8(pids[index] & 0xFF), 0xF0, 0x00]
        }
        return section(tableID: 0x02, body: body)
    }

    private func section(tableID: UInt8, body: [UInt8]) -> [UInt8] {
        let length = body.count + 4
        var bytes: [UInt8] = [tableID, 0xB0 | UInt8(length >> 8), UInt8(length & 0xFF)] + body
        let crc = Self.crc32(bytes)
        bytes += [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
        return bytes
    }

    private func writeSection(_ out: inout [UInt8], pid: UInt16, section: [UInt8]) {
        out += [0x47, 0x40 | UInt8(pid >> 8), UInt8(pid & 0xFF), 0x10 | nextContinuity(pid), 0x00]
        out += section
        out += repeatElement(0xFF, count: Self.packetSize - 5 - section.count)
    }

    private func writePES(_ out: inout [UInt8], track: Int, sample: FragmentSample, dts: Int64, pts: Int64, codec: CodecConfiguration?) {
        let isVideo = formats[track].kind == .video
        var payload: [UInt8] = []
        switch codec {
        case .h264(let configuration)?:
            payload.reserveCapacity(sample.data.count + 64)
            payload += [0, 0, 0, 1, 0x09, 0xF0]
            if sample.isSync {
                for unit in configuration.sps + configuration.pps { payload += [0, 0, 0, 1] + unit }
            }
            if let units = H264.lengthPrefixedUnits(sample.data, lengthSize: configuration.lengthSize) {
                for unit in units where unit.first.map({ $0 & 0x1F }) != H264.nalAUD {
                    payload += [0, 0, 0, 1]
                    payload += unit
                }
            }
        case .hevc(let configuration)?:
            payload.reserveCapacity(sample.data.count + 64)
            payload += [0, 0, 0, 1, 0x46, 0x01, 0x50]
            if sample.isSync {
                for unit in configuration.parameterSets { payload += [0, 0, 0, 1] + unit }
            }
            if let units = H264.lengthPrefixedUnits(sample.data, lengthSize: configuration.lengthSize) {
                for unit in units where unit.first.map(HEVC.type) != HEVC.nalAUD {
                    payload += [0, 0, 0, 1]
                    payload += unit
                }
            }
        case .aac(let config, _)?:
            payload = config.adtsHeader(payloadSize: sample.data.count) + sample.data
        case nil:
            payload = sample.data
        }
        let hasDTS = isVideo && dts != pts
        var header: [UInt8] = [0, 0, 1, isVideo ? 0xE0 : 0xC0]
        let headerDataLength = hasDTS ? 10 : 5
        let pesLength = 3 + headerDataLength + payload.count
        let lengthField = isVideo || pesLength > 0xFFFF ? 0 : pesLength
        header += [UInt8(lengthField >> 8), UInt8(lengthField & 0xFF), 0x80, hasDTS ? 0xC0 : 0x80, UInt8(headerDataLength)]
        header += Self.timestamp(pts, marker: hasDTS ? 0x3 : 0x2)
        if hasDTS { header += Self.timestamp(dts, marker: 0x1) }
        let pes = header + payload

        let pid = pids[track]
        var offset = 0
        var first = true
        while offset < pes.count {
            var adaptation: [UInt8] = []
            // Each segment flags a continuity discontinuity on its first packet of every PID: an
            // I-frame playlist jumps from one segment's keyframe to the next, skipping counters.
            let segmentStart = first && startedPIDs.insert(pid).inserted
            if first && (sample.isSync || segmentStart) {
                var flags: UInt8 = (sample.isSync ? 0x40 : 0) | (segmentStart ? 0x80 : 0)
                var fields: [UInt8] = []
                if track == leader && sample.isSync {
                    flags |= 0x10
                    let pcr = UInt64(max(dts - Self.pcrLead, 0))
                    fields = [UInt8(truncatingIfNeeded: pcr >> 25), UInt8(truncatingIfNeeded: pcr >> 17), UInt8(truncatingIfNeeded: pcr >> 9),
                              UInt8(truncatingIfNeeded: pcr >> 1), UInt8(truncatingIfNeeded: (pcr & 1) << 7) | 0x7E, 0x00]
                }
                adaptation = [flags] + fields
            }
            let room = Self.packetSize - 4 - (adaptation.isEmpty ? 0 : 1 + adaptation.count)
            let remaining = pes.count - offset
            if remaining < room {
                // Stuff the adaptation field so the last packet is exactly 188 bytes.
                let stuffing = room - remaining
                if adaptation.isEmpty {
                    adaptation = stuffing == 1 ? [] : [0x00] + repeatElement(0xFF, count: stuffing - 2)
                    if stuffing == 1 {
                        out += [0x47, (first ? 0x40 : 0) | UInt8(pid >> 8), UInt8(pid & 0xFF), 0x30 | nextContinuity(pid), 0x00]
                        out += pes[offset...]
                        offset = pes.count
                        first = false
                        continue
                    }
                } else {
                    adaptation += repeatElement(0xFF, count: stuffing)
                }
            }
            let take = Self.packetSize - 4 - (adaptation.isEmpty ? 0 : 1 + adaptation.count)
            out += [0x47, (first ? 0x40 : 0) | UInt8(pid >> 8), UInt8(pid & 0xFF), (adaptation.isEmpty ? 0x10 : 0x30) | nextContinuity(pid)]
            if !adaptation.isEmpty { out.append(UInt8(adaptation.count)); out += adaptation }
            out += pes[offset..<(offset + take)]
            offset += take
            first = false
        }
    }

    private static func timestamp(_ value: Int64, marker: UInt8) -> [UInt8] {
        let v = UInt64(value) & 0x1_FFFF_FFFF
        return [marker << 4 | UInt8((v >> 29) & 0x0E) | 1, UInt8((v >> 22) & 0xFF), UInt8((v >> 14) & 0xFE) | 1,
                UInt8((v >> 7) & 0xFF), UInt8((v << 1) & 0xFE) | 1]
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index) << 24
        for _ in 0..<8 { crc = crc & 0x8000_0000 != 0 ? (crc << 1) ^ 0x04C1_1DB7 : crc << 1 }
        return crc
    }

    /// CRC-32/MPEG-2 of PSI sections.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = (crc << 8) ^ crcTable[Int((crc >> 24) ^ UInt32(byte))] }
        return crc
    }
}
