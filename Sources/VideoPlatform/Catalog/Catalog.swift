public import Foundation
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
///
/// Users carry `GSI1PK = EMAIL#<email>` so sign-in finds them by email through `GSI1`. Ids sort
/// by time, so a descending query over `#VIDEO#` or `REV#` lists newest first.
public struct Catalog: Sendable {
    public let store: any ItemStore
    private let encoder = ItemEncoder()
    private let decoder = ItemDecoder()

    /// The store must use `TableSchema/singleTable` (or another schema with `PK`/`SK` strings and
    /// a `GSI1` over `GSI1PK`/`GSI1SK`).
    public init(store: any ItemStore) throws {
        let schema = store.schema
        guard schema.partitionKey == KeyAttribute("PK"), schema.sortKey == KeyAttribute("SK"),
              let gsi1 = schema.indexes.first(where: { $0.name == "GSI1" }), gsi1.partitionKey == KeyAttribute("GSI1PK")
        else {
            throw VideoStackError(.invalidInput, "The catalog needs a store with the single-table schema (PK/SK strings and GSI1 over GSI1PK); use TableSchema.singleTable.")
        }
        self.store = store
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
        guard let item = try await store.getItem(key: ["PK": .s("USER#\(name)"), "SK": .s("USER#\(name)")]) else { return nil }
        return try decoder.decode(User.self, from: item)
    }

    /// The user registered with this email (through GSI1), or nil.
    public func user(email: String) async throws -> User? {
        let normalized = try User.normalizedEmail(email)
        let page = try await store.query(Query(index: "GSI1", partitionKey: .s("EMAIL#\(normalized)"), limit: 1))
        return try page.items.first.map { try decoder.decode(User.self, from: $0) }
    }

    // MARK: Videos

    /// Stores a new video and its entry in the uploader's collection, in one transaction.
    ///
    /// Throws what `Video.validate()` throws, `notFound` if the uploader is not registered,
    /// `conflict` if the id is taken.
    public func create(_ video: Video) async throws {
        try video.validate()
        do {
            try await store.transactWrite([
                .conditionCheck(key: userKey(video.owner), condition: .exists("PK")),
                .put(try videoItem(video), condition: .notExists("PK")),
                .put(try collectionItem(video), condition: .notExists("PK")),
            ])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            let reasons = error.cancellationReasons ?? []
            if case .conditionalCheckFailed? = reasons.first {
                throw VideoStackError(.notFound, "There is no user '\(video.owner)' to own the video; register the user first.")
            }
            if reasons.dropFirst().contains(where: { if case .conditionalCheckFailed = $0 { true } else { false } }) {
                throw VideoStackError(.conflict, "A video with id \(video.id) already exists.", cause: error)
            }
            throw error
        }
    }

    /// The video with this id, or nil.
    public func video(_ id: VideoID) async throws -> Video? {
        guard let item = try await store.getItem(key: videoKey(id)) else { return nil }
        return try decoder.decode(Video.self, from: item)
    }

    /// Replaces a video's metadata and its collection entry together; the video must exist and
    /// must still be in the status `expectedStatus` when one is given (optimistic concurrency).
    public func update(_ video: Video, expectedStatus: VideoStatus? = nil) async throws {
        try video.validate()
        var video = video
        video.updatedAt = Date()
        var condition: Condition = .exists("PK")
        if let expectedStatus { condition = condition && .equal("status", .s(expectedStatus.rawValue)) }
        do {
            try await store.transactWrite([
                .put(try videoItem(video), condition: condition),
                .put(try collectionItem(video)),
            ])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            if case .conditionalCheckFailed(let old)? = error.cancellationReasons?.first {
                if old == nil { throw VideoStackError(.notFound, "There is no video \(video.id).") }
                throw VideoStackError(.conditionFailed, "Video \(video.id) is no longer \(expectedStatus?.rawValue ?? "?"); it is \(old?["status"]?.string ?? "unknown"). Reload it and try again.")
            }
            throw error
        }
    }

