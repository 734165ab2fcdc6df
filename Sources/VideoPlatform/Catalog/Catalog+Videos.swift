internal import Foundation
internal import Logging
public import SingleTableStore
public import VideoCore

extension Catalog {
    // MARK: Creating and reading

    /// Stores a new video and its entry in the uploader's collection, in one transaction.
    ///
    /// Throws what `Video.validate()` throws, `notFound` if the uploader is not registered,
    /// `conflict` if the id is taken.
    public func create(_ video: Video) async throws {
        try video.validate()
        do {
            try await store.transactWrite([
                .conditionCheck(key: Self.userKey(video.owner), condition: .exists("PK")),
                .put(try videoItem(video), condition: .notExists("PK")),
                .put(try collectionItem(video), condition: .notExists("PK")),
            ])
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            let reasons = error.cancellationReasons ?? []
            if reasons.failed(0) {
                throw VideoStackError(.notFound, "There is no user '\(video.owner)' to own the video; register the user first.")
            }
            if reasons.failed(1) || reasons.failed(2) {
                throw VideoStackError(.conflict, "A video with id \(video.id) already exists.", cause: error)
            }
            throw error
        }
    }

    /// The video with this id, or nil.
    public func video(_ id: VideoID) async throws -> Video? {
        guard let item = try await store.getItem(key: Self.videoKey(id)) else { return nil }
        return try videos.decode(item, key: id)
    }

    /// A page of the user's videos, newest first.
    public func videos(of username: String, limit: Int = 20, after token: PageToken? = nil) async throws -> (videos: [VideoSummary], next: PageToken?) {
        guard let name = try? User.normalizedUsername(username) else { return ([], nil) }
        let page = try await store.query(Query(partitionKey: .s("USER#\(name)"), sortKey: .beginsWith("#VIDEO#"),
                                               ascending: false, limit: limit, startToken: token))
        return (try page.items.map { try decoder.decode(VideoSummary.self, from: $0) }, page.nextToken)
    }

    // MARK: Changing

    /// Changes the given metadata fields of a video, and its collection entry with it, in one
    /// transaction; every other field (status, counters, ratings) is left as the store has it.
    ///
    /// - Returns: the video as stored after the change.
    /// - Throws: what `Video.validate()` throws for a given field, `invalidInput` when no field
    ///   is given, `notFound` when there is no such video.
    @discardableResult
    public func updateMetadata(_ id: VideoID, _ changes: VideoMetadataChanges) async throws -> Video {
        try changes.validate()
        let owner = try await existingVideo(id).owner
        var videoActions: [UpdateAction] = [.set("updatedAt", .value(try encoder.encodeValue(Date())))]
        var entryActions: [UpdateAction] = []
        if let title = changes.title {
            videoActions.append(.set("title", .value(.s(title))))
            entryActions.append(.set("title", .value(.s(title))))
        }
        if let description = changes.description { videoActions.append(.set("description", .value(.s(description)))) }
        if let tags = changes.tags { videoActions.append(.set("tags", .value(try encoder.encodeValue(tags)))) }
        if let visibility = changes.visibility {
            videoActions.append(.set("visibility", .value(.s(visibility.rawValue))))
            entryActions.append(.set("visibility", .value(.s(visibility.rawValue))))
        }
        try await writeVideo(id, owner: owner, videoActions, condition: .exists("PK"), entry: entryActions) { _ in
            VideoStackError(.notFound, "There is no video \(id).")
        }
        return try await existingVideo(id)
    }

