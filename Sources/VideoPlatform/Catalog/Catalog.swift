public import Logging
public import SingleTableStore
public import VideoCore

/// The source design's access patterns, typed, over one `ItemStore` in the single-table layout:
///
/// | entity | PK | SK |
/// |---|---|---|
/// | user | `USER#<username>` | `USER#<username>` |
/// | email claim (uniqueness) | `EMAIL#<email>` | `EMAIL#<email>` |
/// | video | `VIDEO#<id>` | `VIDEO#<id>` |
/// | video in its uploader's collection | `USER#<username>` | `#VIDEO#<id>` |
/// | review | `VIDEO#<id>` | `REV#<id>` |
/// | whose review it is (one per user and video) | `VIDEO#<id>` | `REVBY#<username>` |
///
/// Users carry `GSI1PK = EMAIL#<email>` so sign-in finds them by email through `GSI1`. Ids sort
/// by time, so a descending query over `#VIDEO#` or `REV#` lists newest first.
///
/// Every write changes only the attributes it means to, in the store's own write: metadata and
/// status with `SET` (the status under a condition that it may move, see
/// `VideoCore/VideoStatus/canTransition(to:)`), views and ratings with `ADD`. No write copies a
/// whole video from the caller, so a view or a review counted meanwhile is never lost, and the
/// video's entry in its uploader's collection changes in the same transaction as the video.
public struct Catalog: Sendable {
    public let store: any ItemStore
    let logger: Logger
    let encoder = ItemEncoder()
    let decoder = ItemDecoder()
    /// Videos decoded from their items: the hottest read of the platform.
    let videos = DecodedValueCache<Video>()

    /// The store must use `TableSchema/singleTable` (or another schema with `PK`/`SK` strings and
    /// a `GSI1` over `GSI1PK`/`GSI1SK`).
    /// - Parameters:
    ///   - store: the item store that holds the catalog.
    ///   - logger: where the catalog reports status changes and deletions; the task's logger by
    ///     default.
    public init(store: any ItemStore, logger: Logger = Logger.current) throws {
        let schema = store.schema
        guard schema.partitionKey == KeyAttribute("PK"), schema.sortKey == KeyAttribute("SK"),
              schema.indexes.contains(where: { $0.name == "GSI1" && $0.partitionKey == KeyAttribute("GSI1PK") })
        else {
            throw VideoStackError(.invalidInput, "The catalog needs a store with the single-table schema (PK/SK strings and GSI1 over GSI1PK); use TableSchema.singleTable.")
        }
        self.store = store
        self.logger = logger
    }

    // MARK: Users

    /// Registers a user, unique on both username and email, in one transaction.
    ///
    /// Throws `VideoStackError/Code/conflict` saying which of the two is taken.
    public func register(_ user: User) async throws {
        let (user, actions) = try registrationActions(for: user)
        do {
            try await store.transactWrite(actions)
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            throw Self.registrationConflict(error, user: user) ?? error
        }
    }

    /// The user with this username, or nil.
    public func user(named username: String) async throws -> User? {
        // A name no one can register belongs to no one.
        guard let name = try? User.normalizedUsername(username) else { return nil }
        guard let item = try await store.getItem(key: Self.userKey(name)) else { return nil }
        return try decoder.decode(User.self, from: item)
    }

    /// The user registered with this email (through GSI1), or nil.
    public func user(email: String) async throws -> User? {
        let normalized = try User.normalizedEmail(email)
        let page = try await store.query(Query(index: "GSI1", partitionKey: .s("EMAIL#\(normalized)"), limit: 1))
        return try page.items.first.map { try decoder.decode(User.self, from: $0) }
    }
}

// MARK: - Keys and items

extension Catalog {
    /// The key of a user; `username` is normalized already.
    static func userKey(_ username: String) -> Item {
        ["PK": .s("USER#\(username)"), "SK": .s("USER#\(username)")]
    }

    static func videoKey(_ id: VideoID) -> Item {
        let key = AttributeValue.s("VIDEO#" + id.description)
        return ["PK": key, "SK": key]
    }

    /// The key of a video's entry in its uploader's collection.
    static func collectionKey(owner: String, _ id: VideoID) -> Item {
        ["PK": .s("USER#\(owner)"), "SK": .s("#VIDEO#\(id)")]
    }

    /// The key of a review; `id` is a review id's text.
    static func reviewKey(_ videoID: VideoID, _ id: String) -> Item {
        ["PK": .s("VIDEO#\(videoID)"), "SK": .s("REV#\(id)")]
    }

    /// The key of the item that says which review is `author`'s (one per user and video).
    static func reviewerKey(_ videoID: VideoID, author: String) -> Item {
        ["PK": .s("VIDEO#\(videoID)"), "SK": .s("REVBY#\(author)")]
    }

    func videoItem(_ video: Video) throws -> Item {
        try encoder.encode(video).merging(Self.videoKey(video.id)) { $1 }.merging(["type": "video"]) { $1 }
    }

    func collectionItem(_ video: Video) throws -> Item {
        try encoder.encode(VideoSummary(video)).merging(Self.collectionKey(owner: video.owner, video.id)) { $1 }
            .merging(["type": "collectionEntry"]) { $1 }
    }

    func reviewItem(_ review: Review) throws -> Item {
        try encoder.encode(review).merging(Self.reviewKey(review.videoID, review.id.description)) { $1 }
            .merging(["type": "review"]) { $1 }
    }
}

extension [CancellationReason] {
    /// Whether the action at `index` failed its condition.
    func failed(_ index: Int) -> Bool {
        guard indices.contains(index), case .conditionalCheckFailed = self[index] else { return false }
        return true
    }
}
