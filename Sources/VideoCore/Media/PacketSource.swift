/// One packet read from a source without decoding, tagged with its track: the remux path's unit.
public struct DemuxedPacket: Sendable {
    /// Index into the source's ``PacketSource/tracks``.
    public var track: Int
    /// The packet, timestamps in the track's timescale. A missing timestamp is `Int64.min`
    /// (FFmpeg's `AV_NOPTS_VALUE`); a packager must repair or reject such packets.
    public var packet: EncodedPacket

    /// Tags `packet` as belonging to track `track`.
    public init(track: Int, packet: EncodedPacket) {
        self.track = track
        self.packet = packet
    }
}

/// Already-encoded tracks read packet by packet, in file order: what a packager remuxes.
///
/// The seam between whoever demuxes (TranscodePipeline's FFmpeg `Demuxer`, the HLS packager's
/// own MP4 reader, a live ingest) and whoever packages, so packaging needs no demuxer library.
public protocol PacketSource: Sendable {
    /// The tracks, in the order packets name them.
    var tracks: [TrackFormat] { get }
    /// Reads up to `maxPackets` packets in file order; an empty array at the end of the source.
    func read(maxPackets: Int) async throws -> [DemuxedPacket]
}

extension PacketSource {
    /// All remaining packets as an async sequence, read in batches of `batchSize`.
    public func packets(batchSize: Int = 128) -> AsyncThrowingStream<DemuxedPacket, any Error> {
        let batches = BatchCursor()
        return AsyncThrowingStream(unfolding: { [self] in
            if let next = batches.pop() { return next }
            let batch = try await read(maxPackets: batchSize)
            guard !batch.isEmpty else { return nil }
            batches.fill(batch)
            return batches.pop()
        })
    }
}

/// The rest of the batch a ``PacketSource/packets(batchSize:)`` stream read last.
///
/// `@unchecked Sendable`: only the stream's single consumer calls it, one call at a time.
private final class BatchCursor: @unchecked Sendable {
    private var items: [DemuxedPacket] = []

    func fill(_ batch: [DemuxedPacket]) { items = batch.reversed() }
    func pop() -> DemuxedPacket? { items.popLast() }
}