    /// A page of the user's videos, newest first.
    public func videos(of username: String, limit: Int = 20, after token: PageToken? = nil) async throws -> (videos: [VideoSummary], next: PageToken?) {
        guard let name = try? User.normalizedUsername(username) else { return ([], nil) }
        let page = try await store.query(Query(partitionKey: .s("USER#\(name)"), sortKey: .beginsWith("#VIDEO#"),
                                               ascending: false, limit: limit, startToken: token))
        return (try page.items.map { try decoder.decode(VideoSummary.self, from: $0) }, page.nextToken)
    }

    // MARK: Reviews

    /// Stores a review and adds its rating to the video's totals, in one transaction.
    /// Throws what `Review.validate()` throws, `notFound` if the video or the author does not exist.
    public func add(_ review: Review) async throws {
        try review.validate()
        var item = try encoder.encode(review)
        item["PK"] = .s("VIDEO#\(review.videoID)")
        item["SK"] = .s("REV#\(review.id)")
        item["type"] = "review"
        do {
            try await store.transactWrite([
                .put(item, condition: .notExists("PK")),
                .update(key: videoKey(review.videoID), actions: [
                    .add("ratingSum", .int(Int64(review.rating))),
                    .add("ratingCount", .int(1)),
                ], condition: .exists("PK")),
                .conditionCheck(key: userKey(review.author), condition: .exists("PK")),
            ])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            let reasons = error.cancellationReasons ?? []
            if reasons.count > 1, case .conditionalCheckFailed = reasons[1] {
                throw VideoStackError(.notFound, "There is no video \(review.videoID) to review.")
            }
            if reasons.count > 2, case .conditionalCheckFailed = reasons[2] {
                throw VideoStackError(.notFound, "There is no user '\(review.author)' to write the review; register the user first.")
            }
            throw error
        }
    }

    /// A page of a video's reviews, newest first.
    public func reviews(of videoID: VideoID, limit: Int = 20, after token: PageToken? = nil) async throws -> (reviews: [Review], next: PageToken?) {
        let page = try await store.query(Query(partitionKey: .s("VIDEO#\(videoID)"), sortKey: .beginsWith("REV#"),
                                               ascending: false, limit: limit, startToken: token))
        return (try page.items.map { try decoder.decode(Review.self, from: $0) }, page.nextToken)
    }

    /// Adds `count` views to a video atomically.
    public func recordViews(_ videoID: VideoID, count: Int64 = 1) async throws {
        guard count >= 1 else { throw VideoStackError(.invalidInput, "Views are added one or more at a time; got \(count).") }
        do {
            try await store.updateItem(key: videoKey(videoID), actions: [.add("views", .int(count))], condition: .exists("PK"), returnValues: .none)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            throw VideoStackError(.notFound, "There is no video \(videoID).")
        }
    }

    // MARK: Items

    private func userKey(_ username: String) -> Item {
        ["PK": .s("USER#\(username.lowercased())"), "SK": .s("USER#\(username.lowercased())")]
    }

    private func videoKey(_ id: VideoID) -> Item {
        ["PK": .s("VIDEO#\(id)"), "SK": .s("VIDEO#\(id)")]
    }

    private func videoItem(_ video: Video) throws -> Item {
        var item = try encoder.encode(video)
        item["PK"] = .s("VIDEO#\(video.id)")
        item["SK"] = .s("VIDEO#\(video.id)")
        item["type"] = "video"
        return item
    }

    private func collectionItem(_ video: Video) throws -> Item {
        var item = try encoder.encode(VideoSummary(video))
        item["PK"] = .s("USER#\(video.owner.lowercased())")
        item["SK"] = .s("#VIDEO#\(video.id)")
        item["type"] = "collectionEntry"
        return item
    }
}

/// What a user's video list shows: enough to render a card without loading each video.
public struct VideoSummary: Hashable, Sendable, Codable {
    public var id: VideoID
    public var owner: String
    public var title: String
    public var status: VideoStatus
    public var visibility: Visibility
    public var duration: Double?
    public var createdAt: Date

    public init(_ video: Video) {
        id = video.id
        owner = video.owner
        title = video.title
        status = video.status
        visibility = video.visibility
        duration = video.duration
        createdAt = video.createdAt
    }
}
