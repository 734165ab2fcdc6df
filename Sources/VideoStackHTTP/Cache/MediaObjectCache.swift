internal import Foundation
internal import HTTPTypes
internal import NIOCore
internal import Synchronization
internal import VideoCore

/// What the delivery knows about one object: validators, headers ready to send and, for small
/// objects, the bytes.
struct MediaObject: Sendable {
    let key: String
    let kind: MediaKind
    let size: Int64
    /// The blob store's own validator, compared on revalidation.
    let storeETag: String
    let etag: EntityTag
    let lastModified: HTTPDate
    /// Nil for playlists too large to read (treated as growing) and for other kinds.
    let playlistState: PlaylistState?
    /// The `Cache-Control` lifetime in seconds and whether it is `immutable`, before any
    /// narrowing by the access policy.
    let maxAge: Int64
    let immutable: Bool
    /// Headers of a 200 (and of a HEAD): type, length, validators, caching, CORS.
    let fullHeaders: HTTPFields
    /// Headers of a 304: the same minus the representation's length and type.
    let notModifiedHeaders: HTTPFields
    /// The whole object when it is small enough to keep; nil means stream it from the store.
    let body: ByteBuffer?

    /// Bytes this entry costs the cache (the body plus a rough fixed overhead).
    var cost: Int { (body?.readableBytes ?? 0) + 512 + key.utf8.count }
}

/// A bounded in-memory cache of media objects with single-flight loading.
///
/// Entries are served without asking the blob store until they are older than their kind's
/// revalidation interval (playlists have their own, short one); then one metadata call (shared by all requests that arrive meanwhile)
/// either confirms the entry (same store validator) or replaces it. Eviction is least recently
/// used by bytes.
final class MediaObjectCache: Sendable {
    private struct Slot {
        var object: MediaObject
        var validatedAt: ContinuousClock.Instant
        var lastUse: UInt64
    }

    private struct State {
        var slots: [String: Slot] = [:]
        var loads: [String: Task<MediaObject?, any Error>] = [:]
        var bytes = 0
        var tick: UInt64 = 0
    }

    private let state = Mutex(State())
    private let blobs: any BlobStore
    private let configuration: MediaDeliveryConfiguration
    private let headers: HeaderTemplate
    private let clock = ContinuousClock()

    init(blobs: any BlobStore, configuration: MediaDeliveryConfiguration) {
        self.blobs = blobs
        self.configuration = configuration
        self.headers = HeaderTemplate(configuration: configuration)
    }

    /// The largest playlist read to learn whether it has ended; a larger one counts as growing.
    static let playlistInspectionLimit = 1 << 20

    /// The object under `key`, or nil if there is none. Throws the store's errors.
    func object(_ key: String) async throws -> MediaObject? {
        let now = clock.now
        let cached: MediaObject? = state.withLock { state in
            guard var slot = state.slots[key] else { return nil }
            let interval = slot.object.kind == .playlist ? configuration.playlistRevalidationInterval : configuration.revalidationInterval
            guard now - slot.validatedAt < interval else { return nil }
            state.tick &+= 1
            slot.lastUse = state.tick
            state.slots[key] = slot
            return slot.object
        }
        if let cached { return cached }
        return try await load(key)
    }

    /// Drops every cached object whose key starts with `prefix`.
    func purge(prefix: String) {
        state.withLock { state in
            for (key, slot) in state.slots where key.hasPrefix(prefix) {
                state.bytes -= slot.object.cost
                state.slots[key] = nil
            }
        }
    }

    /// Number of objects and bytes held (for tests and diagnostics).
    var usage: (objects: Int, bytes: Int) {
        state.withLock { ($0.slots.count, $0.bytes) }
    }

    private func load(_ key: String) async throws -> MediaObject? {
        let task: Task<MediaObject?, any Error> = state.withLock { state in
            if let running = state.loads[key] { return running }
            let previous = state.slots[key]?.object
            let task = Task { try await self.fetch(key, previous: previous) }
            state.loads[key] = task
            return task
        }
        do {
            let object = try await task.value
            finish(key, task: task, object: object)
            return object
        } catch {
            finish(key, task: task, object: nil)
            throw error
        }
    }