    /// Moves a video to `status`, with the fields that go with it, in one conditional write.
    ///
    /// The store writes only if the video's status at that moment may move to `status`
    /// (`VideoCore/VideoStatus/canTransition(to:)`), and only if it is `from` when that is
    /// given, so of two racing moves at most one that conflicts succeeds. With the status it
    /// writes `updatedAt`, `duration` and `renditions` when given, the `failureReason` of a move
    /// to `failed` (and removes it on any other move), and `progress` (0 on a move to
    /// `processing`, removed on any other move). The collection entry's status and duration
    /// change in the same transaction.
    ///
    /// - Returns: the video as stored after the move.
    /// - Throws: `invalidInput` when no status may move to `status`, when `from` may not, or when
    ///   `failureReason` is missing for `failed` or given for another status; `notFound` when
    ///   there is no such video; `conflict` when the video's status may not move to `status`
    ///   (or is not `from`).
    @discardableResult
    public func transition(_ id: VideoID, to status: VideoStatus, from expected: VideoStatus? = nil, duration: Duration? = nil,
                           renditions: [Rendition]? = nil, media: VideoMedia? = nil, failureReason: String? = nil,
                           alsoWriting extra: [TransactAction] = []) async throws -> Video {
        let allowed: [VideoStatus]
        if let expected {
            guard expected.canTransition(to: status) else {
                throw VideoStackError(.invalidInput, "A video cannot move from \(expected) to \(status).")
            }
            allowed = [expected]
        } else {
            allowed = VideoStatus.allCases.filter { $0.canTransition(to: status) }
            guard !allowed.isEmpty else {
                throw VideoStackError(.invalidInput, "No status moves to \(status); a video is created in it.")
            }
        }
        if status == .failed {
            guard let failureReason else {
                throw VideoStackError(.invalidInput, "A move to failed needs a failureReason saying what went wrong.")
            }
            try Video.check(failureReason: failureReason)
        } else if failureReason != nil {
            throw VideoStackError(.invalidInput, "Only a move to failed takes a failureReason; this one is to \(status).")
        }
        if let duration { try Video.check(duration: duration) }

        let current = try await existingVideo(id)
        func refused(_ actual: String) -> VideoStackError {
            let expectation = expected.map { "it is not \($0)" } ?? "only \(allowed.map(\.rawValue).joined(separator: ", ")) may"
            return VideoStackError(.conflict, "Video \(id) is \(actual), so it cannot move to \(status) (\(expectation)).")
        }
        // Refusing early saves a write; under a race the condition below decides.
        guard allowed.contains(current.status) else { throw refused(current.status.rawValue) }

        let statusValue = UpdateValue.value(.s(status.rawValue))
        var videoActions: [UpdateAction] = [.set("status", statusValue), .set("updatedAt", .value(try encoder.encodeValue(Date())))]
        var entryActions: [UpdateAction] = [.set("status", statusValue)]
        if let duration {
            let seconds = UpdateValue.value(try encoder.encodeValue(duration / .seconds(1)))
            videoActions.append(.set("duration", seconds))
            entryActions.append(.set("duration", seconds))
        }
        if let renditions { videoActions.append(.set("renditions", .value(try encoder.encodeValue(renditions)))) }
        if let media { videoActions.append(.set("media", .value(try encoder.encodeValue(media)))) }
        videoActions.append(failureReason.map { .set("failureReason", .value(.s($0))) } ?? .remove("failureReason"))
        videoActions.append(status == .processing ? .set("progress", .value(.int(0))) : .remove("progress"))

        let condition: Condition = .isIn(.path("status"), allowed.map { .s($0.rawValue) })
        try await writeVideo(id, owner: current.owner, videoActions, condition: condition, entry: entryActions, alsoWriting: extra) { old in
            old.map { refused($0["status"]?.string ?? "unknown") } ?? VideoStackError(.notFound, "There is no video \(id).")
        }
        var metadata: Logger.Metadata = ["video": "\(id)", "from": "\(current.status)", "to": "\(status)"]
        if let failureReason { metadata["failureReason"] = "\(failureReason.prefix(200))" }
        logger.info("video status changed", metadata: metadata)
        return try await existingVideo(id)
    }

    /// Records how much of a processing video is done (a fraction from 0 to 1).
    ///
    /// Writes `progress` alone (not `updatedAt`: progress changes often), and only while the
    /// video is `processing`.
    /// - Throws: `invalidInput` for a fraction outside 0...1, `notFound` when there is no such
    ///   video, `conflict` when it is not processing.
    public func updateProgress(_ id: VideoID, _ fraction: Double) async throws {
        try Video.check(progress: fraction)
        do {
            try await store.updateItem(key: Self.videoKey(id), actions: [.set("progress", .value(try encoder.encodeValue(fraction)))],
                                       condition: .equal("status", .s(VideoStatus.processing.rawValue)), returnValues: .none)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            let current = try await existingVideo(id)
            throw VideoStackError(.conflict, "Video \(id) is \(current.status), not processing; progress is kept only while it processes.")
        }
    }

