internal import Foundation
public import Logging
public import SearchIndex
public import ServiceLifecycle
public import SingleTableStore
public import VideoCore

/// The backends a ``Platform`` runs on. ``Platform/init(configuration:logger:)`` opens the
/// embedded defaults; pass other backends (DynamoDB, S3, SQS) through
/// ``Platform/init(configuration:backends:logger:)`` without changing any service code.
public struct PlatformBackends: Sendable {
    /// Items: the catalog, accounts, jobs, counters. Must use `TableSchema/singleTable`.
    public var store: any ItemStore
    /// Media: uploads, segments, playlists, posters.
    public var blobs: any BlobStore
    /// Jobs; nil keeps them in `store` (``StoreJobQueue``).
    public var queue: (any JobQueue)?
    /// Called once when the platform shuts down, to close what the backends hold open.
    public var close: @Sendable () -> Void

    public init(store: any ItemStore, blobs: any BlobStore, queue: (any JobQueue)? = nil, close: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.blobs = blobs
        self.queue = queue
        self.close = close
    }
}

/// A whole video platform: the services over the backends, and the background work that keeps
/// them going, as one swift-service-lifecycle `Service`.
///
/// ```swift
/// let platform = try await Platform(
///     configuration: PlatformConfiguration(dataDirectory: URL(fileURLWithPath: "data")), logger: logger)
/// let group = ServiceGroup(services: [platform], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
///
/// The services are usable as soon as `init` returns; ``run()`` starts the job workers, the
/// search replica (following the store's change feed), snapshots, view roll-ups and sweeps, and
/// stops them cleanly on graceful shutdown: running jobs are released for another worker, the
/// search index is written to its snapshot. ``close()`` then closes the backends.
public final class Platform: Service {
    public let configuration: PlatformConfiguration
    public let store: any ItemStore
    public let blobs: any BlobStore
    public let queue: any JobQueue
    public let catalog: Catalog
    /// Sign-up, sign-in, sessions and roles.
    public let accounts: Accounts
    /// The tus side of uploads; finished ones are published by the saga.
    public let uploads: UploadService
    public let views: ViewCounter
    public let shareLinks: ShareLinks
    /// Who may play what, and the signed URLs for unlisted and private videos.
    public let playback: PlaybackAuthorizer
    /// The token buckets every entry point consults.
    public let rateLimiter: RequestRateLimiter
    /// The search replica; query it through ``searchVideos(_:viewer:)``, which applies visibility.
    public let searchIndex: SearchIndex
    public let logger: Logger
    /// Keeps ``searchIndex`` in step with the store's change feed while the platform runs.
    public let follower: SearchFeedFollower
    let sweeper: ExpirySweeper
    let handlers: [String: any JobHandler]
    private let closeBackends: @Sendable () -> Void

    /// Opens the embedded defaults under `configuration.dataDirectory`: the SQLite store, the file
    /// blob store, the job queue in the store and the search snapshot.
    public convenience init(configuration: PlatformConfiguration, logger: Logger) async throws {
        let fileManager = FileManager.default
        for directory in [configuration.dataDirectory, configuration.mediaDirectory, configuration.scratchDirectory] {
            do {
                try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw VideoStackError(.io, "Could not create the data directory \(directory.path): \(error.localizedDescription). Check that the parent exists and is writable.", cause: error)
            }
        }
        let store = try await SQLiteItemStore(url: configuration.databaseURL, schema: .singleTable, logger: logger)
        let blobs = try FileBlobStore(root: configuration.mediaDirectory, logger: logger)
        try await self.init(configuration: configuration,
                            backends: PlatformBackends(store: store, blobs: blobs, close: { store.close() }), logger: logger)
    }

