public import Foundation
public import Logging
public import VideoCore

/// Packages already-encoded media as HLS without re-encoding (the remux path).
///
/// Two ways in: an MP4/MOV file, read by the Swift ``MP4File`` reader, or any
/// `VideoCore/PacketSource` (TranscodePipeline's FFmpeg `Demuxer` reads MKV, MPEG-TS, FLV and
/// fragmented MP4; a live ingest could be one too). Packaging itself needs no demuxer library.
public enum Remuxer {
    /// Reads the H.264 or HEVC + AAC MP4/MOV file at `url` and writes `directory/master.m3u8` and its renditions to `store`.
    ///
    /// Other containers, and fragmented MP4 (which throws `.unsupported`), go through
    /// ``package(source:store:directory:configuration:logger:)`` with a demuxer such as
    /// TranscodePipeline's `Demuxer`. Throws what ``MP4File/init(url:)`` and ``RenditionPackager`` throw.
    public static func package(file url: URL, store: any BlobStore, directory: String,
                               configuration: HLSConfiguration = HLSConfiguration(), logger: Logger) async throws -> HLSPackageResult {
        let file = try MP4File(url: url)
        return try await package(tracks: file.tracks.map(\.format), packets: file.packets(), source: url.lastPathComponent,
                                 store: store, directory: directory, configuration: configuration, logger: logger)
    }

    /// Packages the H.264/HEVC and AAC tracks of `source` into `directory/master.m3u8` and its renditions in `store`.
    ///
    /// With ``HLSConfiguration/separateAudio`` (the default), video goes to `directory/video`
    /// and audio to `directory/audio` as an `EXT-X-MEDIA` group; otherwise both are muxed in
    /// `directory/stream`. Segments are cut at the source's own keyframes: a segment is as long
    /// as the keyframe spacing allows. Video that starts with a non-keyframe is trimmed to its
    /// first keyframe, and packets without decode timestamps (Matroska B-frames) get them rebuilt
    /// from their presentation timestamps (both logged). Tracks of other codecs are left out;
    /// `VideoStackError/Code/unsupported` when none is left.
    public static func package(source: some PacketSource, store: any BlobStore, directory: String,
                               configuration: HLSConfiguration = HLSConfiguration(), logger: Logger) async throws -> HLSPackageResult {
        let usable = source.tracks.map { ["h264", "hevc", "aac"].contains($0.codec) }
        guard usable.contains(true) else {
            throw VideoStackError(.unsupported, "The source has no H.264, HEVC or AAC track (it has \(source.tracks.map(\.codec))); transcode it instead of remuxing.")
        }
        let kept = source.tracks.indices.filter { usable[$0] }
        let renumber = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        let packets = source.packets().compactMap { item -> (track: Int, packet: EncodedPacket)? in
            guard let track = renumber[item.track] else { return nil }
            return (track, item.packet)
        }
        return try await package(tracks: kept.map { source.tracks[$0] }, packets: packets, source: "The source", store: store,
                                 directory: directory, configuration: configuration, logger: logger)
    }

    static func package<Packets: AsyncSequence>(tracks: [TrackFormat], packets: Packets, source: String, store: any BlobStore,
                                                directory: String, configuration: HLSConfiguration,
                                                logger: Logger) async throws -> HLSPackageResult
    where Packets.Element == (track: Int, packet: EncodedPacket) {
        var configuration = configuration
        configuration.leadingNonKeyframes = .drop
        let video = tracks.indices.filter { tracks[$0].kind == .video }
        let audio = tracks.indices.filter { tracks[$0].kind == .audio }
        guard video.count <= 1 else {
            throw VideoStackError(.unsupported, "'\(source)' has \(video.count) video tracks; the remux path packages one.")
        }
        // Where each input track goes: (rendition, track within it).
        var routes: [Int: (Int, Int)] = [:]
        var specs: [RenditionSpec] = []
        if configuration.separateAudio && !video.isEmpty && !audio.isEmpty {
            specs.append(RenditionSpec(name: "video", tracks: [tracks[video[0]]]))
            routes[video[0]] = (0, 0)
            specs.append(RenditionSpec(name: "audio", tracks: [tracks[audio[0]]]))
            routes[audio[0]] = (1, 0)
        } else {
            let chosen = video + audio.prefix(1)
            specs.append(RenditionSpec(name: "stream", tracks: chosen.map { tracks[$0] }))
            for (position, index) in chosen.enumerated() { routes[index] = (0, position) }
        }
        let package = try HLSPackage(store: store, directory: directory, renditions: specs, configuration: configuration, logger: logger)
        var repairs = Array(repeating: DecodeTimestampRepair(), count: tracks.count)
        for try await (track, packet) in packets {
            guard let route = routes[track] else { continue }
            for ready in try repairs[track].push(packet) {
                try await package.append(ready, rendition: route.0, track: route.1)
            }
        }
        for (track, route) in routes {
            for ready in try repairs[track].flush() {
                try await package.append(ready, rendition: route.0, track: route.1)
            }
            if repairs[track].repaired > 0 {
                logger.notice("Rebuilt missing decode timestamps from presentation timestamps", metadata: ["track": "\(track)", "packets": "\(repairs[track].repaired)"])
            }
        }
        return try await package.finish()
    }
}

/// Lets the synchronous ``MP4File/PacketSequence`` feed the same async packaging loop.
extension MP4File.PacketSequence: AsyncSequence {
    /// A track index and one of its packets.
    public typealias Element = (track: Int, packet: EncodedPacket)

    /// Async iteration over the packets (never suspends).
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: MP4File.PacketSequence.Iterator
        /// The next sample in file order, or nil at the end.
        public mutating func next() async -> (track: Int, packet: EncodedPacket)? { base.next() }
    }

    /// An async iterator over the packets.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: makeIterator()) }
}
