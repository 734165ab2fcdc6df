public import SingleTableStore
internal import VideoCore

/// Turns store items into search documents.
///
/// The extension point between the item store and the index: the built-in ``VideoItemMapping``
/// reads the catalog's video items; another mapping can index other entities.
public protocol SearchDocumentMapping: Sendable {
    /// The document for an item, or nil when the item is not searchable (a user, a review, …).
    /// Throws when the item looks searchable but cannot be read; the follower then stops.
    func document(for item: Item) throws -> SearchDocument?

    /// The id of the document an item maps to, from its key attributes alone (for removals).
    func documentID(forKey key: Item) -> String?
}

/// Maps the catalog's video items (`PK` = `SK` = `VIDEO#<id>`) to documents; skips everything else.
///
/// Videos stay in the index whatever their status and visibility; the default ``SearchFilter``
/// shows only public, ready ones, so a video appears when it becomes ready and disappears when it
/// is made private or unlisted, and its owner can still find it with a wider filter.
public struct VideoItemMapping: SearchDocumentMapping {
    private let decoder = ItemDecoder()

    /// Makes the mapping.
    public init() {}

    /// The video id of a `VIDEO#<id>` item key; nil for other items.
    public func documentID(forKey key: Item) -> String? {
        guard case .s(let pk)? = key["PK"], case .s(let sk)? = key["SK"], pk == sk, pk.hasPrefix("VIDEO#") else { return nil }
        return String(pk.dropFirst("VIDEO#".count))
    }

    /// The video's document; nil for other items. Throws `VideoCore/VideoStackError/Code/corrupt`
    /// for a video item that does not decode as a `VideoCore/Video`.
    public func document(for item: Item) throws -> SearchDocument? {
        guard documentID(forKey: item) != nil else { return nil }
        do {
            return SearchDocument(video: try decoder.decode(Video.self, from: item))
        } catch {
            throw VideoStackError(.corrupt, "A video item (\(item["PK"].map { "\($0)" } ?? "?")) cannot be read as a Video; fix or delete the item.", cause: ErrorDescription(error))
        }
    }
}

/// Keeps a ``SearchIndex`` in step with an `SingleTableStore/ItemStore`: rebuilds it from a scan,
/// then applies the store's change feed as it grows.
///
/// ```swift
/// let follower = SearchFeedFollower(index: index, store: store)
/// let cursor = try await follower.rebuild()              // or follower.resumePosition after loading a snapshot
/// try await follower.follow(after: cursor)               // until the task is cancelled
/// ```
///
/// Changes are applied in feed order, in batches of up to ``batchSize``, each batch becoming
/// visible to searches at once. With the default 100 ms poll, a committed change is searchable
/// well within a second. Thread safety: the follower is `Sendable`; run one `follow` per index.
public struct SearchFeedFollower: Sendable {
    /// The index being kept up to date.
    public let index: SearchIndex
    /// The store whose change feed is followed.
    public let store: any ItemStore
    /// How items become documents.
    public let mapping: any SearchDocumentMapping
    /// How long to wait before asking the store again when the feed is idle.
    public var pollInterval: Duration
    /// The most changes read and applied at once.
    public var batchSize: Int

    /// Makes a follower; nothing happens until ``rebuild()``, ``catchUp(after:)`` or ``follow(after:onBatch:)``.
    public init(
        index: SearchIndex, store: any ItemStore, mapping: any SearchDocumentMapping = VideoItemMapping(),
        pollInterval: Duration = .milliseconds(100), batchSize: Int = 500
    ) {
        self.index = index
        self.store = store
        self.mapping = mapping
        self.pollInterval = pollInterval
        self.batchSize = max(1, batchSize)
    }

    /// Replaces the index's contents with every searchable item in the store.
    ///
    /// Returns the feed position to follow from: taken before the scan, so changes made during
    /// the scan are applied again afterwards (applying a change twice is harmless).
    public func rebuild() async throws -> ChangeCursor? {
        let cursor = try await store.latestChangeCursor()
        var documents: [SearchDocument] = []
        var token: PageToken? = nil
        repeat {
            let page = try await store.scan(Scan(startToken: token))
            for item in page.items {
                if let document = try mapping.document(for: item) { documents.append(document) }
            }
            token = page.nextToken
        } while token != nil
        try index.replaceAll(with: documents, feedPosition: cursor?.text)
        return cursor
    }

    /// Where a loaded or live index left off: its recorded ``SearchIndex/feedPosition``.
    /// Pass it to ``follow(after:onBatch:)`` after ``SearchIndex/loadSnapshot(from:configuration:)``.
    public var resumePosition: ChangeCursor? { index.feedPosition.map(ChangeCursor.init) }

    /// Applies every change committed after `cursor` and returns the new position (unchanged
    /// when there was nothing new).
    public func catchUp(after cursor: ChangeCursor?) async throws -> ChangeCursor? {
        var position = cursor
        while true {
            let batch = try await store.changes(after: position, limit: batchSize)
            guard let last = batch.last else { return position }
            try apply(batch, position: last.cursor)
            position = last.cursor
            if batch.count < batchSize { return position }
        }
    }

    /// Follows the feed until the task is cancelled (then returns normally), calling `onBatch`
    /// with the new position after each applied batch so the caller can persist it.
    ///
    /// When the store has already trimmed the changes after `cursor` (a follower that was down
    /// longer than the store's change retention), it rebuilds the index from a scan and goes on.
    /// Other errors (an unreadable video item, a closed store) end the call.
    public func follow(after cursor: ChangeCursor?, onBatch: @Sendable (ChangeCursor) async -> Void = { _ in }) async throws {
        var position = cursor
        while !Task.isCancelled {
            let batch: [Change]
            do {
                batch = try await store.changes(after: position, limit: batchSize)
            } catch let error as VideoStackError where error.code == .outOfRange {
                // The feed was trimmed past our position: changes were lost, so start over.
                position = try await rebuild()
                if let position { await onBatch(position) }
                continue
            }
            if let last = batch.last {
                try apply(batch, position: last.cursor)
                position = last.cursor
                await onBatch(last.cursor)
                if batch.count == batchSize { continue }
            }
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                return  // cancelled while idle
            }
        }
    }

    private func apply(_ batch: [Change], position: ChangeCursor) throws {
        var changes: [SearchChange] = []
        for change in batch {
            guard let id = mapping.documentID(forKey: change.key) else { continue }
            if let image = change.newImage, let document = try mapping.document(for: image) {
                changes.append(.upsert(document))
            } else {
                changes.append(.delete(id: id))
            }
        }
        // Applied (and the position recorded) even when empty, so the index's feedPosition moves.
        try index.apply(changes, feedPosition: position.text)
    }
}
