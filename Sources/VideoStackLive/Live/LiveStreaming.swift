import Foundation
internal import HLSPackager
public import Logging
public import ServiceLifecycle
import SingleTableStore
import Synchronization
public import VideoCore
public import VideoPlatform

/// What a publisher needs: the stream's video, its key and where to send it.
public struct LiveStreamCredentials: Sendable, Hashable, Codable {
    /// The live video the stream publishes to.
    public var videoID: VideoID
    /// The stream key; shown only now (the store keeps its hash).
    public var streamKey: String
    /// The server address OBS asks for ("Server"): `rtmp://HOST:PORT/live`.
    public var ingestURL: String
    /// The whole publish URL FFmpeg takes: `rtmp://HOST:PORT/live/STREAM_KEY`.
    public var publishURL: String { ingestURL + "/" + streamKey }
}

/// Live streaming for a ``VideoPlatform/Platform``: an RTMP ingest server, live HLS with a
/// DVR window in the platform's blob store, stream keys owned by users, and the recording
/// published as a video on demand when a stream ends.
///
/// ```
/// let live = try LiveStreaming(platform: platform, configuration: LiveConfiguration(), logger: logger)
/// let group = ServiceGroup(services: [platform, live], gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
///
/// A live stream is a video: ``createStream(owner:title:description:tags:visibility:)`` makes one
/// in status `liveScheduled` with a key; the first publish that produces a segment moves it to
/// `live` (with its master playlist as the video's media); when the publisher stops (or stays
/// away longer than the reconnect window) it becomes `liveEnded`, and the recording goes through
/// the platform's publish saga (`processing`, then `ready` with the full duration, poster and
/// storyboard).
///
/// Thread safety: `Sendable`; the streams are actors.
public final class LiveStreaming: Service, Sendable {
    public let configuration: LiveConfiguration
    /// The stream keys (in the platform's store).
    public let keys: StreamKeys
    let platform: Platform
    let logger: Logger
    private let streams: Mutex<[VideoID: LiveStream]>
    private let listening: Mutex<Int?>
    private let pendingEnds: Mutex<[Task<Void, Never>]>

    /// Creates the service; nothing listens until ``run()``.
    ///
    /// Throws ``VideoCore/VideoStackError/Code/invalidInput`` for a configuration out of range.
    public init(platform: Platform, configuration: LiveConfiguration = LiveConfiguration(), logger: Logger) throws {
        try configuration.validate()
        self.platform = platform
        self.configuration = configuration
        self.logger = logger
        keys = StreamKeys(store: platform.store)
        streams = Mutex([:])
        listening = Mutex(nil)
        pendingEnds = Mutex([])
    }

    // MARK: Running

