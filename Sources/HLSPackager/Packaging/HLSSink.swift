public import Logging
public import VideoCore

/// A `VideoCore/PacketSink` that packages a transcode straight into HLS: the transcoder's
/// packets become segments and playlists in a `BlobStore` as they are encoded.
///
/// The sink's ``keyframeInterval`` is the configuration's segment duration, so the transcoder
/// forces keyframes exactly where the segments are cut; so are the configuration's short opening
/// segments (``HLSConfiguration/openingBoundaries``), through ``openingKeyframes``. Each video rung becomes a rendition
/// directory named after its `VideoCore/Rendition/name`. With
/// ``HLSConfiguration/separateAudio`` (the default) every distinct audio track becomes an audio-only rendition
/// (`audio_<kbps>k`) in its own `EXT-X-MEDIA` group, and the rungs that share it point at that
/// group; otherwise audio is muxed into each rung's segments. Use ``HLSConfiguration/Mode/event``
/// to let viewers start watching while the transcode runs: each rung's EVENT playlist grows per
/// segment and `master.m3u8` appears once every rung has its first segment.
///
/// Thread safety: an actor; the transcoder calls it one call at a time anyway.
public actor HLSSink: PacketSink {
    let store: any BlobStore
    let directory: String
    let configuration: HLSConfiguration
    let logger: Logger
    /// The configuration's segment duration: the transcoder forces keyframes at its multiples.
    public nonisolated let keyframeInterval: Duration
    /// The configuration's opening boundaries that take effect (``HLSConfiguration/effectiveOpeningBoundaries``):
    /// the transcoder forces keyframes there too.
    public nonisolated let openingKeyframes: [Duration]
    private var begun: [(rendition: Rendition, tracks: [TrackFormat])] = []
    private var package: HLSPackage?
    /// For each (transcoder rendition, track): where its packets go, or nil to drop duplicates of shared audio.
    private var routes: [[(rendition: Int, track: Int)?]] = []
    private var audioGroupOf: [String: String] = [:]
    private var finishedCount = 0
    private var firstPlayable: (@Sendable () async -> Void)?
    /// The result once every rendition has finished.
    public private(set) var result: HLSPackageResult?

    /// Creates a sink writing `directory/master.m3u8` and one directory per rendition into `store`.
    public init(store: any BlobStore, directory: String, configuration: HLSConfiguration = HLSConfiguration(), logger: Logger) {
        self.store = store
        self.directory = directory
        self.configuration = configuration
        self.logger = logger
        keyframeInterval = configuration.segmentDuration
        openingKeyframes = configuration.effectiveOpeningBoundaries
    }

    /// Called once, when `master.m3u8` first exists (EVENT and live modes): from then on a player can start.
    public func onFirstPlayable(_ observer: @escaping @Sendable () async -> Void) {
        firstPlayable = observer
    }

    /// Records a rendition and its tracks; the packagers are made when the first packet arrives.
    public func begin(rendition: Rendition, index: Int, tracks: [TrackFormat]) async throws {
        guard package == nil else {
            throw VideoStackError(.internal, "HLSSink.begin was called after the first packet; the PacketSink contract announces every rendition first.")
        }
        while begun.count <= index { begun.append((rendition, [])) }
        begun[index] = (rendition, tracks)
    }

    private func makePackage() throws -> HLSPackage {
        var specs: [RenditionSpec] = []
        var audioRenditions: [TrackFormat: Int] = [:]
        routes = []
        for (rendition, tracks) in begun {
            var route: [(rendition: Int, track: Int)?] = []
            let video = tracks.filter { $0.kind == .video }
            if configuration.separateAudio && !video.isEmpty {
                let videoIndex = specs.count
                specs.append(RenditionSpec(name: rendition.name, tracks: video))
                for track in tracks {
                    if track.kind == .video {
                        route.append((videoIndex, 0))
                    } else if let existing = audioRenditions[track] {
                        // The transcoder writes shared audio to every rung; keep the first copy only.
                        route.append(nil)
                        audioGroupOf[rendition.name] = specs[existing].name
                    } else {
                        let name = "audio_\(max(track.bitRate / 1000, 1))k"
                        audioRenditions[track] = specs.count
                        audioGroupOf[rendition.name] = name
                        route.append((specs.count, 0))
                        specs.append(RenditionSpec(name: name, tracks: [track]))
                    }
                }
            } else {
                let index = specs.count
                specs.append(RenditionSpec(name: rendition.name, tracks: tracks))
                route = tracks.indices.map { (index, $0) }
            }
            routes.append(route)
        }
        return try HLSPackage(store: store, directory: directory, renditions: specs, configuration: configuration, logger: logger)
    }

    /// Routes one packet to its rendition's packager (dropping the extra copies of shared audio).
    public func write(_ packet: EncodedPacket, rendition: Int, track: Int) async throws {
        if package == nil {
            let made = try makePackage()
            package = made
            if let firstPlayable { await made.onFirstMasterPlaylist(firstPlayable) }
            await made.setAudioGroups(audioGroupOf)
        }
        guard routes.indices.contains(rendition), routes[rendition].indices.contains(track) else {
            throw VideoStackError(.invalidInput, "Packet for rendition \(rendition) track \(track), which begin() never announced.")
        }
        guard let route = routes[rendition][track] else { return }
        try await package!.append(packet, rendition: route.rendition, track: route.track)
    }

    /// Notes that a rendition ended; after the last one, finishes every packager and writes the master playlist.
    public func finish(rendition: Int) async throws {
        finishedCount += 1
        guard finishedCount == begun.count, let package else { return }
        result = try await package.finish()
    }
}