    /// Builds the services over the given backends.
    public init(configuration: PlatformConfiguration, backends: PlatformBackends, logger: Logger) async throws {
        try PublishSaga.checkSegments(segmentDuration: configuration.segmentDuration,
                                      openingSegmentBoundaries: configuration.openingSegmentBoundaries)
        self.configuration = configuration
        self.logger = logger
        store = backends.store
        blobs = backends.blobs
        closeBackends = backends.close
        queue = try backends.queue ?? StoreJobQueue(store: backends.store, retryPolicy: configuration.retries, logger: logger)
        let catalog = try Catalog(store: backends.store, logger: logger)
        self.catalog = catalog
        let keys = configuration.keysDirectory
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        // The saga copies uploads here whatever the blob store is (S3 included).
        try FileManager.default.createDirectory(at: configuration.scratchDirectory, withIntermediateDirectories: true)
        accounts = try Accounts(catalog: catalog, configuration: configuration.accounts, dataDirectory: keys, logger: logger)
        uploads = try UploadService(store: backends.store, directory: configuration.uploadsDirectory, configuration: configuration.uploads,
                                    completionHandler: UploadPublisher(catalog: catalog, blobs: backends.blobs, queue: queue, logger: logger),
                                    logger: logger)
        views = try ViewCounter(store: backends.store, configuration: configuration.views)
        shareLinks = try ShareLinks(catalog: catalog, configuration: configuration.shareLinks)
        let signer = try PlaybackURLSigner(configuration: configuration.playback, dataDirectory: keys)
        playback = try PlaybackAuthorizer(catalog: catalog, signer: signer, configuration: configuration.playback)
        rateLimiter = RequestRateLimiter(configuration: configuration.rateLimits)
        sweeper = ExpirySweeper(store: backends.store, logger: logger)
        searchIndex = Platform.openSearchIndex(configuration: configuration, logger: logger)
        follower = SearchFeedFollower(index: searchIndex, store: backends.store, mapping: CatalogSearchMapping(), logger: logger)
        handlers = [PublishRequest.jobKind: PublishSaga(catalog: catalog, blobs: backends.blobs, ladder: configuration.ladder,
                                                        segmentDuration: configuration.segmentDuration,
                                                        openingSegmentBoundaries: configuration.openingSegmentBoundaries, transcode: configuration.transcode,
                                                        scratchDirectory: configuration.scratchDirectory, logger: logger)]
    }

    private static func openSearchIndex(configuration: PlatformConfiguration, logger: Logger) -> SearchIndex {
        let url = configuration.searchSnapshotURL
        guard FileManager.default.fileExists(atPath: url.path) else { return SearchIndex(configuration: configuration.search, logger: logger) }
        do {
            let index = try SearchIndex.loadSnapshot(from: url, configuration: configuration.search, logger: logger)
            logger.info("search index loaded from its snapshot", metadata: ["documents": "\(index.count)", "feedPosition": "\(index.feedPosition ?? "none")"])
            return index
        } catch {
            // A damaged snapshot costs a rebuild from the table, never a failed start.
            logger.warning("search snapshot unreadable; rebuilding from the store", metadata: ["error": "\(error)"])
            return SearchIndex(configuration: configuration.search, logger: logger)
        }
    }

    // MARK: Running

    public func run() async throws {
        logger.info("platform starting", metadata: ["dataDirectory": "\(configuration.dataDirectory.path)"])
        defer { logger.info("platform stopped") }
        let workers = JobWorkers(queue: queue, handlers: handlers, configuration: configuration.workers, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            if configuration.roles.contains(.worker) {
                group.addTask { try await workers.run() }
            }
            if configuration.roles.contains(.api) {
                group.addTask { try await self.followSearchFeed() }
                group.addTask { await self.every(self.configuration.searchSnapshotInterval, "search snapshot") { try self.writeSearchSnapshot() } }
            }
            group.addTask { await self.every(self.configuration.viewRollUpInterval, "view roll-up") { try await self.views.rollUp() } }
            group.addTask { await self.every(self.configuration.sweepInterval, "expiry sweep") { try await self.sweeper.sweep() } }
            group.addTask {
                // Uploads whose hand-over a crash cut short go on first; then unfinished ones expire.
                do {
                    _ = try await self.uploads.resumePendingCompletions()
                } catch {
                    self.logger.error("could not resume finished uploads; the sweep retries them", metadata: ["error": "\(error)"])
                }
                await self.every(self.configuration.sweepInterval, "upload sweep") { try await self.uploads.sweepExpired() }
            }
            // Every task above ends on graceful shutdown (or cancellation), so the group returns.
        }
        if configuration.roles.contains(.api) {
            do {
                try writeSearchSnapshot()
            } catch {
                logger.error("could not write the search snapshot at shutdown", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Closes the backends (the SQLite store's threads and file). Call it once, after ``run()``
    /// has returned, when the process is done with the platform; the services fail afterwards.
    public func close() {
        closeBackends()
    }

    private func followSearchFeed() async throws {
        let position: ChangeCursor?
        if let resume = follower.resumePosition {
            position = try await follower.catchUp(after: resume)
        } else {
            position = try await follower.rebuild()
            logger.info("search index built from the store", metadata: ["documents": "\(searchIndex.count)"])
        }
        try await cancelWhenGracefulShutdown {
            try await self.follower.follow(after: position)
        }
    }

    /// Runs `work` every `interval` until graceful shutdown; failures are logged and retried at the next tick.
    private func every(_ interval: Duration, _ name: String, _ work: @escaping @Sendable () async throws -> some Sendable) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                do {
                    _ = try await work()
                } catch {
                    self.logger.warning("\(name) failed; will try again", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func writeSearchSnapshot() throws {
        let started = ContinuousClock.now
        try searchIndex.writeSnapshot(to: configuration.searchSnapshotURL)
        logger.debug("search snapshot written", metadata: ["documents": "\(searchIndex.count)", "took": "\(ContinuousClock.now - started)"])
    }
}