    private func finish(_ key: String, task: Task<MediaObject?, any Error>, object: MediaObject?) {
        let now = clock.now
        state.withLock { state in
            // Only the first waiter to finish updates the cache, and only for its own load.
            guard let running = state.loads[key], running == task else { return }
            state.loads[key] = nil
            if let old = state.slots.removeValue(forKey: key) { state.bytes -= old.object.cost }
            guard let object, object.cost <= configuration.objectCacheCapacity else { return }
            state.tick &+= 1
            state.slots[key] = Slot(object: object, validatedAt: now, lastUse: state.tick)
            state.bytes += object.cost
            evict(&state)
        }
    }

    private func evict(_ state: inout State) {
        while state.bytes > configuration.objectCacheCapacity, !state.slots.isEmpty {
            // A linear scan on eviction only: the cache holds hundreds of objects, and lookups,
            // which are most of the traffic, stay a dictionary access.
            let victim = state.slots.min { $0.value.lastUse < $1.value.lastUse }!
            state.bytes -= victim.value.object.cost
            state.slots[victim.key] = nil
        }
    }

    /// Reads metadata (and small bodies) from the store, reusing `previous` when unchanged.
    private func fetch(_ key: String, previous: MediaObject?) async throws -> MediaObject? {
        // An object replaced between the metadata call and the read would pair one version's
        // validator with another's bytes; reading the metadata again after the read catches that.
        for _ in 0..<4 {
            guard let metadata = try await blobs.metadata(key) else { return nil }
            if let previous, previous.storeETag == metadata.etag, previous.size == metadata.size {
                return previous
            }
            let kind = MediaKind(key: key)
            let limit = kind == .playlist ? max(configuration.maximumCachedObjectSize, Self.playlistInspectionLimit) : configuration.maximumCachedObjectSize
            guard metadata.size <= Int64(limit) else {
                return makeObject(metadata: metadata, kind: kind, bytes: nil)
            }
            if metadata.size == 0 { return makeObject(metadata: metadata, kind: kind, bytes: []) }
            let bytes: [UInt8]
            do {
                bytes = try await blobs.get(key)
            } catch VideoStackError.Code.notFound {
                return nil
            }
            guard let after = try await blobs.metadata(key) else { return nil }
            if after.etag == metadata.etag, bytes.count == Int(metadata.size) {
                return makeObject(metadata: metadata, kind: kind, bytes: bytes)
            }
        }
        throw VideoStackError(.io, "'\(key)' kept changing while it was being read; try again.")
    }

    private func makeObject(metadata: BlobMetadata, kind: MediaKind, bytes: [UInt8]?) -> MediaObject {
        let playlistState: PlaylistState? = kind == .playlist ? bytes.map { PlaylistState(playlist: $0) } ?? .growing : nil
        let lifetimes = configuration.cacheLifetimes
        let lifetime: Duration
        switch (kind, playlistState) {
        case (.playlist, .multivariant?): lifetime = lifetimes.multivariantPlaylist
        case (.playlist, .ended?): lifetime = lifetimes.endedPlaylist
        case (.playlist, _): lifetime = lifetimes.growingPlaylist
        case _ where kind.isImmutable: lifetime = lifetimes.immutable
        default: lifetime = lifetimes.other
        }
        let etag = EntityTag.fromStoreValidator(metadata.etag)
        let lastModified = HTTPDate(secondsSince1970: Int64(metadata.lastModified.timeIntervalSince1970.rounded(.down)))
        let maxAge = lifetime.components.seconds
        let immutable = kind.isImmutable
        let cacheControl = HeaderTemplate.cacheControl(maxAge: maxAge, immutable: immutable)
        let contentType = MediaKind.contentType(key: metadata.key, stored: metadata.contentType)
        let (full, notModified) = headers.make(
            contentType: contentType, size: metadata.size, etag: etag.description,
            lastModified: lastModified.description, cacheControl: cacheControl
        )
        return MediaObject(
            key: metadata.key, kind: kind, size: metadata.size, storeETag: metadata.etag, etag: etag,
            lastModified: lastModified, playlistState: playlistState, maxAge: maxAge, immutable: immutable,
            fullHeaders: full, notModifiedHeaders: notModified,
            body: bytes.map { ByteBuffer(bytes: $0) }
        )
    }
}
