internal import CFFmpeg
public import Foundation
public import Logging
public import VideoCore

/// Reads the already-encoded video and audio of a file as `VideoCore/TrackFormat`s and
/// `VideoCore/DemuxedPacket`s, without decoding, for packaging as is (the remux path): the FFmpeg
/// `VideoCore/PacketSource`, for MKV, MPEG-TS, FLV, fragmented MP4 and the rest.
///
/// The best video stream and the best audio stream are the tracks (video first). The file is
/// read front to back, never seeked, so named pipes and files without an index work. Reads run
/// on a thread of the demuxer's own; calls are serialized, so share one demuxer between tasks
/// only if one of them reads.
public final class Demuxer: PacketSource {
    /// The tracks read, video first.
    public let tracks: [TrackFormat]
    /// What a probe of the same input reports.
    public let info: MediaInfo
    private let reader: BlockingThreadPool<Void>
    private let state: State

    /// The input and the mapping from stream to track; touched only on the reader thread.
    private final class State: @unchecked Sendable {
        // @unchecked Sendable: used only by the demuxer's single reader thread.
        let input: InputFile
        let streamTrack: [Int: Int]
        let timescaleFactor: [Int64]
        let packet = Packet()
        var ended = false

        init(input: InputFile, streamTrack: [Int: Int], timescaleFactor: [Int64]) {
            self.input = input
            self.streamTrack = streamTrack
            self.timescaleFactor = timescaleFactor
        }
    }

    private init(tracks: [TrackFormat], info: MediaInfo, reader: BlockingThreadPool<Void>, state: State) {
        self.tracks = tracks
        self.info = info
        self.reader = reader
        self.state = state
    }

    /// Opens `url` and describes its tracks.
    ///
    /// - Throws: the errors of ``MediaProbe/probe(_:logger:)``, and `.invalidInput` when the
    ///   input has neither video nor audio.
    public static func open(_ url: URL, logger: Logger) async throws -> Demuxer {
        let demuxer = try await openTracks(url, logger: logger)
        logger.debug("Opened for remuxing", metadata: [
            "input": "\(url.lastPathComponent)", "format": "\(demuxer.info.format)",
            "tracks": "\(demuxer.tracks.map(\.codec).joined(separator: ","))",
        ])
        return demuxer
    }

    private static func openTracks(_ url: URL, logger: Logger) async throws -> Demuxer {
        let reader = try BlockingThreadPool<Void>(name: "videostack-demux", threads: 1) { _ in () }
        let (tracks, info, state) = try await reader.run { _ -> ([TrackFormat], MediaInfo, State) in
            let input = try InputFile(url: url, logger: logger)
            var tracks: [TrackFormat] = []
            var streamTrack: [Int: Int] = [:]
            var factors: [Int64] = []
            for index in [input.bestStream(AVMEDIA_TYPE_VIDEO), input.bestStream(AVMEDIA_TYPE_AUDIO)].compactMap({ $0 }) {
                let (track, factor) = trackFormat(input.stream(index))
                streamTrack[index] = tracks.count
                tracks.append(track)
                factors.append(factor)
            }
            guard !tracks.isEmpty else {
                throw VideoStackError(.invalidInput, "\(url.lastPathComponent) has neither a video nor an audio stream to package.")
            }
            return (tracks, MediaProbe.mediaInfo(of: input), State(input: input, streamTrack: streamTrack, timescaleFactor: factors))
        }
        return Demuxer(tracks: tracks, info: info, reader: reader, state: state)
    }

    /// Reads up to `maxPackets` packets in file order; an empty array at the end of the input.
    ///
    /// - Throws: `.corrupt` on a damaged read, `.io` on a stalled one.
    public func read(maxPackets: Int = 128) async throws -> [DemuxedPacket] {
        let maxPackets = max(1, maxPackets)
        let state = state
        return try await reader.run { _ in
            var batch: [DemuxedPacket] = []
            while batch.count < maxPackets, !state.ended {
                guard try state.input.read(into: state.packet) else {
                    state.ended = true
                    break
                }
                defer { state.packet.unref() }
                guard let track = state.streamTrack[state.packet.streamIndex] else { continue }
                let p = state.packet.pointer.pointee
                let factor = state.timescaleFactor[track]
                func scaled(_ value: Int64) -> Int64 { value == noPTS ? Int64.min : value * factor }
                batch.append(DemuxedPacket(track: track, packet: EncodedPacket(
                    data: state.packet.bytes, pts: scaled(p.pts), dts: scaled(p.dts), duration: max(0, p.duration) * factor,
                    isKeyframe: p.flags & AV_PKT_FLAG_KEY != 0)))
            }
            return batch
        }
    }

    private static func trackFormat(_ stream: UnsafeMutablePointer<AVStream>) -> (TrackFormat, Int64) {
        let parameters = stream.pointee.codecpar.pointee
        let timeBase = stream.pointee.time_base
        let codec = String(cString: avcodec_get_name(parameters.codec_id))
        var extradata: [UInt8] = []
        if parameters.extradata_size > 0, let bytes = parameters.extradata {
            extradata = Array(UnsafeBufferPointer(start: bytes, count: Int(parameters.extradata_size)))
        }
        let isVideo = parameters.codec_type == AVMEDIA_TYPE_VIDEO
        var sar = stream.pointee.sample_aspect_ratio
        if sar.num <= 0 || sar.den <= 0 { sar = parameters.sample_aspect_ratio }
        if sar.num <= 0 || sar.den <= 0 { sar = AVRational(num: 1, den: 1) }
        let rate = stream.pointee.avg_frame_rate
        var codecString: String?
        if codec == "h264" { codecString = CodecString.avc(extradata) }
        if codec == "aac" { codecString = CodecString.aac(extradata) }
        let track = TrackFormat(kind: isVideo ? .video : .audio, codec: codec, extradata: extradata, timescale: timeBase.den,
                                width: Int(parameters.width), height: Int(parameters.height),
                                sampleAspectRatio: Rational(Int(sar.num), Int(sar.den)),
                                frameRate: rate.num > 0 && rate.den > 0 ? Rational(Int(rate.num), Int(rate.den)) : nil,
                                sampleRate: Int(parameters.sample_rate), channels: Int(parameters.ch_layout.nb_channels),
                                bitRate: Int(max(0, parameters.bit_rate)), codecString: codecString)
        return (track, Int64(timeBase.num))
    }
}
