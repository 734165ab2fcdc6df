import Foundation
internal import HLSPackager
import Logging
import NIOConcurrencyHelpers
internal import TranscodePipeline
import VideoCore
#if canImport(Glibc)
import Glibc
#endif

/// A live transcode to a ladder: the publisher's FLV tags go through a FIFO into the platform's
/// own `Transcoder` (the same one that makes the video-on-demand ladder, reading a stream instead
/// of a file), whose packets go into live renditions beside the source rendition.
///
/// The transcoder reads as fast as the tags come, so it has no look-ahead beyond its probe; how
/// far its output trails the source (``lag``) tells whether the machine keeps up.
final class LiveLadder: Sendable {
    let sink: LiveLadderSink
    private let pipe: PipeWriter
    private let task: Task<Void, Never>
    private let failure: NIOLockedValueBox<String?>

    init(renditions: [Rendition], store: any BlobStore, directory: String, configuration: LiveConfiguration, programDateTime: Date,
         logger: Logger) throws {
        let fifo = configuration.scratchDirectory.appendingPathComponent("ladder-\(UUID().uuidString.prefix(8)).flv")
        let pipe = try PipeWriter(fifo: fifo)
        let sink = LiveLadderSink(store: store, directory: directory, configuration: configuration, programDateTime: programDateTime, logger: logger)
        var transcode = TranscodeConfiguration()
        transcode.preset = .veryfast
        transcode.thumbnails = nil
        // A publisher may be away for the whole reconnect window while the FIFO stays open.
        transcode.readTimeout = configuration.reconnectWindow + .seconds(30)
        let transcoder = Transcoder(configuration: transcode, logger: logger)
        let failure = NIOLockedValueBox<String?>(nil)
        self.pipe = pipe
        self.sink = sink
        self.failure = failure
        task = Task {
            do {
                _ = try await transcoder.transcode(input: fifo, renditions: renditions, sink: sink)
            } catch {
                failure.withLockedValue { $0 = "the live transcoder stopped: \(error)" }
            }
            try? FileManager.default.removeItem(at: fifo)
        }
        pipe.enqueue(FLVRecorder.fileHeader)
    }

    /// Why the transcode stopped on its own, if it did.
    var failed: String? { failure.withLockedValue { $0 } }

    /// Bytes written to the transcoder but not yet taken by it.
    var queuedBytes: Int { pipe.queuedBytes }

    /// Hands one tag to the transcoder.
    func feed(type: UInt8, timestamp: UInt32, body: [UInt8]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + 15)
        FLVRecorder.appendTag(type: type, timestamp: timestamp, body: body, into: &bytes)
        pipe.enqueue(bytes)
    }

    /// Ends the input; the transcoder drains what it has and finishes its renditions.
    func finish() async {
        pipe.close()
        await task.value
    }

    /// Stops at once (the fallback): the renditions get `ENDLIST` with what they have.
    func stop() async {
        pipe.close()
        task.cancel()
        await task.value
    }
}

/// Receives the live transcoder's packets: one live rendition per rung (video and audio muxed).
actor LiveLadderSink: PacketSink {
    nonisolated let keyframeInterval: Duration
    private let store: any BlobStore
    private let directory: String
    private let configuration: LiveConfiguration
    private let programDateTime: Date
    private let logger: Logger
    private var begun: [(rendition: Rendition, tracks: [TrackFormat])] = []
    private var renditions: [Int: LiveRendition] = [:]
    /// The newest presentation time written, in milliseconds.
    private(set) var latestMilliseconds: Int64?

    init(store: any BlobStore, directory: String, configuration: LiveConfiguration, programDateTime: Date, logger: Logger) {
        self.store = store
        self.directory = directory
        self.configuration = configuration
        self.programDateTime = programDateTime
        self.logger = logger
        keyframeInterval = configuration.segmentDuration
    }

    func begin(rendition: Rendition, index: Int, tracks: [TrackFormat]) async throws {
        while begun.count <= index { begun.append((rendition, [])) }
        begun[index] = (rendition, tracks)
    }

    func write(_ packet: EncodedPacket, rendition index: Int, track: Int) async throws {
        guard begun.indices.contains(index), begun[index].tracks.indices.contains(track) else {
            throw VideoStackError(.internal, "The live transcoder wrote to rendition \(index) track \(track), which it never announced.")
        }
        let format = begun[index].tracks[track]
        if renditions[index] == nil {
            let made = try LiveRendition(store: store, directory: directory, name: begun[index].rendition.name, tracks: begun[index].tracks,
                                         configuration: configuration, programDateTime: programDateTime, logger: logger)
            await made.onListed { _ in }  // keeps its live window (index.m3u8) beside the DVR playlist
            renditions[index] = made
        }
        try await renditions[index]!.append(packet, track: track)
        if format.kind == .video {
            let ms = packet.pts * 1000 / Int64(max(format.timescale, 1))
            latestMilliseconds = max(latestMilliseconds ?? ms, ms)
        }
    }

    func finish(rendition index: Int) async throws {
        _ = try await renditions[index]?.finish()
    }

    /// Summaries of the rungs that have at least one segment, largest first.
    func summaries() async -> [RenditionSummary] {
        var out: [RenditionSummary] = []
        for index in renditions.keys.sorted() {
            guard let rendition = renditions[index], await rendition.segmentCount() > 0 else { continue }
            out.append(await rendition.summary())
        }
        return out.sorted { ($0.video?.width ?? 0) > ($1.video?.width ?? 0) }
    }

    /// Ends every rung's playlists (the fallback, or the end of the stream).
    func finishAll() async {
        for rendition in renditions.values { _ = try? await rendition.finish() }
    }
}

/// Writes bytes into a FIFO from a thread of its own, so a slow reader never blocks the caller.
final class PipeWriter: @unchecked Sendable {
    // @unchecked Sendable: `queue`, `queued` and `closed` are only touched under `condition`.
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var queued = 0
    private var closed = false
    private let descriptor: Int32

    init(fifo: URL) throws {
        try? FileManager.default.removeItem(at: fifo)
        guard mkfifo(fifo.path, 0o600) == 0 else {
            throw VideoStackError(.io, "mkfifo(\(fifo.path)) failed with errno \(errno); the live transcoder needs a FIFO in the scratch directory.")
        }
        // Read-write, so opening does not wait for the reader; the reader sees end of file once we close.
        descriptor = open(fifo.path, O_RDWR)
        guard descriptor >= 0 else {
            throw VideoStackError(.io, "open(\(fifo.path)) failed with errno \(errno).")
        }
        let thread = Thread { [self] in self.drain() }
        thread.name = "videostack-live-ladder"
        thread.start()
    }

    var queuedBytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return queued
    }

    func enqueue(_ bytes: [UInt8]) {
        condition.lock()
        if !closed {
            queue.append(bytes)
            queued += bytes.count
            condition.signal()
        }
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.signal()
        condition.unlock()
    }

    private func drain() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty && closed {
                condition.unlock()
                break
            }
            let bytes = queue.removeFirst()
            condition.unlock()
            var offset = 0
            var failed = false
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    failed = true
                    break
                }
                offset += written
            }
            condition.lock()
            queued -= bytes.count
            if failed { closed = true; queue = []; queued = 0 }
            condition.unlock()
            if failed { break }
        }
        Glibc.close(descriptor)
    }
}
