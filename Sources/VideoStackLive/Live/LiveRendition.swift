import Foundation
internal import HLSPackager
import Logging
import VideoCore

/// One live rendition: a `RenditionPackager` in live mode keeping the DVR window in `dvr.m3u8`,
/// plus the short live window in `index.m3u8`, rewritten after every segment.
actor LiveRendition {
    let packager: RenditionPackager
    let directory: String
    let store: any BlobStore
    let window: Int
    let name: String
    private var listed: (@Sendable (Int) async -> Void)?

    init(store: any BlobStore, directory: String, name: String, tracks: [TrackFormat], configuration: LiveConfiguration,
         programDateTime: Date, logger: Logger) throws {
        var hls = HLSConfiguration(segmentDuration: configuration.segmentDuration, segmentFormat: .fmp4,
                                   mode: .live(windowSize: configuration.dvrSegments), iFramePlaylist: false,
                                   programDateTime: programDateTime, leadingNonKeyframes: .drop, playlistName: "dvr.m3u8",
                                   concurrentWrites: 2, presentationOffset: .seconds(1), separateAudio: false)
        hls.finishEventAsVOD = false
        self.directory = directory + "/" + name
        self.name = name
        self.store = store
        self.window = configuration.window
        packager = try RenditionPackager(store: store, directory: self.directory, tracks: tracks, configuration: hls, logger: logger)
    }

    /// Called after each segment is listed in both playlists, with the segment count so far.
    func onListed(_ observer: @escaping @Sendable (Int) async -> Void) async {
        listed = observer
        await packager.onPlaylistUpdate { [weak self] count in
            await self?.playlistUpdated(count)
        }
    }

    private func playlistUpdated(_ count: Int) async {
        let full = await packager.playlist
        let edge = LiveRendition.trim(full, to: window)
        do {
            try await store.put(directory + "/index.m3u8", string: try edge.render(), contentType: nil)
        } catch {
            // The DVR playlist is written; the next segment rewrites the live one.
            return
        }
        await listed?(count)
    }

    /// The last `window` segments of `playlist`, with the media and discontinuity sequences advanced.
    static func trim(_ playlist: MediaPlaylist, to window: Int) -> MediaPlaylist {
        guard playlist.segments.count > window else { return playlist }
        var trimmed = playlist
        let dropped = playlist.segments.count - window
        let map = playlist.segments.first?.map
        trimmed.mediaSequence += dropped
        trimmed.discontinuitySequence += playlist.segments[..<dropped].filter(\.discontinuity).count
        trimmed.segments = Array(playlist.segments[dropped...])
        if trimmed.segments[0].map == nil { trimmed.segments[0].map = map }
        return trimmed
    }

    func append(_ packet: EncodedPacket, track: Int) async throws {
        try await packager.append(packet, track: track)
    }

    func discontinuity() async throws {
        try await packager.discontinuity()
    }

    func finish() async throws -> RenditionSummary {
        let summary = try await packager.finish()
        let final = await packager.playlist
        try await store.put(directory + "/index.m3u8", string: try LiveRendition.trim(final, to: window).render(), contentType: nil)
        return summary
    }

    func summary() async -> RenditionSummary { await packager.summary() }
    func segmentCount() async -> Int { await packager.segmentCount }
}
