public import Logging
public import VideoCore

/// One rendition to package: its directory name under the package and its tracks.
public struct RenditionSpec: Sendable, Hashable {
    /// Directory (key component) of the rendition under the package directory, e.g. `"720p"` or `"audio"`.
    public var name: String
    /// The rendition's tracks: at most one video track, any number of AAC tracks.
    public var tracks: [TrackFormat]

    /// Creates a rendition spec.
    public init(name: String, tracks: [TrackFormat]) {
        self.name = name
        self.tracks = tracks
    }
}

/// What a finished package holds.
public struct HLSPackageResult: Sendable {
    /// Key of the master playlist.
    public var masterKey: String
    /// The master playlist as written.
    public var master: MasterPlaylist
    /// One summary per rendition, in the order given.
    public var renditions: [RenditionSummary]

    /// Creates a result; ``HLSPackage/finish()`` makes them (tests and other packagers may too).
    public init(masterKey: String, master: MasterPlaylist, renditions: [RenditionSummary]) {
        self.masterKey = masterKey
        self.master = master
        self.renditions = renditions
    }
}

/// Packages several renditions (a bit-rate ladder, plus audio) into one HLS presentation:
/// `DIR/master.m3u8` and one directory per rendition.
///
/// In ``HLSConfiguration/Mode/event`` and live modes the master playlist is written as soon as
/// every rendition has its first segment (with bit rates measured so far), so players can start
/// while packaging goes on; ``finish()`` rewrites it with the final measurements.
/// Packets of different renditions may be appended in any interleaving.
public actor HLSPackage {
    let store: any BlobStore
    let directory: String
    let specs: [RenditionSpec]
    let configuration: HLSConfiguration
    /// The per-rendition packagers, in the order of the specs.
    public let renditions: [RenditionPackager]
    private var masterWritten = false
    private var firstMasterObserver: (@Sendable () async -> Void)?
    private var audioGroups: [String: String] = [:]
    private let logger: Logger

    /// Creates the packagers; throws what ``RenditionPackager/init(store:directory:tracks:configuration:logger:)``
    /// throws, and `VideoStackError/Code/invalidInput` for no renditions or duplicate or unsafe names.
    public init(store: any BlobStore, directory: String, renditions: [RenditionSpec], configuration: HLSConfiguration = HLSConfiguration(),
                logger: Logger) throws {
        guard !renditions.isEmpty else { throw VideoStackError(.invalidInput, "A package needs at least one rendition.") }
        guard Set(renditions.map(\.name)).count == renditions.count else {
            throw VideoStackError(.invalidInput, "Rendition names must be distinct; got \(renditions.map(\.name)).")
        }
        for spec in renditions where spec.name.isEmpty || spec.name.contains("/") || spec.name.hasPrefix(".") {
            throw VideoStackError(.invalidInput, "Rendition name '\(spec.name)' must be a single non-empty path component not starting with '.'.")
        }
        self.store = store
        self.directory = directory
        self.specs = renditions
        self.configuration = configuration
        self.logger = logger
        self.renditions = try renditions.map { spec in
            try RenditionPackager(store: store, directory: directory.isEmpty ? spec.name : directory + "/" + spec.name,
                                  tracks: spec.tracks, configuration: configuration, logger: logger)
        }
    }

    /// Key of the master playlist.
    public var masterKey: String { directory.isEmpty ? "master.m3u8" : directory + "/master.m3u8" }

    /// Called once, right after the first master playlist is written (EVENT and live modes): the moment a player can start.
    public func onFirstMasterPlaylist(_ observer: @escaping @Sendable () async -> Void) {
        firstMasterObserver = observer
    }

    /// Pairs video renditions with audio renditions by name (video name → audio name) for the
    /// master playlist's audio groups; see ``MasterPlaylist/init(renditions:directory:audioGroupID:audioGroups:)``.
    public func setAudioGroups(_ groups: [String: String]) {
        audioGroups = groups
    }

    /// Adds a packet of `track` of rendition `rendition`; see ``RenditionPackager/append(_:track:)``.
    public func append(_ packet: EncodedPacket, rendition: Int, track: Int) async throws {
        guard renditions.indices.contains(rendition) else {
            throw VideoStackError(.invalidInput, "Rendition \(rendition) does not exist; this package has \(renditions.count).")
        }
        try await renditions[rendition].append(packet, track: track)
        if configuration.mode != .vod, !masterWritten {
            for packager in renditions where await packager.segmentCount == 0 { return }
            try await writeMaster(renditions.asyncMap { await $0.summary() })
            masterWritten = true
            logger.info("Master playlist written; playback can start", metadata: ["master": "\(masterKey)"])
            if let firstMasterObserver { await firstMasterObserver() }
        }
    }

    /// Finishes every rendition and writes the master playlist.
    public func finish() async throws -> HLSPackageResult {
        var summaries: [RenditionSummary] = []
        for packager in renditions { summaries.append(try await packager.finish()) }
        let master = try await writeMaster(summaries)
        logger.info("Package finished", metadata: [
            "master": "\(masterKey)", "renditions": "\(summaries.map { $0.directory.split(separator: "/").last.map(String.init) ?? $0.directory })",
            "segments": "\(summaries.map(\.segmentSizes.count))", "bytes": "\(summaries.reduce(0) { $0 + $1.segmentSizes.reduce(0, +) })",
        ])
        return HLSPackageResult(masterKey: masterKey, master: master, renditions: summaries)
    }

    @discardableResult
    private func writeMaster(_ summaries: [RenditionSummary]) async throws -> MasterPlaylist {
        let master = MasterPlaylist(renditions: summaries, directory: directory, audioGroups: audioGroups)
        try await store.put(masterKey, string: try master.render(), contentType: nil)
        return master
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        out.reserveCapacity(count)
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
