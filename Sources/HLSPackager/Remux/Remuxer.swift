public import Logging
public import VideoCore

/// Packages an already-encoded file as HLS without re-encoding (the remux path).
public enum Remuxer {
    /// Reads the H.264/AAC MP4 at `path` and writes `directory/master.m3u8` and its renditions to `store`.
    ///
    /// With `separateAudio` (the default), video goes to `directory/video` and audio to
    /// `directory/audio` as an `EXT-X-MEDIA` group; otherwise both are muxed in `directory/stream`.
    /// Segments are cut at the file's own keyframes: a segment is as long as the keyframe spacing
    /// allows. Video that starts with a non-keyframe is trimmed to its first keyframe (logged).
    /// Throws what ``MP4File/init(path:)`` and ``RenditionPackager`` throw.
    public static func package(file path: String, store: any BlobStore, directory: String,
                               configuration: HLSConfiguration = HLSConfiguration(), separateAudio: Bool = true,
                               logger: Logger) async throws -> HLSPackageResult {
        let file = try MP4File(path: path)
        var configuration = configuration
        configuration.leadingNonKeyframes = .drop
        let video = file.tracks.indices.filter { file.tracks[$0].format.kind == .video }
        let audio = file.tracks.indices.filter { file.tracks[$0].format.kind == .audio }
        guard video.count <= 1 else {
            throw VideoStackError(.unsupported, "'\(path)' has \(video.count) video tracks; the remux path packages one.")
        }
        // Where each file track goes: (rendition, track within it).
        var routes: [Int: (Int, Int)] = [:]
        var specs: [RenditionSpec] = []
        if separateAudio && !video.isEmpty && !audio.isEmpty {
            specs.append(RenditionSpec(name: "video", tracks: [file.tracks[video[0]].format]))
            routes[video[0]] = (0, 0)
            specs.append(RenditionSpec(name: "audio", tracks: [file.tracks[audio[0]].format]))
            routes[audio[0]] = (1, 0)
        } else {
            let chosen = video + audio.prefix(1)
            specs.append(RenditionSpec(name: "stream", tracks: chosen.map { file.tracks[$0].format }))
            for (position, index) in chosen.enumerated() { routes[index] = (0, position) }
        }
        let package = try HLSPackage(store: store, directory: directory, renditions: specs, configuration: configuration, logger: logger)
        for (track, packet) in file.packets() {
            guard let route = routes[track] else { continue }
            try await package.append(packet, rendition: route.0, track: route.1)
        }
        return try await package.finish()
    }
}
