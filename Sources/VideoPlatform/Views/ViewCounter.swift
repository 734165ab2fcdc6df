public import Foundation
public import SingleTableStore
internal import Synchronization
public import VideoCore

/// Settings of ``ViewCounter``.
public struct ViewConfiguration: Sendable, Hashable {
    /// Counter items per video. Each view adds to one chosen at random, so a viral video's
    /// writes spread over this many partitions (the source design's "celebrity problem").
    public var shards: Int
    /// A viewer's views of one video count once per window (fixed windows: an hour by default).
    public var window: Duration

    public init(shards: Int = 16, window: Duration = .seconds(3600)) {
        self.shards = shards
        self.window = window
    }
}

/// Counts views: once per viewer per video per window, on write-sharded counters summed on read.
///
/// | item | PK | SK |
/// |---|---|---|
/// | counter shard | `VIEWS#<video>#<shard>` | `VIEWS` |
/// | viewer seen in a window | `SEEN#<video>#<viewer>` | `W#<window number>` |
///
/// A view is one transaction: the seen-marker (put only if absent or expired) and an `ADD` on a
/// random shard, so a view is counted exactly once or not at all. Each shard has a partition of
/// its own, so many viewers of one video do not queue on one item (in DynamoDB, one partition);
/// reading sums the shards with one batch get. Markers carry `expiresAt` (epoch seconds, the
/// attribute a DynamoDB TTL deletes by) and an entry in ``ExpirySweeper``'s index, so the
/// embedded store deletes them after their window.
///
/// The video item's `views` attribute (what search ranks by and lists show) is refreshed from
/// the shards by ``rollUp()``, which the platform runs periodically for the videos viewed since.
public final class ViewCounter: Sendable {
    public let store: any ItemStore
    public let configuration: ViewConfiguration
    private let now: @Sendable () -> Date
    private let viewedSinceRollUp = Mutex<Set<VideoID>>([])

    public init(store: any ItemStore, configuration: ViewConfiguration = ViewConfiguration(), now: @escaping @Sendable () -> Date = Date.init) throws {
        guard (1...1000).contains(configuration.shards) else {
            throw VideoStackError(.invalidInput, "A view counter has 1 to 1000 shards; got \(configuration.shards).")
        }
        guard configuration.window >= .seconds(1) else {
            throw VideoStackError(.invalidInput, "The view window is at least one second; got \(configuration.window).")
        }
        self.store = store
        self.configuration = configuration
        self.now = now
    }

    /// Counts a view of `video` by `viewer` (a username, or a hash of the client address for
    /// anonymous viewers). Returns false when this viewer's view was already counted in this window.
    ///
    /// Throws `notFound` when the video does not exist.
    @discardableResult
    public func record(_ video: VideoID, viewer: String) async throws -> Bool {
        guard !viewer.isEmpty, viewer.utf8.count <= 256 else {
            throw VideoStackError(.invalidInput, "A viewer key is 1 to 256 bytes; got \(viewer.utf8.count).")
        }
        let time = now().timeIntervalSince1970
        let windowSeconds = Double(configuration.window.components.seconds)
        let window = Int64((time / windowSeconds).rounded(.down))
        let expiresAt = Int64((Double(window + 1) * windowSeconds).rounded(.up))
        let markerPK = "SEEN#\(video)#\(viewer)"
        var marker: Item = ["PK": .s(markerPK), "SK": .s("W#\(window)"), "type": "viewSeen", "expiresAt": .int(expiresAt)]
        ExpirySweeper.index(&marker, expiresAt: expiresAt)
        let shard = Int.random(in: 0..<configuration.shards)
        do {
            try await store.transactWrite([
                .conditionCheck(key: ["PK": .s("VIDEO#\(video)"), "SK": .s("VIDEO#\(video)")], condition: .exists("PK")),
                .put(marker, condition: .notExists("PK")),
                .update(key: shardKey(video, shard), actions: [.add("count", .int(1)), .set("type", .value("viewShard"))]),
            ])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            let reasons = error.cancellationReasons ?? []
            if case .conditionalCheckFailed? = reasons.first { throw VideoStackError(.notFound, "There is no video \(video).") }
            if reasons.count > 1, case .conditionalCheckFailed = reasons[1] { return false }
            throw error
        }
        _ = viewedSinceRollUp.withLock { $0.insert(video) }
        return true
    }

    /// The exact number of counted views of `video`.
    public func count(_ video: VideoID) async throws -> Int64 {
        try await counts([video])[video] ?? 0
    }

    /// Exact counts for several videos, from their shards (batches of 100 keys).
    public func counts(_ videos: [VideoID]) async throws -> [VideoID: Int64] {
        var totals: [VideoID: Int64] = [:]
        for video in videos { totals[video] = 0 }
        let keys = Array(Set(videos)).flatMap { video in (0..<configuration.shards).map { shardKey(video, $0) } }
        for start in stride(from: 0, to: keys.count, by: 100) {
            for item in try await store.batchGet(keys: Array(keys[start..<min(start + 100, keys.count)])) {
                guard let pk = item["PK"]?.string, let count = item["count"]?.int64 else { continue }
                let parts = pk.split(separator: "#")
                guard parts.count == 3, let id = VideoID(String(parts[1])) else { continue }
                totals[id, default: 0] += count
            }
        }
        return totals
    }

    /// Writes the summed counts of the videos viewed since the last roll-up into their items'
    /// `views` attribute. Only this writes `views`, and always from the shards, so it is never
    /// stale for long and never loses a view. Returns the number of videos refreshed.
    @discardableResult
    public func rollUp() async throws -> Int {
        let videos = viewedSinceRollUp.withLock { set -> [VideoID] in
            defer { set.removeAll() }
            return Array(set)
        }
        guard !videos.isEmpty else { return 0 }
        let totals = try await counts(videos)
        var refreshed = 0
        for (video, total) in totals {
            do {
                try await store.updateItem(key: ["PK": .s("VIDEO#\(video)"), "SK": .s("VIDEO#\(video)")],
                                           actions: [.set("views", .value(.int(total)))],
                                           condition: .exists("PK") && (.notExists("views") || .less("views", .int(total))),
                                           returnValues: .none)
                refreshed += 1
            } catch let error as VideoStackError where error.code == .conditionFailed {
                continue  // deleted meanwhile, or another node wrote a newer total
            }
        }
        return refreshed
    }

    /// Removes a video's counter shards (when the video is deleted).
    public func removeCounters(of video: VideoID) async throws {
        let keys = (0..<configuration.shards).map { shardKey(video, $0) }
        for start in stride(from: 0, to: keys.count, by: 25) {
            try await store.batchWrite(keys[start..<min(start + 25, keys.count)].map { .delete(key: $0) })
        }
    }

    private func shardKey(_ video: VideoID, _ shard: Int) -> Item {
        ["PK": .s("VIEWS#\(video)#\(shard)"), "SK": "VIEWS"]
    }
}
