public import SingleTableStore
public import VideoCore

extension Catalog {
    /// How often a review write is tried when the author's own review changes under it.
    static let reviewAttempts = 8

    /// Stores a review, replacing the author's earlier review of the video if there is one (one
    /// review per user and video), and changes the video's rating totals in the same transaction.
    ///
    /// The totals stay exact under any concurrency: a first review adds its rating and 1 to the
    /// count; a replacement adds the difference to the old rating, under a condition that the
    /// author's review is still the one it replaces (a racing change makes it read again and
    /// retry). A replacement with a new review id is listed as the newest review.
    ///
    /// - Returns: true when it replaced an earlier review of the author.
    /// - Throws: what `Review.validate()` throws, `notFound` if the video or the author does not
    ///   exist, `conflict` if another review already has this review's id.
    @discardableResult
    public func submit(_ review: Review) async throws -> Bool {
        try review.validate()
        let item = try reviewItem(review)
        let rating = Int64(review.rating)
        let reviewerKey = Self.reviewerKey(review.videoID, author: review.author)
        let marker = reviewerKey.merging(["reviewID": .s(review.id.description), "rating": .int(rating), "type": "reviewer"]) { $1 }
        let videoKey = Self.videoKey(review.videoID)
        for _ in 0..<Self.reviewAttempts {
            let previous = try await store.getItem(key: reviewerKey).map(Reviewer.init(item:))
            var actions: [TransactAction]
            if let previous {
                actions = [.put(marker, condition: previous.isCurrent)]
                if previous.reviewID == review.id.description {
                    actions.append(.put(item))
                } else {
                    actions.append(.put(item, condition: .notExists("PK")))
                    actions.append(.delete(key: Self.reviewKey(review.videoID, previous.reviewID)))
                }
                let difference = rating - previous.rating
                actions.append(difference == 0
                    ? .conditionCheck(key: videoKey, condition: .exists("PK"))
                    : .update(key: videoKey, actions: [.add("ratingSum", .int(difference))], condition: .exists("PK")))
            } else {
                actions = [
                    .put(marker, condition: .notExists("PK")),
                    .put(item, condition: .notExists("PK")),
                    .update(key: videoKey, actions: [.add("ratingSum", .int(rating)), .add("ratingCount", .int(1))], condition: .exists("PK")),
                ]
            }
            actions.append(.conditionCheck(key: Self.userKey(review.author), condition: .exists("PK")))
            do {
                try await store.transactWrite(actions)
                return previous != nil
            } catch let error as VideoStackError where error.code == .transactionCanceled {
                let reasons = error.cancellationReasons ?? []
                if reasons.failed(actions.count - 2) {
                    throw VideoStackError(.notFound, "There is no video \(review.videoID) to review.")
                }
                if reasons.failed(actions.count - 1) {
                    throw VideoStackError(.notFound, "There is no user '\(review.author)' to write the review; register the user first.")
                }
                if reasons.failed(0) { continue }  // the author's review changed since it was read
                if reasons.failed(1) {
                    throw VideoStackError(.conflict, "A review with id \(review.id) already exists; give the review a new id.")
                }
                throw error
            }
        }
        throw VideoStackError(.conflict, "The review of '\(review.author)' for video \(review.videoID) kept changing while this one was saved; try again.")
    }

    /// The author's review of the video, or nil.
    public func review(of videoID: VideoID, by author: String) async throws -> Review? {
        guard let name = try? User.normalizedUsername(author) else { return nil }
        for _ in 0..<Self.reviewAttempts {
            guard let marker = try await store.getItem(key: Self.reviewerKey(videoID, author: name)) else { return nil }
            let reviewer = try Reviewer(item: marker)
            if let item = try await store.getItem(key: Self.reviewKey(videoID, reviewer.reviewID)) {
                return try decoder.decode(Review.self, from: item)
            }
            // Replaced between the two reads: read again.
        }
        throw VideoStackError(.conflict, "The review of '\(name)' for video \(videoID) kept changing while it was read; try again.")
    }

    /// Deletes the author's review of the video and takes its rating out of the video's totals,
    /// in one transaction.
    /// - Returns: false when the author had no review of the video.
    /// - Throws: `notFound` when the video no longer exists.
    @discardableResult
    public func deleteReview(of videoID: VideoID, by author: String) async throws -> Bool {
        guard let name = try? User.normalizedUsername(author) else { return false }
        let reviewerKey = Self.reviewerKey(videoID, author: name)
        for _ in 0..<Self.reviewAttempts {
            guard let marker = try await store.getItem(key: reviewerKey) else { return false }
            let previous = try Reviewer(item: marker)
            do {
                try await store.transactWrite([
                    .delete(key: reviewerKey, condition: previous.isCurrent),
                    .delete(key: Self.reviewKey(videoID, previous.reviewID)),
                    .update(key: Self.videoKey(videoID), actions: [.add("ratingSum", .int(-previous.rating)), .add("ratingCount", .int(-1))],
                            condition: .exists("PK")),
                ])
                return true
            } catch let error as VideoStackError where error.code == .transactionCanceled {
                let reasons = error.cancellationReasons ?? []
                if reasons.failed(2) { throw VideoStackError(.notFound, "There is no video \(videoID).") }
                if reasons.failed(0) { continue }
                throw error
            }
        }
        throw VideoStackError(.conflict, "The review of '\(name)' for video \(videoID) kept changing while it was deleted; try again.")
    }

    /// A page of a video's reviews, newest first.
    public func reviews(of videoID: VideoID, limit: Int = 20, after token: PageToken? = nil) async throws -> (reviews: [Review], next: PageToken?) {
        let page = try await store.query(Query(partitionKey: .s("VIDEO#\(videoID)"), sortKey: .beginsWith("REV#"),
                                               ascending: false, limit: limit, startToken: token))
        return (try page.items.map { try decoder.decode(Review.self, from: $0) }, page.nextToken)
    }
}

/// The item that says which review is a user's (`VIDEO#<id>` / `REVBY#<username>`), with the
/// rating the video's totals hold for it.
private struct Reviewer {
    var reviewID: String
    var rating: Int64

    init(item: Item) throws {
        guard case .s(let id)? = item["reviewID"], case .n(let number)? = item["rating"], let rating = number.int64Value else {
            throw VideoStackError(.corrupt, "The reviewer item \(item["PK"].map { "\($0)" } ?? "?") / \(item["SK"].map { "\($0)" } ?? "?") lacks its reviewID or rating; delete the item and the review it names.")
        }
        reviewID = id
        self.rating = rating
    }

    /// Holds while the item is still this one: replacing or deleting a review under it keeps
    /// the totals exact, because a racing change alters the id or the rating.
    var isCurrent: Condition {
        .equal("reviewID", .s(reviewID)) && .equal("rating", .int(rating))
    }
}
