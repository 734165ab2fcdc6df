public import Logging
public import SingleTableStore
internal import VideoCore

/// Keeps a ``SearchIndex`` in step with an `SingleTableStore/ItemStore`: rebuilds it from a scan,
/// then applies the store's change feed as it grows.
///
/// ```swift
/// let follower = SearchFeedFollower(index: index, store: store, mapping: CatalogSearchMapping(), logger: logger)
/// let cursor = try await follower.rebuild()              // or follower.resumePosition after loading a snapshot
/// try await follower.follow(after: cursor)               // until the task is cancelled
/// ```
///
/// The `mapping` decides which items are searchable and what their documents are; the follower
/// knows nothing of the table's key layout. Changes are applied in feed order, in batches of up
/// to ``SearchFeedFollowerConfiguration/batchSize``, each batch becoming visible to searches at
/// once. Thread safety: the follower is `Sendable`; run one `follow` per index.
///
/// Logging: rebuilds (with their reason, sizes and times), the start and end of ``follow(after:onBatch:)``
/// and the error that ends it at `info` and above; each applied batch at `debug`.
public struct SearchFeedFollower: Sendable {
    /// The index being kept up to date.
    public let index: SearchIndex
    /// The store whose change feed is followed.
    public let store: any ItemStore
    /// How items become documents.
    public let mapping: any SearchDocumentMapping
    /// How the feed is read.
    public let configuration: SearchFeedFollowerConfiguration
    /// Where the follower reports rebuilds, trimmed feeds and the errors that stop it.
    public let logger: Logger

    /// Makes a follower; nothing happens until ``rebuild()``, ``catchUp(after:)`` or ``follow(after:onBatch:)``.
    public init(
        index: SearchIndex, store: any ItemStore, mapping: any SearchDocumentMapping,
        configuration: SearchFeedFollowerConfiguration = SearchFeedFollowerConfiguration(), logger: Logger
    ) {
        self.index = index
        self.store = store
        self.mapping = mapping
        self.configuration = configuration
        self.logger = logger
    }

    private var batchSize: Int { max(1, configuration.batchSize) }

    /// Replaces the index's contents with every searchable item in the store.
    ///
    /// Returns the feed position to follow from: taken before the scan, so changes made during
    /// the scan are applied again afterwards (applying a change twice is harmless).
    public func rebuild() async throws -> ChangeCursor? {
        let started = ContinuousClock.now
        let cursor = try await store.latestChangeCursor()
        var documents: [SearchDocument] = []
        var scanned = 0
        var token: PageToken? = nil
        repeat {
            let page = try await store.scan(Scan(startToken: token))
            scanned += page.items.count
            for item in page.items {
                if let document = try mapping.document(for: item) { documents.append(document) }
            }
            token = page.nextToken
        } while token != nil
        try index.replaceAll(with: documents, feedPosition: cursor?.text)
        logger.info("search follower: rebuilt the index from a scan of the store", metadata: [
            "items": "\(scanned)", "documents": "\(documents.count)", "duration": "\(ContinuousClock.now - started)",
            "position": "\(cursor?.text ?? "none")",
        ])
        return cursor
    }

    /// Where a loaded or live index left off: its recorded ``SearchIndex/feedPosition``.
    /// Pass it to ``follow(after:onBatch:)`` after ``SearchIndex/loadSnapshot(from:configuration:logger:)``.
    public var resumePosition: ChangeCursor? { index.feedPosition.map(ChangeCursor.init) }

    /// Applies every change committed after `cursor` and returns the new position (unchanged
    /// when there was nothing new).
    ///
    /// When the store has already trimmed the changes after `cursor`, rebuilds the index from a
    /// scan (see ``follow(after:onBatch:)``) and catches up from there.
    public func catchUp(after cursor: ChangeCursor?) async throws -> ChangeCursor? {
        var position = cursor
        while true {
            switch try await read(after: position) {
            case .rebuilt(let rebuiltAt):
                position = rebuiltAt
            case .batch(let batch):
                guard let last = batch.last else { return position }
                try apply(batch, position: last.cursor)
                position = last.cursor
                if batch.count < batchSize { return position }
            }
        }
    }

    /// Follows the feed until the task is cancelled (then returns normally), calling `onBatch`
    /// with the new position after each applied batch (and after a rebuild) so the caller can
    /// persist it.
    ///
    /// When the store has already trimmed the changes after `cursor` (a follower that was down
    /// longer than the store's change retention), changes were lost: it logs a warning, rebuilds
    /// the index from a scan and goes on. Other errors (an unreadable video item, a closed store)
    /// are logged and end the call.
    public func follow(after cursor: ChangeCursor?, onBatch: @Sendable (ChangeCursor) async -> Void = { _ in }) async throws {
        var position = cursor
        logger.info("search follower: following the change feed", metadata: [
            "after": "\(position?.text ?? "start")", "pollInterval": "\(configuration.pollInterval)",
        ])
        do {
            while !Task.isCancelled {
                switch try await read(after: position) {
                case .rebuilt(let rebuiltAt):
                    position = rebuiltAt
                    if let rebuiltAt { await onBatch(rebuiltAt) }
                    continue
                case .batch(let batch):
                    if let last = batch.last {
                        try apply(batch, position: last.cursor)
                        position = last.cursor
                        await onBatch(last.cursor)
                        if batch.count == batchSize { continue }
                    }
                }
                do {
                    try await Task.sleep(for: configuration.pollInterval)
                } catch {
                    break  // cancelled while idle
                }
            }
        } catch {
            logger.error("search follower: stopped following the change feed", metadata: [
                "position": "\(position?.text ?? "start")", "error": "\(error)",
            ])
            throw error
        }
        logger.info("search follower: stopped following the change feed (cancelled)", metadata: ["position": "\(position?.text ?? "start")"])
    }

    private enum Step {
        case batch([Change])
        case rebuilt(ChangeCursor?)
    }

    /// The next batch after `position`, or a rebuild when the store trimmed the feed past it.
    private func read(after position: ChangeCursor?) async throws -> Step {
        do {
            return .batch(try await store.changes(after: position, limit: batchSize))
        } catch let error as VideoStackError where error.code == .outOfRange {
            logger.warning("search follower: the store trimmed its change feed past the index's position, so changes were lost; rebuilding the index from a full scan", metadata: [
                "position": "\(position?.text ?? "start")", "error": "\(error.message)",
            ])
            return .rebuilt(try await rebuild())
        }
    }

    private func apply(_ batch: [Change], position: ChangeCursor) throws {
        var changes: [SearchChange] = []
        var upserts = 0
        for change in batch {
            guard let id = mapping.documentID(forKey: change.key) else { continue }
            if let image = change.newImage, let document = try mapping.document(for: image) {
                changes.append(.upsert(document))
                upserts += 1
            } else {
                changes.append(.delete(id: id))
            }
        }
        // Applied (and the position recorded) even when empty, so the index's feedPosition moves.
        try index.apply(changes, feedPosition: position.text)
        logger.debug("search follower: applied a batch of changes", metadata: [
            "changes": "\(batch.count)", "upserts": "\(upserts)", "deletes": "\(changes.count - upserts)", "position": "\(position.text)",
        ])
    }
}