    /// Records where a processing video's growing playlist is, so viewers can start watching
    /// before it is ready. Written only while the video is `processing`.
    /// - Throws: `notFound` when there is no such video, `conflict` when it is not processing.
    public func setMedia(_ id: VideoID, _ media: VideoMedia) async throws {
        do {
            try await store.updateItem(key: Self.videoKey(id), actions: [.set("media", .value(try encoder.encodeValue(media)))],
                                       condition: .equal("status", .s(VideoStatus.processing.rawValue)), returnValues: .none)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            let current = try await existingVideo(id)
            throw VideoStackError(.conflict, "Video \(id) is \(current.status), not processing; its media is set when it becomes ready.")
        }
    }

    /// Adds `count` views to the video item's own counter atomically: for imports and for a
    /// catalog used without ``ViewCounter``. A ``Platform`` counts views on ``ViewCounter``'s
    /// sharded counters, whose roll-up owns this attribute (it writes the shards' sum), so do
    /// not mix the two on one video.
    public func recordViews(_ videoID: VideoID, count: Int64 = 1) async throws {
        guard count >= 1 else { throw VideoStackError(.invalidInput, "Views are added one or more at a time; got \(count).") }
        do {
            try await store.updateItem(key: Self.videoKey(videoID), actions: [.add("views", .int(count))], condition: .exists("PK"), returnValues: .none)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            throw VideoStackError(.notFound, "There is no video \(videoID).")
        }
    }

    // MARK: Deleting

    /// Deletes a video with its collection entry (in one transaction), then its reviews.
    ///
    /// Once the first transaction commits the video is gone for every reader; the reviews follow
    /// in batches. If that is interrupted, calling `deleteVideo` again removes what is left.
    /// - Throws: `notFound` when there was no such video (leftover reviews are removed all the same).
    public func deleteVideo(_ id: VideoID) async throws {
        let existing = try await video(id)
        if let existing {
            do {
                try await store.transactWrite([
                    .delete(key: Self.videoKey(id), condition: .exists("PK")),
                    .delete(key: Self.collectionKey(owner: existing.owner, id)),
                ])
            } catch let error as VideoStackError where error.code == .transactionCanceled && (error.cancellationReasons ?? []).failed(0) {
                // Deleted meanwhile by another call; what is left of it is removed below.
            }
        }
        var removed = 0
        while true {
            // Everything left in the video's partition: its reviews and whose they are.
            let page = try await store.query(Query(partitionKey: .s("VIDEO#\(id)"), limit: StoreLimits.maximumBatchWrites))
            guard !page.items.isEmpty else { break }
            try await store.batchWrite(page.items.map { .delete(key: ["PK": $0["PK"] ?? .null, "SK": $0["SK"] ?? .null]) })
            removed += page.items.count
        }
        guard let existing else {
            if removed > 0 { logger.info("removed what an interrupted deletion left", metadata: ["video": "\(id)", "items": "\(removed)"]) }
            throw VideoStackError(.notFound, "There is no video \(id).")
        }
        logger.info("deleted video", metadata: ["video": "\(id)", "owner": "\(existing.owner)", "reviewItems": "\(removed)"])
    }

    // MARK: Helpers

    /// The stored video, or `notFound`.
    func existingVideo(_ id: VideoID) async throws -> Video {
        guard let video = try await video(id) else { throw VideoStackError(.notFound, "There is no video \(id).") }
        return video
    }

    /// Updates a video under `condition` and, when `entry` has actions, its collection entry, in
    /// one transaction; `refusal` turns a failed condition (with the item as it was) into the error.
    private func writeVideo(_ id: VideoID, owner: String, _ actions: [UpdateAction], condition: Condition, entry: [UpdateAction],
                            alsoWriting extra: [TransactAction] = [], refusal: (Item?) -> VideoStackError) async throws {
        var writes: [TransactAction] = [.update(key: Self.videoKey(id), actions: actions, condition: condition)]
        // The condition keeps an update from creating an entry that was never there.
        writes.append(entry.isEmpty ? .conditionCheck(key: Self.collectionKey(owner: owner, id), condition: .exists("PK"))
                                    : .update(key: Self.collectionKey(owner: owner, id), actions: entry, condition: .exists("PK")))
        writes += extra
        do {
            try await store.transactWrite(writes)
        } catch let error as VideoStackError where error.code == .transactionCanceled {
            let reasons = error.cancellationReasons ?? []
            if case .conditionalCheckFailed(let old)? = reasons.first { throw refusal(old) }
            if reasons.failed(1) {
                throw VideoStackError(.corrupt, "Video \(id) has no entry in the collection of '\(owner)'; nothing was changed. The item USER#\(owner) / #VIDEO#\(id) was removed outside the catalog.")
            }
            throw error
        }
    }
}
