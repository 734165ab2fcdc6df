import Foundation
public import Logging
public import VideoCore

/// What one packaged rendition came to: where its playlists are and what a master playlist says about it.
public struct RenditionSummary: Sendable, Hashable {
    /// The blob-store directory (key prefix) of the rendition, e.g. `videos/abc/720p`.
    public var directory: String
    /// Key of the media playlist.
    public var playlistKey: String
    /// Key of the I-frame playlist, when one was written.
    public var iFramePlaylistKey: String?
    /// The formats of the tracks, in the order they were given.
    public var tracks: [TrackFormat]
    /// RFC 6381 codec string of each track, e.g. `["avc1.64001f", "mp4a.40.2"]`.
    public var codecs: [String]
    /// Highest bit rate of any segment (bytes × 8 / duration), bits per second.
    public var peakBitRate: Int
    /// Total bytes × 8 / total duration, bits per second.
    public var averageBitRate: Int
    /// Highest bit rate of the I-frame byte ranges over their durations, bits per second (0 without I-frames).
    public var iFramePeakBitRate: Int
    /// Average bit rate of the I-frame byte ranges, bits per second.
    public var iFrameAverageBitRate: Int
    /// Start of each segment, on the leading track's timeline.
    public var segmentStarts: [Duration]
    /// Duration of each segment.
    public var segmentDurations: [Duration]
    /// Byte size of each segment.
    public var segmentSizes: [Int]

    /// Creates a summary; ``RenditionPackager/finish()`` makes them (tests and other packagers may too).
    public init(directory: String, playlistKey: String, iFramePlaylistKey: String?, tracks: [TrackFormat], codecs: [String],
                peakBitRate: Int, averageBitRate: Int, iFramePeakBitRate: Int, iFrameAverageBitRate: Int,
                segmentStarts: [Duration], segmentDurations: [Duration], segmentSizes: [Int]) {
        self.directory = directory
        self.playlistKey = playlistKey
        self.iFramePlaylistKey = iFramePlaylistKey
        self.tracks = tracks
        self.codecs = codecs
        self.peakBitRate = peakBitRate
        self.averageBitRate = averageBitRate
        self.iFramePeakBitRate = iFramePeakBitRate
        self.iFrameAverageBitRate = iFrameAverageBitRate
        self.segmentStarts = segmentStarts
        self.segmentDurations = segmentDurations
        self.segmentSizes = segmentSizes
    }

    /// Whether the rendition carries video.
    public var hasVideo: Bool { tracks.contains { $0.kind == .video } }
    /// Whether the rendition carries audio.
    public var hasAudio: Bool { tracks.contains { $0.kind == .audio } }
    /// The first video track, if any.
    public var video: TrackFormat? { tracks.first { $0.kind == .video } }
}

