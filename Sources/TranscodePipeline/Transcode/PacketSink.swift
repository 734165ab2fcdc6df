public import VideoCore

/// Where a ``Transcoder`` delivers the encoded packets of every rendition: the seam a packager implements.
///
/// ## Call order
/// 1. ``begin(rendition:index:tracks:)`` once per rendition, for all renditions, before any packet.
///    `index` is the rendition's position in the list passed to the transcoder. `tracks` holds the
///    video track first (when the rendition has video), then the audio track (when it has audio).
/// 2. ``write(_:rendition:track:)`` for each packet. Within one track of one rendition, packets
///    come in decode order (dts ascending); tracks and renditions are interleaved in no fixed
///    order (audio usually runs a little ahead of video). Every video track has keyframes at the
///    same timestamps, at each multiple of the segment duration.
/// 3. ``finish(rendition:)`` once per rendition after its last packet, only when the whole
///    transcode succeeded. On failure or cancellation the transcoder throws instead and calls
///    nothing more; the sink's owner discards what it wrote.
///
/// ## Threading
/// Calls are made one at a time, never concurrently, from a single task of the caller of
/// ``Transcoder/transcode(input:renditions:sink:progress:)``, and each is awaited before the next, so a
/// sink needs no locking of its own. A slow sink slows the encoders down (the queue between them
/// is bounded) rather than letting memory grow. Audio is encoded once per distinct audio bit rate
/// and the same packet is written to every rendition that shares it.
public protocol PacketSink: Sendable {
    /// Announces a rendition and the formats of its tracks.
    func begin(rendition: Rendition, index: Int, tracks: [TrackFormat]) async throws
    /// Delivers one packet of track `track` (an index into the `tracks` of `begin`) of rendition `rendition`.
    func write(_ packet: EncodedPacket, rendition: Int, track: Int) async throws
    /// Says that rendition `rendition` has no more packets.
    func finish(rendition: Int) async throws
}
