import Foundation
internal import HLSPackager
import Logging
public import VideoCore

/// What a live stream is doing, for status pages, the API and tests.
public struct LiveStreamStatus: Sendable, Hashable {
    /// Where the stream is in its life.
    public enum State: String, Sendable, Hashable {
        /// A publisher is connected.
        case publishing
        /// The publisher dropped; a reconnect within the window continues the stream.
        case waitingForReconnect
        /// Ended; the recording is being (or was) handed to the publish path.
        case ended
    }

    public var video: VideoID
    public var state: State
    /// Publisher connections so far (1, plus one per reconnect).
    public var publishes: Int
    /// Segments cut so far in the pass-through rendition.
    public var segments: Int
    /// The master playlist's key in the blob store.
    public var masterPlaylist: String
    /// Whether a live ladder is being transcoded beside the pass-through rendition.
    public var transcoding: Bool
    /// Why the live transcode stopped and the stream went on with pass-through alone, if it did.
    public var fallbackReason: String?
    /// For each listed segment: the time from its last frame arriving to it being listed.
    public var listingLatencies: [Duration]
    /// Viewers that fetched a playlist recently.
    public var viewers: Int
    /// Media time received so far, on the stream's continuous timeline (all publishers).
    public var recorded: Duration
}

/// One live stream: the packets of whoever publishes to it (one publisher at a time, the same
/// stream across reconnects), packaged into live HLS and recorded for the video on demand.
actor LiveStream {
    let video: VideoID
    let owner: String
    let directory: String
    private let store: any BlobStore
    private let configuration: LiveConfiguration
    private let logger: Logger
    private let recorder: FLVRecorder
    private(set) var state = LiveStreamStatus.State.publishing
    private(set) var publishes = 0
    private var connectionID: Int?
    private var connection: RTMPConnection?
    private var detachedAt: ContinuousClock.Instant?

    // Track discovery (per publisher).
    private var metadata: AMF0Value?
    private var avcRecord: [UInt8]?
    private var audioConfig: [UInt8]?
    private var held: [(isVideo: Bool, dts: Int64, tag: FLVTag, arrived: ContinuousClock.Instant)] = []
    private var expectAudio = true
    private var expectVideo = true

    // Packaging (for the life of the stream).
    private var tracks: [TrackFormat] = []
    private var videoTrack: Int?
    private var audioTrack: Int?
    private var source: LiveRendition?
    private var masterWritten = false
    private var segments = 0
    private var pendingDiscontinuity = false

    // Timeline: every publisher's milliseconds mapped onto one continuous timeline.
    private var offset: Int64 = 0
    private var publisherBase: Int64?
    private var lastDTS: [Int64] = []
    private var timelineEnd: Int64 = 0
    private var arrivals: [(pts: Int64, at: ContinuousClock.Instant)] = []
    private(set) var latencies: [Duration] = []
    private let startedAt = Date()

    private var viewerSeen: [String: ContinuousClock.Instant] = [:]
    var fallbackReason: String?
    var transcoding = false
    /// Called once, when the master playlist first exists (the stream is watchable).
    var onPlayable: (@Sendable () async -> Void)?

    private let rungs: [Rendition]
    private var ladder: LiveLadder?
    private var ladderStart: Int64 = 0
    private var avcHeaderBody: [UInt8]?
    private var aacHeaderBody: [UInt8]?
    private var packetsSinceLagCheck = 0
    private var masterVariants = 0

    init(video: VideoID, owner: String, store: any BlobStore, configuration: LiveConfiguration, ladder rungs: [Rendition] = [], logger: Logger) throws {
        self.rungs = rungs
        self.video = video
        self.owner = owner
        self.store = store
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "video"] = "\(video)"
        self.logger = logger
        directory = configuration.mediaPrefix + video.description + "/live"
        try FileManager.default.createDirectory(at: configuration.scratchDirectory, withIntermediateDirectories: true)
        recorder = try FLVRecorder(url: configuration.scratchDirectory.appendingPathComponent("\(video)-\(UUID().uuidString.prefix(8)).flv"))
    }

    var masterKey: String { directory + "/master.m3u8" }
    var dvrMasterKey: String { directory + "/master-dvr.m3u8" }
    var recordingURL: URL { recorder.url }
    var hasMedia: Bool { segments > 0 }
    var recordedDuration: Duration { .milliseconds(timelineEnd) }

    func setOnPlayable(_ observer: @escaping @Sendable () async -> Void) { onPlayable = observer }

    func status() -> LiveStreamStatus {
        LiveStreamStatus(video: video, state: state, publishes: publishes, segments: segments, masterPlaylist: masterKey,
                         transcoding: transcoding, fallbackReason: fallbackReason, listingLatencies: latencies, viewers: viewerCount(),
                         recorded: recordedDuration)
    }

    // MARK: Publishers

    /// A publisher took over (the first, or a reconnect within the window).
    func attach(_ publisher: RTMPConnection) async throws {
        let connection = publisher.id
        guard state != .ended else {
            throw VideoStackError(.gone, "The live stream of video \(video) has ended.")
        }
        if state == .publishing, connectionID != nil {
            throw VideoStackError(.conflict, "Video \(video) is already being published by another connection.")
        }
        if publishes > 0 {
            logger.info("publisher reconnected; the stream continues after a discontinuity",
                        metadata: ["after": "\(detachedAt.map { ContinuousClock.now - $0 } ?? .zero)"])
            if source != nil { pendingDiscontinuity = true }
        }
        publishes += 1
        connectionID = connection
        self.connection = publisher
        state = .publishing
        detachedAt = nil
        metadata = nil
        avcRecord = nil
        audioConfig = nil
        held = []
        publisherBase = nil
        expectAudio = true
        expectVideo = true
    }

    /// The publisher's connection ended (cleanly or not). Returns when it was.
    func detach(connection: Int) -> ContinuousClock.Instant? {
        guard connectionID == connection else { return nil }
        connectionID = nil
        self.connection = nil
        guard state == .publishing else { return detachedAt }
        state = .waitingForReconnect
        let now = ContinuousClock.now
        detachedAt = now
        try? recorder.flush()
        return now
    }

    /// Whether the stream has been waiting for its publisher since `instant` (no reconnect meanwhile).
    func stillDetached(since instant: ContinuousClock.Instant) -> Bool {
        state == .waitingForReconnect && detachedAt == instant
    }

    func setMetadata(_ value: AMF0Value) {
        metadata = value
        if case .ecmaArray = value {} else if case .object = value {} else { return }
        // FFmpeg and OBS name the codecs they will send; a stream without audio says so here.
        expectVideo = value["videocodecid"] != nil || value["width"] != nil
        expectAudio = value["audiocodecid"] != nil || value["audiosamplerate"] != nil
        if !expectVideo && !expectAudio { expectVideo = true; expectAudio = true }
    }

    // MARK: Media

    /// One FLV tag body of the current publisher at `timestamp` milliseconds of its clock.
    func media(isVideo: Bool, timestamp: UInt32, body: [UInt8]) async throws {
        guard state == .publishing else { return }
        let tag = try isVideo ? FLVTag.video(body) : FLVTag.audio(body)
        // A publisher's clock starts where it likes; the stream's continues from the last packet.
        if publisherBase == nil {
            publisherBase = Int64(timestamp)
            offset = (timelineEnd == 0 ? 0 : timelineEnd + 40) - Int64(timestamp)
        }
        let dts = Int64(timestamp) + offset
        let arrived = ContinuousClock.now
        switch tag {
        case .videoControl:
            return
        case .avcSequenceHeader(let record):
            if let known = avcRecord, known != record {
                logger.warning("the publisher changed its H.264 parameters mid-stream; players may need to reload")
            }
            avcRecord = record
            avcHeaderBody = body
            try recorder.append(type: 9, timestamp: UInt32(clamping: dts), body: body)
            ladder?.feed(type: 9, timestamp: UInt32(clamping: dts), body: body)
            try await startIfReady(force: false)
            return
        case .aacSequenceHeader(let config):
            _ = try AudioSpecificConfig(config)
            audioConfig = config
            aacHeaderBody = body
            try recorder.append(type: 8, timestamp: UInt32(clamping: dts), body: body)
            ladder?.feed(type: 8, timestamp: UInt32(clamping: dts), body: body)
            try await startIfReady(force: false)
            return
        case .avcFrame, .aacFrame:
            break
        }
        try recorder.append(type: isVideo ? 9 : 8, timestamp: UInt32(clamping: dts), body: body)
        if source != nil { ladder?.feed(type: isVideo ? 9 : 8, timestamp: UInt32(clamping: dts), body: body) }
        if source == nil || pendingDiscontinuity || !held.isEmpty {
            held.append((isVideo, dts, tag, arrived))
            // Without a sequence header for an expected track after 3 s, go on with what there is.
            if let first = held.first, dts - first.dts > 3000 {
                try await startIfReady(force: true)
            } else {
                try await startIfReady(force: false)
            }
            guard held.count < 2000 else {
                throw VideoStackError(.invalidPackets, "The publisher sent \(held.count) frames without the sequence headers that describe them (an AVC or AAC sequence header).")
            }
            return
        }
        try await deliver(isVideo: isVideo, dts: dts, tag: tag, arrived: arrived)
    }

    private func startIfReady(force: Bool) async throws {
        let haveVideo = avcRecord != nil, haveAudio = audioConfig != nil
        let ready = (haveVideo || !expectVideo) && (haveAudio || !expectAudio)
        guard ready || (force && (haveVideo || haveAudio)) else { return }
        if source == nil {
            try await makeSource()
        } else if pendingDiscontinuity {
            pendingDiscontinuity = false
            try await source!.discontinuity()
            for index in lastDTS.indices { lastDTS[index] = .min }
        }
        let queued = held
        held = []
        for item in queued {
            try await deliver(isVideo: item.isVideo, dts: item.dts, tag: item.tag, arrived: item.arrived)
        }
    }

    private func makeSource() async throws {
        var formats: [TrackFormat] = []
        let frameRate = metadata?["framerate"]?.numberValue ?? metadata?["fps"]?.numberValue
        if let avcRecord {
            var format = TrackFormat(kind: .video, codec: "h264", extradata: avcRecord, timescale: 1000,
                                     width: Int(metadata?["width"]?.numberValue ?? 0), height: Int(metadata?["height"]?.numberValue ?? 0),
                                     bitRate: Int((metadata?["videodatarate"]?.numberValue ?? 0) * 1000))
            if let frameRate, frameRate > 0, frameRate < 1000 { format.frameRate = Rational(Int(frameRate * 1000), 1000) }
            videoTrack = formats.count
            formats.append(format)
            recorder.setPictureSize(width: format.width, height: format.height)
        }
        if let audioConfig, let parsed = try? AudioSpecificConfig(audioConfig) {
            audioTrack = formats.count
            formats.append(TrackFormat(kind: .audio, codec: "aac", extradata: audioConfig, timescale: 1000, sampleRate: parsed.sampleRate,
                                       channels: parsed.channels, bitRate: Int((metadata?["audiodatarate"]?.numberValue ?? 128) * 1000),
                                       codecString: parsed.codecString))
        }
        tracks = formats
        lastDTS = Array(repeating: .min, count: formats.count)
        let programDateTime = Date()
        let rendition = try LiveRendition(store: store, directory: directory, name: "source", tracks: formats, configuration: configuration,
                                          programDateTime: programDateTime, logger: logger)
        startLadder(programDateTime: programDateTime)
        source = rendition
        await rendition.onListed { [weak self] count in await self?.segmentListed(count) }
        logger.info("live packaging started", metadata: [
            "tracks": "\(formats.map { "\($0.kind.rawValue):\($0.codec)" })", "segment": "\(configuration.segmentDuration)",
            "window": "\(configuration.window)", "dvrSegments": "\(configuration.dvrSegments)",
        ])
    }

    /// Starts the live transcode when the mode asks for one and there are rungs below the source.
    private func startLadder(programDateTime: Date) {
        guard configuration.transcode.transcodes, let video = tracks.first(where: { $0.kind == .video }) else { return }
        let height = video.height > 0 ? video.height : Int.max
        let below = rungs.filter { $0.height < height && $0.hasVideo }
        guard !below.isEmpty else {
            fallbackReason = "no rung of the ladder is smaller than the \(video.height)p source; packaging the source alone"
            return
        }
        do {
            let made = try LiveLadder(renditions: below, store: store, directory: directory, configuration: configuration,
                                      programDateTime: programDateTime, logger: logger)
            // The transcoder needs the sequence headers first; the held frames follow from deliver.
            if let avcHeaderBody { made.feed(type: 9, timestamp: 0, body: avcHeaderBody) }
            if let aacHeaderBody { made.feed(type: 8, timestamp: 0, body: aacHeaderBody) }
            ladder = made
            transcoding = true
            ladderStart = timelineEnd
            logger.info("live transcode started", metadata: ["rungs": "\(below.map(\.name))", "mode": "\(configuration.transcode)"])
        } catch {
            fallbackReason = "the live transcode could not start: \(error)"
            logger.warning("live transcode could not start; packaging the source alone", metadata: ["error": "\(error)"])
        }
    }

    /// Checks how far the live transcode trails the source; in automatic mode, drops it when too far.
    private func checkLadder(sourceMilliseconds: Int64) async {
        guard let ladder else { return }
        packetsSinceLagCheck += 1
        guard packetsSinceLagCheck >= 15 else { return }
        packetsSinceLagCheck = 0
        if let failed = ladder.failed {
            await fallBack(failed)
            return
        }
        let limit = Int64(configuration.maxTranscodeLag / .milliseconds(1))
        guard let latest = await ladder.sink.latestMilliseconds else {
            // Probing reads a few seconds first; no output at all long after that is falling behind too.
            if sourceMilliseconds - ladderStart > max(20_000, limit), configuration.transcode.fallsBack {
                await fallBack("the live transcoder produced nothing in \((sourceMilliseconds - ladderStart) / 1000) s")
            }
            return
        }
        let lag = sourceMilliseconds - latest
        if lag > limit, configuration.transcode.fallsBack {
            await fallBack("the live transcoder fell \(Double(lag) / 1000) s behind the source (limit \(configuration.maxTranscodeLag))")
        }
    }

    private func fallBack(_ reason: String) async {
        guard let ladder else { return }
        self.ladder = nil
        transcoding = false
        fallbackReason = reason
        logger.warning("live transcode stopped; the stream goes on in pass-through", metadata: ["reason": "\(reason)"])
        await ladder.stop()
        await ladder.sink.finishAll()
        if let source, masterWritten {
            try? await writeMasters(await source.summary())
        }
    }

    private func deliver(isVideo: Bool, dts rawDTS: Int64, tag: FLVTag, arrived: ContinuousClock.Instant) async throws {
        guard let source else { return }
        if isVideo { await checkLadder(sourceMilliseconds: rawDTS) }
        let track: Int
        var data: [UInt8]
        var cts: Int64 = 0
        var keyframe = true
        var duration: Int64
        switch tag {
        case .avcFrame(let bytes, let composition, let isKeyframe):
            guard let videoTrack else { return }
            track = videoTrack
            data = bytes
            cts = Int64(max(composition, 0))
            keyframe = isKeyframe
            duration = 33
        case .aacFrame(let bytes):
            guard let audioTrack else { return }
            track = audioTrack
            data = bytes
            duration = Int64((1024_000 / max(tracks[audioTrack].sampleRate, 1)))
        default:
            return
        }
        guard !data.isEmpty else { return }
        var dts = rawDTS
        if lastDTS[track] != .min, dts <= lastDTS[track] { dts = lastDTS[track] + 1 }  // timestamps must strictly increase
        lastDTS[track] = dts
        timelineEnd = max(timelineEnd, dts + duration)
        if isVideo {
            arrivals.append((dts + cts, arrived))
            if arrivals.count > 600 { arrivals.removeFirst(arrivals.count - 600) }
        }
        if duration <= 0 { duration = 1 }
        try await source.append(EncodedPacket(data: data, pts: dts + cts, dts: dts, duration: duration, isKeyframe: keyframe), track: track)
    }

    private func segmentListed(_ count: Int) async {
        let listedAt = ContinuousClock.now
        segments = count
        guard let source else { return }
        let summary = await source.summary()
        if let start = summary.segmentStarts.last, let length = summary.segmentDurations.last {
            // The segment's last frame is the last video frame presented before its end.
            let end = start + length
            let endMilliseconds = Int64((end / .milliseconds(1)).rounded()) - 1
            if let last = arrivals.last(where: { $0.pts <= endMilliseconds }) {
                latencies.append(listedAt - last.at)
                if latencies.count > 10_000 { latencies.removeFirst() }
            }
        }
        // Players get the stream once its playlists hold three segments: they start three target
        // durations from the live edge (RFC 8216 §6.3.3), and Chromium fails a shorter live
        // playlist for good (DEMUXER_ERROR_COULD_NOT_PARSE) instead of waiting for it to grow.
        guard count >= Self.segmentsBeforePlayable else { return }
        let variants = 1 + (await ladder?.sink.summaries().count ?? 0)
        if !masterWritten || count % 10 == 0 || variants != masterVariants {
            masterVariants = variants
            do {
                try await writeMasters(summary)
            } catch {
                logger.warning("could not write the live master playlist; the next segment tries again", metadata: ["error": "\(error)"])
                return
            }
            if !masterWritten {
                masterWritten = true
                logger.info("live stream playable", metadata: ["master": "\(masterKey)"])
                await onPlayable?()
            }
        }
    }

    /// Segments listed before the master playlist is written and the video turns live.
    static let segmentsBeforePlayable = 3

    private func writeMasters(_ summary: RenditionSummary) async throws {
        let all = [summary] + (await ladder?.sink.summaries() ?? [])
        let live = all.map { rendition -> RenditionSummary in
            var edge = rendition
            edge.playlistKey = rendition.directory + "/index.m3u8"
            return edge
        }
        try await store.put(masterKey, string: try MasterPlaylist(renditions: live, directory: directory).render(), contentType: nil)
        try await store.put(dvrMasterKey, string: try MasterPlaylist(renditions: all, directory: directory).render(), contentType: nil)
    }

    // MARK: Ending

    /// Finishes packaging (`ENDLIST`) and closes the recording. Returns whether anything was recorded.
    func end(discarding: Bool = false) async -> Bool {
        guard state != .ended else { return hasMedia }
        // A stream forgotten before anything was packaged (its publisher was refused for its
        // media) must not package the frames it held back: they would make the video live.
        if discarding { held = [] }
        state = .ended
        connectionID = nil
        if let connection {
            // Ended from outside (the owner, shutdown): the publisher goes too.
            connection.close(reason: "the live stream was ended")
            self.connection = nil
        }
        if !held.isEmpty { try? await startIfReady(force: true) }
        if let ladder {
            await ladder.finish()
            if let failed = ladder.failed, fallbackReason == nil { fallbackReason = failed }
        }
        if let source {
            do {
                let summary = try await source.finish()
                try await writeMasters(summary)
                if !masterWritten, hasMedia {
                    // Too short to have been listed live: it goes live now, so it can end and
                    // its recording be published like any other.
                    masterWritten = true
                    await onPlayable?()
                }
            } catch {
                logger.warning("could not finish the live playlists", metadata: ["error": "\(error)"])
            }
        }
        do {
            try recorder.close()
        } catch {
            logger.error("could not close the live recording", metadata: ["error": "\(error)"])
        }
        logger.info("live stream ended", metadata: ["segments": "\(segments)", "publishes": "\(publishes)", "recorded": "\(recordedDuration)"])
        return hasMedia
    }

    /// The recording as chunks, for the blob store.
    func recordingStream() throws -> AsyncThrowingStream<[UInt8], any Error> {
        try recorder.stream()
    }

    func removeRecording() {
        try? FileManager.default.removeItem(at: recorder.url)
    }

    // MARK: Viewers

    func sawViewer(_ viewer: String) {
        viewerSeen[viewer] = .now
        if viewerSeen.count > 100_000 { pruneViewers() }
    }

    func viewerCount() -> Int {
        let cutoff = ContinuousClock.now - configuration.viewerTimeout
        return viewerSeen.values.filter { $0 >= cutoff }.count
    }

    private func pruneViewers() {
        let cutoff = ContinuousClock.now - configuration.viewerTimeout
        viewerSeen = viewerSeen.filter { $0.value >= cutoff }
    }
}
