import Foundation
public import Logging
import TranscodePipeline
public import VideoCore

/// Packages an already-encoded file as HLS without re-encoding (the remux path).
public enum Remuxer {
    /// Which reader takes the input apart.
    public enum Reader: Sendable {
        /// ``MP4File`` for MP4/MOV (recognised by their `ftyp` box), FFmpeg's demuxer for anything
        /// else and for fragmented MP4.
        case automatic
        /// Always FFmpeg's demuxer (`TranscodePipeline/Demuxer`): MKV, MPEG-TS, FLV, fragmented MP4….
        case ffmpeg
        /// Always the Swift ``MP4File`` reader.
        case mp4
    }

    /// Reads the H.264 or HEVC + AAC file at `path` and writes `directory/master.m3u8` and its renditions to `store`.
    ///
    /// With `separateAudio` (the default), video goes to `directory/video` and audio to
    /// `directory/audio` as an `EXT-X-MEDIA` group; otherwise both are muxed in `directory/stream`.
    /// Segments are cut at the file's own keyframes: a segment is as long as the keyframe spacing
    /// allows. Video that starts with a non-keyframe is trimmed to its first keyframe, and packets
    /// without decode timestamps (Matroska B-frames) get them rebuilt from their presentation
    /// timestamps (both logged). Throws what ``MP4File/init(path:)``, the FFmpeg demuxer and ``RenditionPackager`` throw;
    /// `VideoStackError/Code/unsupported` when the file has no H.264, HEVC or AAC track.
    public static func package(file path: String, store: any BlobStore, directory: String,
                               configuration: HLSConfiguration = HLSConfiguration(), separateAudio: Bool = true,
                               reader: Reader = .automatic, logger: Logger) async throws -> HLSPackageResult {
        var useMP4 = reader == .mp4
        if reader == .automatic, let handle = FileHandle(forReadingAtPath: path) {
            let head = (try? handle.read(upToCount: 8)) ?? Data()
            try? handle.close()
            useMP4 = head.count == 8 && head.suffix(4) == Data("ftyp".utf8)
        }
        if useMP4 {
            let file: MP4File
            do {
                file = try MP4File(path: path)
            } catch let error as VideoStackError where error.code == .unsupported && reader == .automatic {
                // Fragmented MP4 keeps its samples in moof boxes, which FFmpeg's demuxer reads.
                logger.debug("MP4File cannot read this file; using FFmpeg's demuxer", metadata: ["reason": "\(error.message)"])
                return try await packageWithFFmpeg(path: path, store: store, directory: directory, configuration: configuration,
                                                   separateAudio: separateAudio, logger: logger)
            }
            return try await package(tracks: file.tracks.map(\.format), packets: file.packets(), source: path, store: store,
                                     directory: directory, configuration: configuration, separateAudio: separateAudio, logger: logger)
        }
        return try await packageWithFFmpeg(path: path, store: store, directory: directory, configuration: configuration,
                                           separateAudio: separateAudio, logger: logger)
    }

    static func packageWithFFmpeg(path: String, store: any BlobStore, directory: String, configuration: HLSConfiguration,
                                  separateAudio: Bool, logger: Logger) async throws -> HLSPackageResult {
        let demuxer = try await Demuxer.open(URL(fileURLWithPath: path), logger: logger)
        let usable = demuxer.tracks.map { ["h264", "hevc", "aac"].contains($0.codec) }
        guard usable.contains(true) else {
            throw VideoStackError(.unsupported, "'\(path)' has no H.264, HEVC or AAC stream (it has \(demuxer.tracks.map(\.codec))); transcode it instead of remuxing.")
        }
        let kept = demuxer.tracks.indices.filter { usable[$0] }
        let renumber = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
        let packets = demuxer.packets().compactMap { item -> (track: Int, packet: EncodedPacket)? in
            guard let track = renumber[item.track] else { return nil }
            return (track, item.packet)
        }
        return try await package(tracks: kept.map { demuxer.tracks[$0] }, packets: packets, source: path, store: store,
                                 directory: directory, configuration: configuration, separateAudio: separateAudio, logger: logger)
    }

    static func package<Packets: AsyncSequence>(tracks: [TrackFormat], packets: Packets, source: String, store: any BlobStore,
                                                directory: String, configuration: HLSConfiguration, separateAudio: Bool,
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
        if separateAudio && !video.isEmpty && !audio.isEmpty {
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
