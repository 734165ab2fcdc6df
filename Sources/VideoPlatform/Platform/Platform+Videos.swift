internal import Foundation
internal import Logging
public import SearchIndex
public import VideoCore

/// The operations that span several services: an upload that is also a video, a deletion that
/// removes everything a video left, a video or a search as one viewer may see it.
extension Platform {
    /// Starts an upload that becomes a video: the video (status `uploading`) from the tus
    /// metadata (`title`, else the file name; `description`; `tags`, comma separated;
    /// `visibility`), then the upload attached to it. When the last byte arrives, the saga
    /// publishes it.
    ///
    /// - Returns: the upload and the new video's id (the `Video-Id` of the creation response).
    /// - Throws: what `Video.validate()` throws for the metadata, and what
    ///   `UploadService.create` throws (size limit, quota); a refused upload leaves no video.
    public func startUpload(owner: String, length: Int64?, metadata: [String: String]) async throws -> (upload: UploadInfo, video: VideoID) {
        let video = try Self.video(owner: owner, from: metadata)
        try await catalog.create(video)
        do {
            let upload = try await uploads.create(owner: owner, length: length, metadata: metadata, attachment: video.id.description)
            return (upload, video.id)
        } catch {
            try? await catalog.deleteVideo(video.id)
            throw error
        }
    }

    /// The video a new upload becomes.
    static func video(owner: String, from metadata: [String: String]) throws -> Video {
        let filename = metadata["filename"] ?? ""
        let stem = filename.split(separator: "/").last.map { name -> String in
            guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return String(name) }
            return String(name[..<dot])
        } ?? ""
        let title = (metadata["title"]?.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { $0.isEmpty ? nil : $0 }
            ?? (stem.isEmpty ? "Untitled video" : String(stem.prefix(Video.maximumTitleLength)))
        let tags = (metadata["tags"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var visibility = Visibility.public
        if let text = metadata["visibility"], !text.isEmpty {
            guard let parsed = Visibility(rawValue: text) else {
                throw VideoStackError(.invalidInput, "visibility is one of public, unlisted or private; got '\(text.prefix(40))'.")
            }
            visibility = parsed
        }
        let video = Video(owner: owner, title: title, description: metadata["description"] ?? "", tags: tags, visibility: visibility)
        try video.validate()
        return video
    }

    /// The video if `viewer` (nil when signed out) may see it: public and unlisted videos once
    /// playable, anything to its owner and to admins. Others get nil, as if it did not exist.
    public func video(_ id: VideoID, viewer: AuthenticatedUser?) async throws -> Video? {
        guard let video = try await catalog.video(id), PlaybackAuthorizer.mayView(video, viewer: viewer) else { return nil }
        return video
    }

    /// Changes a video's title, description, tags or visibility, for its owner or an admin.
    ///
    /// - Throws: `notFound` when there is no such video or `user` may not see it, `forbidden`
    ///   when `user` may see it but may not change it; what the catalog's checks throw.
    @discardableResult
    public func updateVideo(_ id: VideoID, _ changes: VideoMetadataChanges, by user: AuthenticatedUser) async throws -> Video {
        let video = try await manageable(id, by: user, action: "change")
        return try await catalog.updateMetadata(video.id, changes)
    }

    /// The longest review comment, in characters.
    public static let maximumReviewCharacters = 5_000

    /// Stores `user`'s review of a video they may see once it is ready; a second review by the
    /// same user replaces the first (the rating totals stay exact).
    ///
    /// - Returns: the stored review and whether it replaced an earlier one.
    /// - Throws: `notFound` when the video does not exist or `user` may not see it, `conflict`
    ///   when it is not ready yet, `invalidInput`/`limitExceeded` for the rating or the comment.
    public func submitReview(of id: VideoID, rating: Int, comment: String, by user: AuthenticatedUser) async throws -> (review: Review, replaced: Bool) {
        guard let video = try await video(id, viewer: user) else { throw VideoStackError(.notFound, "There is no video \(id).") }
        guard video.status == .ready else {
            throw VideoStackError(.conflict, "Video \(id) is \(video.status); reviews open once it is ready.")
        }
        guard comment.count <= Self.maximumReviewCharacters else {
            throw VideoStackError(.limitExceeded, "A review comment may have at most \(Self.maximumReviewCharacters) characters; this one has \(comment.count).")
        }
        let review = try Review(videoID: id, author: user.username, rating: rating, text: comment)
        let replaced = try await catalog.submit(review)
        return (review, replaced)
    }

    /// Counts a view by `viewer` (a username, or a key derived from the client's address) of a
    /// video `user` may see. Returns false when this viewer's view was counted this hour.
    @discardableResult
    public func recordView(of id: VideoID, viewer: String, as user: AuthenticatedUser?) async throws -> Bool {
        guard try await video(id, viewer: user) != nil else { throw VideoStackError(.notFound, "There is no video \(id).") }
        return try await views.record(id, viewer: viewer)
    }

    private func manageable(_ id: VideoID, by user: AuthenticatedUser, action: String) async throws -> Video {
        guard let video = try await catalog.video(id), PlaybackAuthorizer.mayView(video, viewer: user) else {
            throw VideoStackError(.notFound, "There is no video \(id).")
        }
        guard user.mayManage(ownedBy: video.owner) else {
            throw VideoStackError(.forbidden, "Only \(video.owner) or an admin may \(action) video \(id).")
        }
        return video
    }

    /// Deletes a video and everything it left: media and upload in the blob store, view
    /// counters, reviews, the catalog items (the search replica drops it from the change feed);
    /// share links stop resolving because the video is gone.
    ///
    /// - Throws: `notFound` when there is no such video or `user` may not see it, `forbidden`
    ///   when `user` may see it but is neither its owner nor an admin.
    public func deleteVideo(_ id: VideoID, by user: AuthenticatedUser) async throws {
        _ = try await manageable(id, by: user, action: "delete")
        try await catalog.deleteVideo(id)
        for prefix in [PublishSaga.mediaPrefix(of: id), "uploads/\(id)/"] {
            for object in try await blobs.listAll(prefix: prefix) { try await blobs.delete(object.key) }
        }
        try await views.removeCounters(of: id)
        logger.info("video deleted", metadata: ["video": "\(id)", "by": "\(user.username)"])
    }

    /// Searches the catalog as `viewer` may see it: public videos that are ready or live, plus,
    /// for a signed-in viewer, their own videos whatever their state. The query's own
    /// visibility, status and owner conditions are replaced.
    public func searchVideos(_ query: SearchQuery, viewer: AuthenticatedUser?) throws -> SearchResults {
        var query = query
        query.filter.visibilities = [.public]
        query.filter.statuses = [.ready, .live]
        query.filter.ownedBy = viewer?.username
        return try searchIndex.search(query)
    }
}