/// Cuts the packets of one rendition (one video track and/or audio tracks) into HLS segments and
/// keeps its media playlist (and I-frame playlist) in a `BlobStore`.
///
/// Feed packets with ``append(_:track:)`` in decode order per track (tracks may interleave in any
/// order), then call ``finish()``. Segments start at the first video keyframe at or after each
/// multiple of ``HLSConfiguration/segmentDuration`` from the first packet; audio packets join
/// the segment their presentation time falls in. Audio-only renditions cut at the boundaries.
///
/// Timestamps: each packet needs a pts and dts (`Int64.min` means "none" and is rejected) and
/// decode timestamps must strictly increase per track; `pts < dts` is rejected. Sample durations
/// are taken from the gaps between decode timestamps (the packet's own duration is used only for
/// the last packet), so packets with `duration == 0` are repaired. Every timestamp is shifted by
/// ``HLSConfiguration/presentationOffset`` so that decode times before presentation (B-frames)
/// stay non-negative with non-negative composition offsets, which every player reads alike.
/// Audio packets with negative timestamps (encoder priming) are dropped. Video that starts with
/// a non-keyframe is rejected or trimmed per ``HLSConfiguration/leadingNonKeyframes``.
///
/// Codecs: H.264 as Annex B or length-prefixed (the SPS/PPS come from `extradata`, or from the
/// first keyframe when there is none), HEVC with an `hvcC` record in `extradata`, AAC raw or ADTS.
///
/// Segment uploads overlap with cutting (up to ``HLSConfiguration/concurrentWrites``); a playlist
/// is written only after every segment it names is stored.
public actor RenditionPackager {
    /// Fires after each media playlist update with the number of segments in it (for "watch while it transcodes").
    public typealias SegmentObserver = @Sendable (_ segmentCount: Int) async -> Void

    let store: any BlobStore
    let directory: String
    let configuration: HLSConfiguration
    let logger: Logger
    /// The track formats as given, with a video size filled in from the SPS when it was missing.
    private(set) var formats: [TrackFormat]
    let leader: Int
    private var tracks: [TrackState]
    private var cuts: [(leaderIndex: Int, time: Int64)] = []
    private var nextBoundary: Int64 = 0
    private var origin: Int64?
    private var segmentStart: Int64?
    private var segments: [MediaSegment] = []
    private var iFrameSegments: [MediaSegment] = []
    private var segmentStarts: [Duration] = []
    private var segmentSizes: [Int] = []
    private var iFrameSizes: [Int] = []
    private var sequence = 0
    private var fragmentSequence: UInt32 = 1
    private var initWritten = false
    private var initSize = 0
    private var singleFileOffset = 0
    private var singleFileParts: [String] = []
    private var pendingDiscontinuity = false
    private var inFlight: [Task<Void, any Error>] = []
    private var finished = false
    private var codecs: [CodecConfiguration?]
    private var tsMuxer: TSMuxer?
    private var observer: SegmentObserver?
    private var mediaSequence = 0
    private var discontinuitySequence = 0

    private struct TrackState {
        var format: TrackFormat
        var pending: [EncodedPacket] = []
        var lastDTS: Int64?
        var delay: Int64 = 0
        var started = false
        var dropped = 0
        var received = 0
        var lastDuration: Int64 = 0
    }

    /// Creates a packager writing under `directory` (a key prefix without trailing slash; empty for the store root).
    ///
    /// Throws `VideoStackError/Code/invalidInput` for a bad configuration (segment duration
    /// outside 1-10 s, single-file mode outside VOD, no tracks, a live window under 3) and
    /// `VideoStackError/Code/unsupported` for codecs other than H.264, HEVC and AAC.
    public init(store: any BlobStore, directory: String, tracks: [TrackFormat], configuration: HLSConfiguration = HLSConfiguration(),
                logger: Logger) throws {
        guard !tracks.isEmpty else {
            throw VideoStackError(.invalidInput, "A rendition needs at least one track.")
        }
        guard (Duration.seconds(1)...Duration.seconds(10)).contains(configuration.segmentDuration) else {
            throw VideoStackError(.invalidInput, "The segment duration must be between 1 and 10 seconds; got \(configuration.segmentDuration).")
        }
        guard (Duration.zero...Duration.seconds(60)).contains(configuration.presentationOffset) else {
            throw VideoStackError(.invalidInput, "The presentation offset must be between 0 and 60 seconds; got \(configuration.presentationOffset).")
        }
        if configuration.singleFile, configuration.mode != .vod {
            throw VideoStackError(.invalidInput, "Single-file (byte-range) mode needs VOD mode: a growing single file cannot be stored atomically per segment.")
        }
        if case .live(let window) = configuration.mode, window < 3 {
            throw VideoStackError(.invalidInput, "A live window needs at least 3 segments (RFC 8216 section 6.2.2); got \(window).")
        }
        for format in tracks {
            guard ["h264", "hevc", "aac"].contains(format.codec) else {
                throw VideoStackError(.unsupported, "The packager handles H.264 or HEVC video and AAC audio; a track has codec '\(format.codec)'. Transcode it to H.264/AAC first.")
            }
            guard format.timescale > 0 else {
                throw VideoStackError(.invalidInput, "Track timescale must be positive; got \(format.timescale).")
            }
        }
        guard tracks.filter({ $0.kind == .video }).count <= 1 else {
            throw VideoStackError(.invalidInput, "A rendition holds at most one video track; make one rendition per video rung.")
        }
        self.store = store
        self.directory = directory
        self.configuration = configuration
        self.logger = logger
        self.formats = tracks
        self.leader = tracks.firstIndex { $0.kind == .video } ?? 0
        self.tracks = tracks.map { TrackState(format: $0) }
        self.codecs = Array(repeating: nil, count: tracks.count)
        if configuration.segmentFormat == .mpegts { tsMuxer = TSMuxer(formats: tracks) }
    }

    /// Sets a closure called after each media playlist update (EVENT and live modes).
    public func onPlaylistUpdate(_ observer: @escaping SegmentObserver) {
        self.observer = observer
    }

    func key(_ name: String) -> String { directory.isEmpty ? name : directory + "/" + name }

    var segmentExtension: String { configuration.segmentFormat == .fmp4 ? "m4s" : "ts" }

    /// The media playlist as it stands (EVENT/live: what has been written so far).
    public var playlist: MediaPlaylist { makePlaylist(final: finished) }

    /// Adds one packet of track `track` (an index into the tracks given at creation).
    ///
    /// Throws `VideoStackError/Code/invalidPackets` for a packet without timestamps, with a
    /// decode timestamp not after the previous one, or with `pts < dts`, and
    /// `VideoStackError/Code/invalidInput` for an unknown track or after ``finish()``.
    public func append(_ packet: EncodedPacket, track: Int) async throws {
        guard !finished else { throw VideoStackError(.invalidInput, "append was called after finish().") }
        guard tracks.indices.contains(track) else {
            throw VideoStackError(.invalidInput, "Track \(track) does not exist; this rendition has \(tracks.count) tracks.")
        }
        tracks[track].received += 1
        var state = tracks[track]
        let name = "\(state.format.kind.rawValue) track \(track)"
        guard packet.pts != .min, packet.dts != .min else {
            throw VideoStackError(.invalidPackets, "Packet \(state.received) of \(name) has no timestamp; the packager does not guess timing. Let the demuxer or encoder generate timestamps (FFmpeg: -fflags +genpts).")
        }
        guard packet.pts >= packet.dts else {
            throw VideoStackError(.invalidPackets, "Packet \(state.received) of \(name) is presented (pts \(packet.pts)) before it is decoded (dts \(packet.dts)); the timestamps are damaged.")
        }
        if let last = state.lastDTS, packet.dts <= last {
            throw VideoStackError(.invalidPackets, "Packet \(state.received) of \(name) has dts \(packet.dts), not after the previous packet's \(last); decode timestamps must strictly increase. Remux with timestamp repair or add a discontinuity.")
        }
        guard !packet.data.isEmpty else {
            throw VideoStackError(.invalidPackets, "Packet \(state.received) of \(name) is empty.")
        }
        if !state.started {
            let isAudio = state.format.kind == .audio
            if isAudio && packet.pts < 0 {
                // Encoder priming: samples before time zero are meant to be discarded.
                tracks[track].dropped += 1
                return
            }
            if !packet.isKeyframe {
                if configuration.leadingNonKeyframes == .drop {
                    tracks[track].dropped += 1
                    return
                }
                throw VideoStackError(.invalidPackets, "The \(name) starts with a packet that is not a keyframe, so no segment could start there. Start the stream at a keyframe or set leadingNonKeyframes = .drop.")
            }
            if track != leader, !tracks[leader].started {
                // Nothing may come before the leading track's first keyframe: a segment starts there.
                tracks[track].dropped += 1
                return
            }
            if state.dropped > 0 {
                logger.notice("Dropped leading packets before the first usable one", metadata: ["track": "\(track)", "count": "\(state.dropped)"])
            }
            state.started = true
            state.delay = Int64((configuration.presentationOffset.inSeconds * Double(state.format.timescale)).rounded())
            if codecs[track] == nil {
                let codec = try CodecConfiguration(format: state.format, firstKeyframe: packet.data)
                codecs[track] = codec
                // Raw Annex B sources may not know their size; the SPS does (RESOLUTION, tkhd, avc1).
                if case .h264(let configuration) = codec, formats[track].width <= 0 || formats[track].height <= 0,
                   let sps = try? H264.SequenceParameterSet(configuration.sps[0]), sps.width > 0, sps.height > 0 {
                    formats[track].width = sps.width
                    formats[track].height = sps.height
                }
            }
        }
        guard packet.dts + state.delay >= 0 else {
            throw VideoStackError(.invalidPackets, "Packet \(state.received) of \(name) decodes at \(Double(packet.dts) / Double(state.format.timescale)) s, earlier than the presentation offset of \(configuration.presentationOffset) allows; raise HLSConfiguration.presentationOffset.")
        }
        if packet.duration > 0 {
            state.lastDuration = packet.duration
        } else if let last = state.lastDTS {
            // No duration given: the gap since the previous packet is the best guess for the last one.
            state.lastDuration = packet.dts - last
        }
        state.lastDTS = packet.dts
        state.pending.append(packet)

        if track == leader {
            let time = packet.pts
            let timescale = Int64(state.format.timescale)
            if origin == nil {
                origin = time
                segmentStart = time
                nextBoundary = time + boundaryStep(timescale)
            } else if packet.isKeyframe || state.format.kind == .audio, time >= nextBoundary - timescale / 1000 {
                let index = state.pending.count - 1
                if index > (cuts.last?.leaderIndex ?? 0) {
                    cuts.append((index, time))
                    let step = boundaryStep(timescale)
                    while nextBoundary - timescale / 1000 <= time { nextBoundary += step }
                }
            }
        }
        tracks[track] = state
        try await emitReadySegments(final: false)
    }

    private func boundaryStep(_ timescale: Int64) -> Int64 {
        Int64((configuration.segmentDuration.inSeconds * Double(timescale)).rounded())
    }

    /// Closes the current segment; the next one is marked `EXT-X-DISCONTINUITY` and may restart
    /// timestamps (an encoder restart, a new source).
    public func discontinuity() async throws {
        try await emitReadySegments(final: true)
        pendingDiscontinuity = true
        for index in tracks.indices {
            tracks[index].lastDTS = nil
            tracks[index].started = false
        }
        origin = nil
        cuts = []
    }

    /// Writes the last segment and the final playlists. Returns what a master playlist needs.
    ///
    /// Throws `VideoStackError/Code/invalidPackets` if no segment could be made (no packets, or
    /// no keyframe in the leading track).
    @discardableResult
    public func finish() async throws -> RenditionSummary {
        guard !finished else { return summary() }
        try await emitReadySegments(final: true)
        guard !segments.isEmpty else {
            throw VideoStackError(.invalidPackets, "No segment could be made: the rendition received no usable packets (\(tracks.map(\.received)) per track, none starting with a keyframe).")
        }
        finished = true
        try await drainWrites()
        if configuration.singleFile { try await writeSingleFile() }
        try await writePlaylists(final: true)
        return summary()
    }

    // MARK: Segments

    private func emitReadySegments(final: Bool) async throws {
        while true {
            guard origin != nil, !tracks[leader].pending.isEmpty else { return }
            let cut: (leaderIndex: Int, time: Int64)?
            if let first = cuts.first {
                cut = first
            } else if final {
                cut = nil
            } else {
                return
            }
            // The segment may close only once every other track has shown a packet past the cut.
            if let cut, !final {
                for index in tracks.indices where index != leader && tracks[index].started {
                    let state = tracks[index]
                    guard let last = state.pending.last, compare(last.pts, state.format.timescale, cut.time, tracks[leader].format.timescale) >= 0 else {
                        return
                    }
                }
            }
            try await emitSegment(cut: cut)
            if cut == nil { return }
        }
    }

    /// Compares `a / scaleA` with `b / scaleB` exactly.
    private func compare(_ a: Int64, _ scaleA: Int32, _ b: Int64, _ scaleB: Int32) -> Int {
        let left = a.multipliedFullWidth(by: Int64(scaleB))
        let right = b.multipliedFullWidth(by: Int64(scaleA))
        if left.high != right.high { return left.high < right.high ? -1 : 1 }
        if left.low != right.low { return left.low < right.low ? -1 : 1 }
        return 0
    }

    private func emitSegment(cut: (leaderIndex: Int, time: Int64)?) async throws {
        let leaderScale = tracks[leader].format.timescale
        var runs: [(track: Int, packets: ArraySlice<EncodedPacket>, nextDTS: Int64?)] = []
        for index in tracks.indices {
            let state = tracks[index]
            let count: Int
            if index == leader {
                count = cut?.leaderIndex ?? state.pending.count
            } else if let cut {
                count = state.pending.firstIndex { compare($0.pts, state.format.timescale, cut.time, leaderScale) >= 0 } ?? state.pending.count
            } else {
                count = state.pending.count
            }
            let nextDTS = count < state.pending.count ? state.pending[count].dts : nil
            runs.append((index, state.pending[..<count], nextDTS))
        }
        let leaderPackets = runs[leader].packets
        let start = segmentStart ?? leaderPackets.first!.pts
        let end: Int64
        if let cut {
            end = cut.time
        } else {
            end = leaderPackets.map { $0.pts + max($0.duration, tracks[leader].lastDuration) }.max() ?? start
        }
        let duration = Duration.ticks(end - start, timescale: Int64(leaderScale))

        let number = sequence
        sequence += 1
        let (bytes, iFrameLength) = try muxSegment(runs: runs)
        if !initWritten { try await writeInit() }

        let name = "seg_" + String(format: "%05d", number) + "." + segmentExtension
        let uri: String
        var byteRange: ByteRange?
        if configuration.singleFile {
            uri = "media." + (configuration.segmentFormat == .fmp4 ? "mp4" : "ts")
            byteRange = ByteRange(length: bytes.count, offset: singleFileOffset)
            let part = key(".parts/" + name)
            singleFileParts.append(part)
            try await startWrite(part, bytes)
        } else {
            uri = name
            try await startWrite(key(name), bytes)
        }
        let segmentOffset = byteRange?.offset ?? 0
        singleFileOffset += bytes.count

        var segment = MediaSegment(uri: uri, duration: duration, byteRange: byteRange, discontinuity: pendingDiscontinuity)
        if let base = configuration.programDateTime {
            // Wall-clock time runs on across discontinuities, so it follows the playlist durations, not the timestamps.
            let elapsed = segments.reduce(Duration.zero) { $0 + $1.duration }.inSeconds
            segment.programDateTime = Date(timeIntervalSince1970: ((base.timeIntervalSince1970 + elapsed) * 1000).rounded() / 1000)
        }
        pendingDiscontinuity = false
        segments.append(segment)
        segmentStarts.append(.ticks(start, timescale: Int64(leaderScale)))
        segmentSizes.append(bytes.count)
        if let iFrameLength {
            var iFrame = segment
            iFrame.byteRange = ByteRange(length: iFrameLength, offset: segmentOffset)
            iFrameSegments.append(iFrame)
            iFrameSizes.append(iFrameLength)
        }

        for run in runs {
            tracks[run.track].pending.removeFirst(run.packets.count)
        }
        if let cut {
            cuts.removeFirst()
            cuts = cuts.map { ($0.leaderIndex - cut.leaderIndex, $0.time) }
            segmentStart = cut.time
        } else {
            segmentStart = nil
        }

        if configuration.mode != .vod {
            try await drainWrites()
            try await writePlaylists(final: false)
        }
    }

    private func muxSegment(runs: [(track: Int, packets: ArraySlice<EncodedPacket>, nextDTS: Int64?)]) throws -> ([UInt8], Int?) {
        var prepared: [(track: Int, base: UInt64, samples: [FragmentSample])] = []
        for run in runs where !run.packets.isEmpty {
            let state = tracks[run.track]
            let isH264 = state.format.codec == "h264"
            let isADTSAudio = state.format.codec == "aac"
            var samples: [FragmentSample] = []
            samples.reserveCapacity(run.packets.count)
            let packets = run.packets
            var index = packets.startIndex
            while index < packets.endIndex {
                let packet = packets[index]
                let next = index + 1 < packets.endIndex ? packets[index + 1].dts : run.nextDTS
                let duration = next.map { $0 - packet.dts } ?? (packet.duration > 0 ? packet.duration : state.lastDuration)
                var data = packet.data
                if isH264, case .h264(let configuration)? = codecs[run.track] {
                    // A length prefix of 256-511 bytes reads like a start code, so only convert
                    // when the sample is not already a valid run of length-prefixed NAL units.
                    if H264.lengthPrefixedUnits(data, lengthSize: configuration.lengthSize) == nil || state.format.extradata.first != 1 {
                        if H264.isAnnexB(data) { data = H264.toLengthPrefixed(data) }
                    }
                } else if case .hevc(let configuration)? = codecs[run.track],
                          H264.lengthPrefixedUnits(data, lengthSize: configuration.lengthSize) == nil {
                    throw VideoStackError(.invalidPackets, "An HEVC packet of track \(run.track) is not in length-prefixed form as its hvcC record says; HEVC is packaged from MP4 or Matroska sources.")
                } else if isADTSAudio, let adts = AAC.parseADTS(data[...]) {
                    data = Array(data[adts.headerLength...])
                }
                samples.append(FragmentSample(data: data, duration: UInt32(clamping: max(duration, 0)),
                                              compositionOffset: Int32(clamping: packet.pts - packet.dts), isSync: packet.isKeyframe))
                index += 1
            }
            prepared.append((run.track, UInt64(max(packets.first!.dts + state.delay, 0)), samples))
        }
        if let tsMuxer {
            return tsMuxer.segment(prepared.map { ($0.track, $0.base, $0.samples) }, codecs: codecs, iFrame: configuration.iFramePlaylist && formats[leader].kind == .video)
        }
        let wantIFrame = configuration.iFramePlaylist && formats[leader].kind == .video
        if wantIFrame, let leaderRun = prepared.first(where: { $0.track == leader }), leaderRun.samples.count > 0 {
            // The keyframe alone in the first fragment, so an I-frame byte range is a whole fragment.
            let keyRun = TrackRun(trackID: UInt32(leader + 1), baseDecodeTime: leaderRun.base, samples: [leaderRun.samples[0]], isVideo: true)
            let first = FMP4Writer.fragment(sequence: fragmentSequence, runs: [keyRun])
            fragmentSequence += 1
            var rest: [TrackRun] = []
            for run in prepared {
                if run.track == leader {
                    if run.samples.count > 1 {
                        rest.append(TrackRun(trackID: UInt32(leader + 1), baseDecodeTime: run.base + UInt64(run.samples[0].duration),
                                             samples: Array(run.samples.dropFirst()), isVideo: true))
                    }
                } else {
                    rest.append(TrackRun(trackID: UInt32(run.track + 1), baseDecodeTime: run.base, samples: run.samples,
                                         isVideo: formats[run.track].kind == .video))
                }
            }
            guard !rest.isEmpty else { return (first, first.count) }
            let second = FMP4Writer.fragment(sequence: fragmentSequence, runs: rest)
            fragmentSequence += 1
            return (first + second, first.count)
        }
        let bytes = FMP4Writer.fragment(sequence: fragmentSequence, runs: prepared.map {
            TrackRun(trackID: UInt32($0.track + 1), baseDecodeTime: $0.base, samples: $0.samples, isVideo: formats[$0.track].kind == .video)
        })
        fragmentSequence += 1
        return (bytes, nil)
    }

    private func writeInit() async throws {
        initWritten = true
        guard configuration.segmentFormat == .fmp4 else { return }
        var described: [(id: UInt32, format: TrackFormat, codec: CodecConfiguration)] = []
        for index in tracks.indices {
            // A track that never produced a packet still needs a sample entry; fall back to its extradata alone.
            let codec = try codecs[index] ?? CodecConfiguration(format: formats[index], firstKeyframe: nil)
            codecs[index] = codec
            described.append((UInt32(index + 1), formats[index], codec))
        }
        let bytes = FMP4Writer.initSegment(tracks: described)
        initSize = bytes.count
        if configuration.singleFile {
            singleFileOffset = bytes.count
            let part = key(".parts/init.mp4")
            singleFileParts.append(part)
            try await startWrite(part, bytes)
        } else {
            try await startWrite(key("init.mp4"), bytes)
        }
    }

    // MARK: Writes

    private func startWrite(_ key: String, _ bytes: [UInt8]) async throws {
        let store = self.store
        inFlight.append(Task { try await store.put(key, bytes: bytes) })
        while inFlight.count > max(1, configuration.concurrentWrites) {
            try await inFlight.removeFirst().value
        }
    }

    private func drainWrites() async throws {
        while !inFlight.isEmpty {
            try await inFlight.removeFirst().value
        }
    }

    private func writeSingleFile() async throws {
        let store = self.store
        let parts = singleFileParts
        let stream = AsyncThrowingStream<[UInt8], any Error> { continuation in
            let task = Task {
                do {
                    for part in parts { continuation.yield(try await store.get(part)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        let name = "media." + (configuration.segmentFormat == .fmp4 ? "mp4" : "ts")
        _ = try await store.put(key(name), chunks: stream, contentType: nil)
        for part in parts { try await store.delete(part) }
    }

    private func makePlaylist(final: Bool) -> MediaPlaylist {
        makePlaylist(segments: segments, final: final, iFrames: false)
    }

    private func makePlaylist(segments all: [MediaSegment], final: Bool, iFrames: Bool) -> MediaPlaylist {
        var list = all
        var mediaSequence = 0
        var discontinuitySequence = 0
        if case .live(let window) = configuration.mode, list.count > window {
            let dropped = list.count - window
            discontinuitySequence = list[..<dropped].filter(\.discontinuity).count
            mediaSequence = dropped
            list = Array(list[dropped...])
        }
        let mapURI: String? = configuration.segmentFormat == .fmp4 ? (configuration.singleFile ? "media.mp4" : "init.mp4") : nil
        if let mapURI, !list.isEmpty {
            list[0].map = MediaInitializationSection(uri: mapURI, byteRange: configuration.singleFile ? ByteRange(length: initSize, offset: 0) : nil)
        }
        let type: MediaPlaylist.PlaylistType?
        switch configuration.mode {
        case .vod: type = .vod
        case .event: type = final && configuration.finishEventAsVOD ? .vod : .event
        case .live: type = nil
        }
        let longest = list.map(\.duration).max() ?? configuration.segmentDuration
        // Whole seconds, rounded up: no segment's EXTINF then exceeds the target, however players round.
        let target = max(Int(longest.components.seconds) + (longest.components.attoseconds > 0 ? 1 : 0), 1)
        return MediaPlaylist(targetDuration: target, mediaSequence: mediaSequence, discontinuitySequence: discontinuitySequence,
                             playlistType: type, independentSegments: true, iFramesOnly: iFrames, endList: final, segments: list)
    }

    private func writePlaylists(final: Bool) async throws {
        let media = makePlaylist(segments: segments, final: final, iFrames: false)
        if configuration.iFramePlaylist, formats[leader].kind == .video, !iFrameSegments.isEmpty {
            let iFrames = makePlaylist(segments: iFrameSegments, final: final, iFrames: true)
            try await store.put(key("iframes.m3u8"), string: try iFrames.render(), contentType: nil)
        }
        try await store.put(key(configuration.playlistName), string: try media.render(), contentType: nil)
        if case .live(let window) = configuration.mode, segments.count > 2 * window, !configuration.singleFile {
            // Segments that left the window long ago: players that still hold an old playlist have had a full window to fetch them.
            let expired = segments.count - 2 * window - 1
            try await store.delete(key("seg_" + String(format: "%05d", expired) + "." + segmentExtension))
        }
        if let observer { await observer(segments.count) }
    }

    /// Segments cut and listed so far.
    public var segmentCount: Int { segments.count }

    /// What the rendition has come to so far (final after ``finish()``).
    public func summary() -> RenditionSummary {
        let totalDuration = segments.reduce(Duration.zero) { $0 + $1.duration }.inSeconds
        let totalBytes = segmentSizes.reduce(0, +)
        func rate(_ bytes: Int, _ seconds: Double) -> Int { seconds > 0 ? Int((Double(bytes * 8) / seconds).rounded(.up)) : 0 }
        let peak = zip(segmentSizes, segments).map { rate($0, $1.duration.inSeconds) }.max() ?? 0
        let iPeak = zip(iFrameSizes, iFrameSegments).map { rate($0, $1.duration.inSeconds) }.max() ?? 0
        let hasIFrames = configuration.iFramePlaylist && formats[leader].kind == .video && !iFrameSegments.isEmpty
        return RenditionSummary(
            directory: directory, playlistKey: key(configuration.playlistName),
            iFramePlaylistKey: hasIFrames ? key("iframes.m3u8") : nil,
            tracks: formats, codecs: formats.indices.map { codecs[$0]?.codecString ?? formats[$0].codecString ?? formats[$0].codec },
            peakBitRate: peak, averageBitRate: rate(totalBytes, totalDuration),
            iFramePeakBitRate: iPeak, iFrameAverageBitRate: rate(iFrameSizes.reduce(0, +), iFrameSegments.reduce(Duration.zero) { $0 + $1.duration }.inSeconds),
            segmentStarts: segmentStarts, segmentDurations: segments.map(\.duration), segmentSizes: segmentSizes)
    }
}
