import Crypto
import Foundation
public import SingleTableStore
public import VideoCore

/// What a stream key unlocks: the live video it publishes to, and whose it is.
public struct StreamKeyGrant: Sendable, Hashable {
    /// The live video the key publishes to.
    public var video: VideoID
    /// The username of the key's owner (the video's owner).
    public var owner: String
}

/// Stream keys, owned by users, kept in the platform's item store.
///
/// A key is shown once, when it is created or rotated; the store keeps only its SHA-256, so a
/// copy of the database does not let anyone publish. Items (single-table layout):
///
/// | item | PK | SK | attributes |
/// |---|---|---|---|
/// | key → video | `STREAMKEY#<sha256 hex>` | same | `video`, `owner` |
/// | video → its current key | `VIDEO#<id>` | `STREAMKEY` | `keyHash`, `owner` |
///
/// Create, rotate and revoke are single transactions, so at most one key publishes to a video
/// and a rotated or revoked key stops working at once (a stream already publishing with it goes
/// on until it disconnects).
public struct StreamKeys: Sendable {
    let store: any ItemStore

    /// Keys over `store` (the platform's, with the single-table schema).
    public init(store: any ItemStore) {
        self.store = store
    }

    /// A new random key: `live_` and 40 characters of base-62 (238 bits).
    public static func generate() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return "live_" + String((0..<40).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    static func hash(_ key: String) -> String {
        Array(SHA256.hash(data: Data(key.utf8))).lowercaseHex
    }

    static func keyItemKey(_ hash: String) -> Item { ["PK": .s("STREAMKEY#\(hash)"), "SK": .s("STREAMKEY#\(hash)")] }
    static func videoKeyItemKey(_ video: VideoID) -> Item { ["PK": .s("VIDEO#\(video)"), "SK": .s("STREAMKEY")] }

    /// Gives `video` (owned by `owner`) a new key and returns it; any earlier key stops working.
    @discardableResult
    public func rotate(video: VideoID, owner: String) async throws -> String {
        let key = StreamKeys.generate()
        let hash = StreamKeys.hash(key)
        var actions: [TransactAction] = []
        if let current = try await store.getItem(key: StreamKeys.videoKeyItemKey(video)), let old = current["keyHash"]?.string {
            guard current["owner"]?.string == owner else {
                throw VideoStackError(.forbidden, "The stream key of video \(video) belongs to another user.")
            }
            actions.append(.delete(key: StreamKeys.keyItemKey(old)))
            actions.append(.put(StreamKeys.videoKeyItemKey(video).merging(["keyHash": .s(hash), "owner": .s(owner)]) { $1 },
                                condition: .equal("keyHash", .s(old))))
        } else {
            actions.append(.put(StreamKeys.videoKeyItemKey(video).merging(["keyHash": .s(hash), "owner": .s(owner)]) { $1 },
                                condition: .notExists("PK")))
        }
        actions.append(.put(StreamKeys.keyItemKey(hash).merging(["video": .s(video.description), "owner": .s(owner)]) { $1 },
                            condition: .notExists("PK")))
        do {
            try await store.transactWrite(actions)
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            throw VideoStackError(.conflict, "The stream key of video \(video) changed meanwhile; try again.", cause: error)
        }
        return key
    }

    /// Revokes the key of `video`: publishing with it is refused from now on. Returns whether there was one.
    @discardableResult
    public func revoke(video: VideoID) async throws -> Bool {
        guard let current = try await store.getItem(key: StreamKeys.videoKeyItemKey(video)), let old = current["keyHash"]?.string else {
            return false
        }
        do {
            try await store.transactWrite([
                .delete(key: StreamKeys.keyItemKey(old)),
                .delete(key: StreamKeys.videoKeyItemKey(video), condition: .equal("keyHash", .s(old))),
            ])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            throw VideoStackError(.conflict, "The stream key of video \(video) changed meanwhile; try again.", cause: error)
        }
        return true
    }

    /// What `key` publishes to, or nil for a key that is unknown, rotated away or revoked.
    public func grant(for key: String) async throws -> StreamKeyGrant? {
        guard !key.isEmpty, key.utf8.count <= 256 else { return nil }
        guard let item = try await store.getItem(key: StreamKeys.keyItemKey(StreamKeys.hash(key))),
              let videoText = item["video"]?.string, let video = VideoID(videoText), let owner = item["owner"]?.string
        else { return nil }
        return StreamKeyGrant(video: video, owner: owner)
    }
}
