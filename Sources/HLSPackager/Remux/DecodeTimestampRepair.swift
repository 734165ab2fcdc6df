import VideoCore

/// Rebuilds missing decode timestamps of one track from its presentation timestamps.
///
/// Containers such as Matroska store only presentation times, so B-frame video arrives from
/// FFmpeg's demuxer with `dts` unset. In decode order, the n-th decode time is the n-th smallest
/// presentation time, moved back by the stream's reorder delay; this keeps a window of packets
/// (deeper than any H.264 reorder depth) to find both. Packets that already carry a `dts` pass
/// through untouched until the first one without.
struct DecodeTimestampRepair {
    /// Packets held back; must exceed the reorder depth (at most 16 frames in H.264).
    static let depth = 20

    private var window: [EncodedPacket] = []
    private var slots: [Int64] = []
    private var shift: Int64?
    private var lastDTS: Int64?
    private var repairing = false
    private(set) var repaired = 0

    /// Takes the next packet (decode order); returns the packets now ready, with decode timestamps.
    mutating func push(_ packet: EncodedPacket) throws -> [EncodedPacket] {
        if !repairing {
            if packet.dts != .min {
                lastDTS = packet.dts
                return [packet]
            }
            repairing = true
        }
        guard packet.pts != .min else {
            throw VideoStackError(.invalidPackets, "A packet has neither a presentation nor a decode timestamp, so its timing cannot be rebuilt; remux the file with ffmpeg -fflags +genpts first.")
        }
        window.append(packet)
        let position = slots.firstIndex { $0 > packet.pts } ?? slots.count
        slots.insert(packet.pts, at: position)
        return window.count > Self.depth ? [try emit()] : []
    }

    /// Returns every packet still held, at the end of the stream.
    mutating func flush() throws -> [EncodedPacket] {
        var out: [EncodedPacket] = []
        while !window.isEmpty { out.append(try emit()) }
        return out
    }

    private mutating func emit() throws -> EncodedPacket {
        if shift == nil {
            // The reorder delay: how far the k-th smallest pts runs ahead of the k-th packet's pts.
            shift = max(0, zip(slots, window).map { $0 - $1.pts }.max() ?? 0)
        }
        var packet = window.removeFirst()
        var dts = slots.removeFirst() - shift!
        dts = min(dts, packet.pts)
        if let lastDTS, dts <= lastDTS {
            dts = lastDTS + 1
            guard dts <= packet.pts else {
                throw VideoStackError(.invalidPackets, "Decode timestamps cannot be rebuilt: presentation timestamps \(packet.pts) and earlier reorder deeper than \(Self.depth) frames or repeat. Remux the file with ffmpeg -fflags +genpts first.")
            }
        }
        packet.dts = dts
        lastDTS = dts
        repaired += 1
        return packet
    }
}
