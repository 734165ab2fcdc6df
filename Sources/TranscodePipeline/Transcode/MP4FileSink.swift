public import Foundation
public import Logging
import Synchronization
public import VideoCore

/// A `VideoCore/PacketSink` that writes one MP4 file per rendition (`720p.mp4`, …) into a directory, through libavformat.
///
/// Files get `+faststart` (the index at the front) so they play while downloading. Writing runs
/// on a thread of the sink's own, in call order; an I/O error surfaces from the next call.
/// A rendition's file is complete only after ``finish(rendition:)``; after a failed transcode the
/// caller deletes the directory's partial files.
public final class MP4FileSink: PacketSink {
    /// The directory the files are written to.
    public let directory: URL
    /// How far apart the transcoder puts keyframes (where players can start and seek).
    public let keyframeInterval: Duration
    private let logger: Logger
    private let fileName: @Sendable (Rendition) -> String
    private let writer: BlockingThreadPool<Void>
    private let state = SharedState()

    private struct State {
        var files: [Int: URL] = [:]
        var failure: VideoStackError?
        var queued = 0
    }

    /// A reference to the state, so the writer thread's jobs can capture it.
    private final class SharedState: Sendable {
        let mutex = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    /// Holds the open files; touched only on the writer thread.
    private final class Files: @unchecked Sendable {
        // @unchecked Sendable: only the sink's single writer thread reads or writes `open`.
        var open: [Int: OutputFile] = [:]
    }
    private let openFiles = Files()

    /// - Parameters:
    ///   - directory: must exist and be writable.
    ///   - keyframeInterval: the spacing of keyframes (seek points), 1 to 20 seconds.
    ///   - fileName: the file name of a rendition; `"<name>.mp4"` by default.
    ///   - logger: receives FFmpeg's messages.
    /// - Throws: `.internal` if the writer thread cannot start.
    public init(directory: URL, keyframeInterval: Duration = .seconds(4), logger: Logger,
                fileName: @escaping @Sendable (Rendition) -> String = { "\($0.name).mp4" }) throws {
        self.directory = directory
        self.keyframeInterval = keyframeInterval
        self.logger = logger
        self.fileName = fileName
        writer = try BlockingThreadPool(name: "videostack-mp4", threads: 1) { _ in () }
    }

    /// The files written so far, by rendition index.
    public var writtenFiles: [Int: URL] { state.withLock { $0.files } }

    /// Creates the rendition's file and writes its header. Throws `.io` when the file cannot be created.
    public func begin(rendition: Rendition, index: Int, tracks: [TrackFormat]) async throws {
        let url = directory.appendingPathComponent(fileName(rendition))
        let logger = logger
        let files = openFiles
        try await writer.run { _ in
            files.open[index] = try OutputFile(url: url, format: "mp4", tracks: tracks, options: ["movflags": "+faststart"],
                                               logger: logger)
        }
        state.withLock { $0.files[index] = url }
    }

    /// Queues one packet for writing; an earlier write's error is thrown here.
    public func write(_ packet: EncodedPacket, rendition: Int, track: Int) async throws {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        let files = openFiles
        // Fire and forget: one thread runs the writes in order; waiting for each would cost a
        // thread hop per packet.
        writer.submit { [state] _ in
            guard state.withLock({ $0.failure == nil }), let file = files.open[rendition] else { return }
            do {
                try file.write(packet, track: track)
            } catch {
                let failure = error as? VideoStackError ?? VideoStackError(.io, "Could not write \(rendition).", cause: ErrorDescription(error))
                state.withLock { if $0.failure == nil { $0.failure = failure } }
            }
        }
        // Every so often wait for the writer to catch up, so a slow disk bounds the queue
        // (and applies back-pressure to the encoders) instead of letting it grow.
        let due = state.withLock { state -> Bool in
            state.queued += 1
            if state.queued < 64 { return false }
            state.queued = 0
            return true
        }
        if due { try await writer.run { _ in } }
    }

    /// Writes the rendition's index (`moov`, moved to the front) and closes the file.
    public func finish(rendition: Int) async throws {
        let files = openFiles
        try await writer.run { _ in
            try files.open[rendition]?.finish()
            files.open[rendition] = nil
        }
        if let failure = state.withLock({ $0.failure }) { throw failure }
        if let url = state.withLock({ $0.files[rendition] }) {
            logger.debug("Wrote a rendition's MP4", metadata: ["file": "\(url.path)"])
        }
    }
}