    /// Listens for publishers until graceful shutdown; then closes every connection and ends
    /// every stream (publishing their recordings).
    public func run() async throws {
        let server = try await RTMPServer.start(configuration: configuration.rtmp, logger: logger) { [self] connection in
            await self.serve(connection)
        }
        listening.withLock { $0 = server.port }
        defer { listening.withLock { $0 = nil } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await gracefulShutdown()
            }
            group.addTask {
                await cancelWhenGracefulShutdown { await self.writeViewerCounts() }
            }
            await group.next()
            group.cancelAll()
        }
        await server.shutdown()
        let open = streams.withLock { Array($0.keys) }
        for video in open { await endStream(video) }
        for task in pendingEnds.withLock({ $0 }) { task.cancel(); await task.value }
    }

    /// The RTMP port once ``run()`` listens (waits for it; throws `CancellationError` when cancelled).
    public func listeningPort() async throws -> Int {
        while true {
            if let port = listening.withLock({ $0 }) { return port }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The ingest address publishers are given.
    public var ingestURL: String {
        if let base = configuration.ingestBaseURL { return base }
        let port = listening.withLock { $0 } ?? configuration.rtmp.port
        return "rtmp://\(configuration.rtmp.host):\(port)/\(configuration.rtmp.session.application)"
    }

    // MARK: Managing streams

    /// Creates a live video owned by `owner` (status `liveScheduled`) and its stream key.
    ///
    /// Throws what `Catalog.create` throws (`notFound` for an unknown user, `invalidInput` for a bad title).
    public func createStream(owner: String, title: String, description: String = "", tags: [String] = [],
                             visibility: Visibility = .public) async throws -> LiveStreamCredentials {
        let video = Video(owner: owner, title: title, description: description, tags: tags, status: .liveScheduled, visibility: visibility)
        try await platform.catalog.create(video)
        let key = try await keys.rotate(video: video.id, owner: owner)
        logger.info("live stream created", metadata: ["video": "\(video.id)", "owner": "\(owner)"])
        return LiveStreamCredentials(videoID: video.id, streamKey: key, ingestURL: ingestURL)
    }

    /// Replaces the stream key of `video`; the old one is refused from now on.
    ///
    /// Throws `notFound` (no such live video), `forbidden` (`user` is neither owner nor admin),
    /// `conflict` (the stream has ended).
    public func rotateKey(of video: VideoID, by user: AuthenticatedUser) async throws -> LiveStreamCredentials {
        let current = try await liveVideo(video, by: user)
        guard current.status == .liveScheduled || current.status == .live else {
            throw VideoStackError(.conflict, "Video \(video) is \(current.status); only a scheduled or live stream has a key.")
        }
        let key = try await keys.rotate(video: video, owner: current.owner)
        logger.info("stream key rotated", metadata: ["video": "\(video)", "by": "\(user.username)"])
        return LiveStreamCredentials(videoID: video, streamKey: key, ingestURL: ingestURL)
    }

    /// Revokes the key of `video` without ending a stream in progress.
    public func revokeKey(of video: VideoID, by user: AuthenticatedUser) async throws {
        _ = try await liveVideo(video, by: user)
        try await keys.revoke(video: video)
        logger.info("stream key revoked", metadata: ["video": "\(video)", "by": "\(user.username)"])
    }

    /// Ends the stream of `video` (disconnecting its publisher), revokes its key and deletes the
    /// video with its live media and recording (`DELETE /api/v1/live/{id}`).
    public func deleteStream(_ video: VideoID, by user: AuthenticatedUser) async throws {
        _ = try await liveVideo(video, by: user)
        let stream = streams.withLock { $0.removeValue(forKey: video) }
        if let stream {
            _ = await stream.end()
            await stream.removeRecording()
        }
        try await keys.revoke(video: video)
        try await platform.deleteVideo(video, by: user)
        for object in try await platform.blobs.listAll(prefix: configuration.mediaPrefix + "\(video)/") {
            try await platform.blobs.delete(object.key)
        }
    }

    /// Ends the stream of `video` now, as if its publisher had stopped: playlists get `ENDLIST`,
    /// the video turns `liveEnded`, and the recording is published.
    public func endStream(_ video: VideoID, by user: AuthenticatedUser) async throws {
        _ = try await liveVideo(video, by: user)
        await endStream(video)
    }

    /// What the stream of `video` is doing, while the server holds it (live or waiting for a reconnect).
    public func status(of video: VideoID) async -> LiveStreamStatus? {
        guard let stream = streams.withLock({ $0[video] }) else { return nil }
        return await stream.status()
    }

    /// Viewers of `video` seen within ``LiveConfiguration/viewerTimeout`` (0 when it is not live here).
    public func viewers(of video: VideoID) async -> Int {
        guard let stream = streams.withLock({ $0[video] }) else { return 0 }
        return await stream.viewerCount()
    }

    /// Counts `viewer` (a username or a client key) as watching `video` now; call it when a
    /// live playlist is served.
    public func recordViewer(of video: VideoID, viewer: String) async {
        guard let stream = streams.withLock({ $0[video] }) else { return }
        await stream.sawViewer(viewer)
    }

    private func liveVideo(_ id: VideoID, by user: AuthenticatedUser) async throws -> Video {
        guard let video = try await platform.catalog.video(id) else {
            throw VideoStackError(.notFound, "There is no live stream \(id).")
        }
        // A live stream while in a live status, and afterwards (its recording published) while it keeps its key.
        let isLive = [.liveScheduled, .live, .liveEnded].contains(video.status) || streams.withLock({ $0[id] != nil })
        let wasLive = try await isLive ? true : platform.store.getItem(key: StreamKeys.videoKeyItemKey(id)) != nil
        guard wasLive else {
            throw VideoStackError(.notFound, "Video \(id) is not a live stream; delete it with DELETE /videos/\(id).")
        }
        guard user.mayManage(ownedBy: video.owner) else {
            throw VideoStackError(.forbidden, "Only the owner of live stream \(id) or an admin may manage it.")
        }
        return video
    }

    // MARK: Publishers

    private func serve(_ connection: RTMPConnection) async {
        var stream: LiveStream?
        var clean = false
        var connectionLogger = logger
        connectionLogger[metadataKey: "rtmp.connection"] = "\(connection.id)"
        do {
            loop: for try await event in connection.events {
                switch event {
                case .connect:
                    continue
                case .publish(let key, _):
                    do {
                        stream = try await admit(key: key, connection: connection)
                        connectionLogger[metadataKey: "video"] = "\(stream!.video)"
                        connection.acceptPublish()
                        connectionLogger.info("publishing started")
                    } catch let error as VideoStackError {
                        connectionLogger.notice("publish refused", metadata: ["reason": "\(error.message)"])
                        connection.refusePublish(description: error.message)
                        return
                    }
                case .metadata(let value):
                    await stream?.setMetadata(value)
                case .audio(let timestamp, let body), .video(let timestamp, let body):
                    defer { connection.consumed(body.count) }
                    guard let stream else { continue }
                    if case .video = event {
                        try await stream.media(isVideo: true, timestamp: timestamp, body: body)
                    } else {
                        try await stream.media(isVideo: false, timestamp: timestamp, body: body)
                    }
                case .unpublish:
                    clean = true
                    break loop
                }
            }
        } catch let error as VideoStackError where error.code == .unsupported || error.code == .invalidPackets || error.code == .corrupt
            || error.code == .invalidInput {
            // Bad media from this publisher: it goes, nothing else is touched.
            connectionLogger.warning("RTMP publisher disconnected", metadata: ["reason": "\(error.message)"])
            connection.close(reason: error.message)
        } catch {
            // The connection's handler already logged why it closed it.
            connectionLogger.debug("publisher connection ended", metadata: ["error": "\(error)"])
        }
        guard let stream else { return }
        if clean {
            // The publisher is leaving on its own: let it close its socket itself.
            _ = await stream.detach(connection: connection.id)
            connectionLogger.info("publisher stopped; ending the stream")
            await endStream(stream.video)
            return
        }
        guard let detachedAt = await stream.detach(connection: connection.id) else { return }
        guard await stream.hasMedia else {
            // Nothing was ever packaged: forget it, the video stays scheduled for another try.
            if streams.withLock({ $0[stream.video] === stream ? $0.removeValue(forKey: stream.video) : nil }) != nil {
                _ = await stream.end(discarding: true)
                await stream.removeRecording()
            }
            return
        }
        connectionLogger.info("publisher dropped; waiting for a reconnect", metadata: ["window": "\(configuration.reconnectWindow)"])
        let window = configuration.reconnectWindow
        let task = Task {
            try? await Task.sleep(for: window)
            if await stream.stillDetached(since: detachedAt) {
                self.logger.info("no reconnect within the window; ending the stream", metadata: ["video": "\(stream.video)"])
                await self.endStream(stream.video)
            }
        }
        pendingEnds.withLock { $0.removeAll { $0.isCancelled }; $0.append(task) }
    }

    private func admit(key: String, connection: RTMPConnection) async throws -> LiveStream {
        guard let grant = try await keys.grant(for: key) else {
            throw VideoStackError(.forbidden, "Unknown or revoked stream key.")
        }
        guard let video = try await platform.catalog.video(grant.video) else {
            throw VideoStackError(.forbidden, "The stream key's live video was deleted.")
        }
        guard video.status == .liveScheduled || video.status == .live else {
            throw VideoStackError(.forbidden, "The live stream of video \(video.id) has ended (\(video.status)); create a new one.")
        }
        let (stream, created) = try streams.withLock { streams -> (LiveStream, Bool) in
            if let existing = streams[grant.video] { return (existing, false) }
            let made = try LiveStream(video: grant.video, owner: grant.owner, store: platform.blobs, configuration: configuration,
                                      ladder: platform.configuration.ladder.renditions, logger: logger)
            streams[grant.video] = made
            return (made, true)
        }
        if created {
            let catalog = platform.catalog
            let logger = self.logger
            let id = grant.video
            let master = await stream.masterKey
            await stream.setOnPlayable {
                do {
                    try await catalog.transition(id, to: .live, from: .liveScheduled, media: VideoMedia(playlist: master))
                } catch {
                    logger.warning("could not mark the video live", metadata: ["video": "\(id)", "error": "\(error)"])
                }
            }
        }
        do {
            try await stream.attach(connection)
        } catch let error as VideoStackError where error.code == .conflict || error.code == .gone {
            throw VideoStackError(.forbidden, error.message)
        }
        return stream
    }

    /// Ends the stream of `video` and hands its recording to the publish path.
    func endStream(_ video: VideoID) async {
        guard let stream = streams.withLock({ $0.removeValue(forKey: video) }) else { return }
        let recorded = await stream.end()
        defer { Task { await stream.removeRecording() } }
        guard recorded else { return }
        let duration = await stream.recordedDuration
        do {
            try await platform.catalog.transition(video, to: .liveEnded, from: .live, duration: duration)
        } catch {
            logger.warning("could not mark the live stream ended", metadata: ["video": "\(video)", "error": "\(error)"])
            return
        }
        guard configuration.publishRecording else { return }
        do {
            let key = "uploads/\(video)/recording.flv"
            _ = try await platform.blobs.put(key, chunks: try await stream.recordingStream(), contentType: "video/x-flv")
            let job = try Job(id: "publish-\(video)", kind: PublishRequest.jobKind,
                              json: PublishRequest(video: video, source: key, filename: "recording.flv"))
            if let queue = platform.queue as? any TransactionalJobQueue {
                try await platform.catalog.transition(video, to: .processing, from: .liveEnded, alsoWriting: [try queue.enqueueAction(job)])
                queue.notifyEnqueued()
            } else {
                try await platform.queue.enqueue(job)
                try await platform.catalog.transition(video, to: .processing, from: .liveEnded)
            }
            logger.info("live recording handed to the publish path", metadata: ["video": "\(video)", "duration": "\(duration)"])
        } catch {
            logger.error("could not publish the live recording", metadata: ["video": "\(video)", "error": "\(error)"])
        }
    }

    private func writeViewerCounts() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: configuration.viewerUpdateInterval)
            } catch {
                return
            }
            for (video, stream) in streams.withLock({ $0 }) {
                let count = await stream.viewerCount()
                do {
                    _ = try await platform.store.updateItem(key: ["PK": .s("VIDEO#\(video)"), "SK": .s("VIDEO#\(video)")],
                                                            actions: [.set("viewers", .value(.int(Int64(count))))],
                                                            condition: .equal("status", .s(VideoStatus.live.rawValue)))
                } catch {
                    continue  // not live (yet, or any more): nothing to show
                }
            }
        }
    }
}
