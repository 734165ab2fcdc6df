/// Where encoded packets of one or more renditions go: the seam between whoever encodes (the
/// transcoder) and whoever packages (an HLS packager, an MP4 writer).
///
/// ## Call order
/// 1. ``begin(rendition:index:tracks:)`` once per rendition, for all renditions, before any packet.
///    `index` is the rendition's position in the list the producer was given. `tracks` holds the
///    video track first (when the rendition has video), then the audio track (when it has audio).
/// 2. ``write(_:rendition:track:)`` for each packet. Within one track of one rendition, packets
///    come in decode order (dts ascending); tracks and renditions are interleaved in no fixed
///    order (audio usually runs a little ahead of video). Every video track has keyframes at the
///    same timestamps: at each of ``openingKeyframes``, then at each multiple of ``keyframeInterval``.
/// 3. ``finish(rendition:)`` once per rendition after its last packet, only when the whole
///    production succeeded. On failure or cancellation the producer throws instead and calls
///    nothing more; the sink's owner discards what it wrote.
///
/// ## One segment length
/// The sink says how far apart keyframes must be (``keyframeInterval``): an HLS sink returns its
/// segment duration, so the segment length is set in one place and reaches both the encoder's
/// keyframes and the packager's cuts. A sink that cuts short segments at the start (so a player
/// can begin before a whole segment is encoded) lists those extra cut times in
/// ``openingKeyframes``; the regular grid stays where it is.
///
/// ## Threading
/// Calls are made one at a time, never concurrently, from a single task, and each is awaited
/// before the next, so a sink needs no locking of its own. A slow sink slows the producer down
/// rather than letting memory grow. A packet may be written to several renditions (audio shared
/// by the rungs of one bit rate).
public protocol PacketSink: Sendable {
    /// The spacing of the keyframes this sink needs: a producer forces a keyframe at every
    /// multiple of it, at the same timestamps on every rendition (an HLS sink: its segment duration).
    var keyframeInterval: Duration { get }
    /// Extra keyframe times before the first multiple of ``keyframeInterval``, from the start of
    /// the output, strictly increasing and each below ``keyframeInterval`` (an HLS sink: where its
    /// short opening segments end). Empty by default.
    var openingKeyframes: [Duration] { get }
    /// Announces a rendition and the formats of its tracks.
    func begin(rendition: Rendition, index: Int, tracks: [TrackFormat]) async throws
    /// Delivers one packet of track `track` (an index into the `tracks` of `begin`) of rendition `rendition`.
    func write(_ packet: EncodedPacket, rendition: Int, track: Int) async throws
    /// Says that rendition `rendition` has no more packets.
    func finish(rendition: Int) async throws
}

extension PacketSink {
    /// No extra keyframes: only the multiples of ``keyframeInterval``.
    public var openingKeyframes: [Duration] { [] }
}
