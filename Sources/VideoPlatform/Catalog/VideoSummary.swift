public import Foundation
public import VideoCore

/// What a user's video list shows: enough to render a card without loading each video.
///
/// The catalog keeps it in step with the video in the same transaction as every change of
/// these fields.
public struct VideoSummary: Hashable, Sendable, Codable {
    public var id: VideoID
    /// Username of the uploader.
    public var owner: String
    public var title: String
    public var status: VideoStatus
    public var visibility: Visibility
    /// How long the video plays, once known; stored as a number of seconds.
    public var duration: Duration?
    public var createdAt: Date

    /// The summary of `video`.
    public init(_ video: Video) {
        id = video.id
        owner = video.owner
        title = video.title
        status = video.status
        visibility = video.visibility
        duration = video.duration
        createdAt = video.createdAt
    }

    private enum CodingKeys: String, CodingKey {
        case id, owner, title, status, visibility, duration, createdAt
    }

    /// Decodes a summary whose `duration` is a number of seconds.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(VideoID.self, forKey: .id)
        owner = try container.decode(String.self, forKey: .owner)
        title = try container.decode(String.self, forKey: .title)
        status = try container.decode(VideoStatus.self, forKey: .status)
        visibility = try container.decode(Visibility.self, forKey: .visibility)
        duration = try container.decodeSecondsIfPresent(forKey: .duration)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
    }

    /// Encodes the summary with `duration` as a number of seconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(owner, forKey: .owner)
        try container.encode(title, forKey: .title)
        try container.encode(status, forKey: .status)
        try container.encode(visibility, forKey: .visibility)
        try container.encodeSecondsIfPresent(duration, forKey: .duration)
        try container.encode(createdAt, forKey: .createdAt)
    }
}
