public import SearchIndex
public import VideoCore

extension SearchDocument {
    /// The searchable view of a catalog video; its id's text is the document id.
    public init(video: Video) {
        self.init(
            id: video.id.description, title: video.title, description: video.description, tags: video.tags,
            uploader: video.owner, duration: video.duration ?? .zero, uploadedAt: video.createdAt,
            views: video.views, ratingSum: video.ratingSum, ratingCount: video.ratingCount,
            visibility: video.visibility, status: video.status)
    }
}
