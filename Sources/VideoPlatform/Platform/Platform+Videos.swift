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

    /// Deletes a video and everything it left: media and upload in the blob store, view
    /// counters, reviews, the catalog items (the search replica drops it from the change feed);
    /// share links stop resolving because the video is gone.
    ///
    /// - Throws: `notFound` when there is no such video or `user` may not see it, `forbidden`
    ///   when `user` may see it but is neither its owner nor an admin.
    public func deleteVideo(_ id: VideoID, by user: AuthenticatedUser) async throws {
        guard let video = try await catalog.video(id), PlaybackAuthorizer.mayView(video, viewer: user) else {
            throw VideoStackError(.notFound, "There is no video \(id).")
        }
        guard user.mayManage(ownedBy: video.owner) else {
            throw VideoStackError(.forbidden, "Only \(video.owner) or an admin may delete video \(id).")
        }
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
