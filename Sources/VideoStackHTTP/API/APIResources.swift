internal import Foundation
internal import SearchIndex
internal import VideoCore
internal import VideoPlatform

// The JSON shapes of the API (docs/api-contract: User, Video, Review, Page, tokens). Optional
// fields the contract lists as `T|null` are written as `null`, never left out, so clients can
// tell "absent" from "unknown field".

/// `{"username", "name", "role", "createdAt", "email"?}`.
struct UserResource: Encodable, Sendable {
    var username: String
    var name: String
    var role: String
    var createdAt: Date
    /// Only for the user themself and admins.
    var email: String?

    init(_ user: User, role: Role, showEmail: Bool) {
        username = user.username
        name = user.displayName
        self.role = role.rawValue
        createdAt = user.createdAt
        email = showEmail ? user.email : nil
    }
}

/// What sign-in and refresh answer.
struct SessionResource: Encodable, Sendable {
    var accessToken: String
    var refreshToken: String
    var expiresIn: Int
    var user: UserResource
}

/// `{"average": number|null, "count": int}`.
struct RatingResource: DirectJSONEncodable, Sendable {
    var average: Double?
    var count: Int64

    func writeFields<Fields: JSONFields>(to fields: inout Fields) {
        fields.field("average", average)
        fields.field("count", count)
    }
}

/// The contract's Video object, with media URLs signed for the viewer where needed.
struct VideoResource: Sendable {
    var id: String
    var title: String
    var description: String
    var tags: [String]
    var owner: String
    var status: String
    var failureReason: String?
    var progress: Double
    var step: String?
    var duration: Double?
    var views: Int64
    var rating: RatingResource
    var visibility: String
    var createdAt: Date
    var updatedAt: Date
    var playbackUrl: String?
    var posterUrl: String?
    var storyboardUrl: String?
    /// Watching now; only while live.
    var viewers: Int?

    /// The contract's status names (the catalog's live states are spelled differently).
    static func statusName(_ status: VideoStatus) -> String {
        switch status {
        case .liveScheduled, .live: return "live"
        case .liveEnded: return "ended"
        default: return status.rawValue
        }
    }

    init(_ video: Video, grant: PlaybackGrant?) {
        id = video.id.description
        title = video.title
        description = video.description
        tags = video.tags
        owner = video.owner
        status = Self.statusName(video.status)
        failureReason = video.status == .failed ? video.failureReason : nil
        switch video.status {
        case .ready, .liveEnded: progress = 1
        default: progress = min(1, max(0, video.progress ?? 0))
        }
        switch video.status {
        case .uploading: step = "upload"
        case .processing: step = "transcode"
        default: step = nil
        }
        duration = video.duration.map { $0.secondsValue }
        views = video.views
        rating = RatingResource(average: video.averageRating, count: video.ratingCount)
        visibility = video.visibility.rawValue
        createdAt = video.createdAt
        updatedAt = video.updatedAt
        if video.status == .live { viewers = video.viewers ?? 0 }
        if let media = video.media, let grant {
            let directory = PublishSaga.mediaPrefix(of: video.id)
            playbackUrl = Self.url(of: media.playlist, directory: directory, grant: grant)
            posterUrl = media.poster.flatMap { Self.url(of: $0, directory: directory, grant: grant) }
            storyboardUrl = media.storyboard.flatMap { Self.url(of: $0, directory: directory, grant: grant) }
        }
    }

    /// The media URL of a blob key under the video's directory (`videos/<id>/…`), with the
    /// grant's signature when plain URLs do not play.
    static func url(of key: String, directory: String, grant: PlaybackGrant) -> String? {
        guard key.hasPrefix(directory) else { return nil }
        return grant.appendingQuery(to: grant.pathPrefix + Substring(key.utf8.dropFirst(directory.utf8.count)))
    }
}

extension VideoResource: DirectJSONEncodable {
    /// The contract's field order; optionals are written as `null`, `viewers` only while live.
    func writeFields<Fields: JSONFields>(to json: inout Fields) {
        json.field("id", id)
        json.field("title", title)
        json.field("description", description)
        json.field("tags", tags)
        json.field("owner", owner)
        json.field("status", status)
        json.field("failureReason", failureReason)
        json.field("progress", progress)
        json.field("step", step)
        json.field("duration", duration)
        json.field("views", views)
        json.field("rating", rating)
        json.field("visibility", visibility)
        json.field("createdAt", createdAt)
        json.field("updatedAt", updatedAt)
        json.field("playbackUrl", playbackUrl)
        json.field("posterUrl", posterUrl)
        json.field("storyboardUrl", storyboardUrl)
        if let viewers { json.field("viewers", viewers) }
    }
}

/// `{"videoId", "author", "rating", "comment", "createdAt"}`.
struct ReviewResource: Encodable, Sendable {
    var videoId: String
    var author: String
    var rating: Int
    var comment: String
    var createdAt: Date

    init(_ review: Review) {
        videoId = review.videoID.description
        author = review.author
        rating = review.rating
        comment = review.text
        createdAt = review.createdAt
    }
}

/// `{"items": [...], "nextCursor": string|null}`.
struct PageResource<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }

    private enum CodingKeys: String, CodingKey { case items, nextCursor }
}

/// One search result: the video and the matched spans of its title (`[[start, end]]`, UTF-16
/// offsets, as JavaScript's `String.slice` takes them).
struct SearchItemResource: Encodable, Sendable {
    struct Highlights: Encodable, Sendable {
        var title: [[Int]]?
    }

    var video: VideoResource
    var highlights: Highlights

    static func utf16Ranges(_ text: HighlightedText) -> [[Int]] {
        let utf16 = text.text.utf16
        return text.matches.map { range in
            [utf16.distance(from: utf16.startIndex, to: range.lowerBound), utf16.distance(from: utf16.startIndex, to: range.upperBound)]
        }
    }
}

/// `{"code", "url"}`.
struct ShareResource: Encodable, Sendable {
    var code: String
    var url: String
}

/// `{"counted", "views"}`.
struct ViewResource: Encodable, Sendable {
    var counted: Bool
    var views: Int64
}

/// `{"error": {"code", "message", "requestId"}}`.
struct ErrorResource: Encodable, Sendable {
    struct Body: Encodable, Sendable {
        var code: String
        var message: String
        var requestId: String
    }

    var error: Body
}

// MARK: Request bodies

struct SignUpRequest: Decodable, Sendable {
    var username: String
    var email: String
    var password: String
    var name: String?
}

struct SignInRequest: Decodable, Sendable {
    var email: String
    var password: String
}

struct RefreshRequest: Decodable, Sendable {
    var refreshToken: String
}

struct SignOutRequest: Decodable, Sendable {
    var refreshToken: String?
}

struct UpdateVideoRequest: Decodable, Sendable {
    var title: String?
    var description: String?
    var tags: [String]?
    var visibility: Visibility?
}

struct ReviewRequest: Decodable, Sendable {
    var rating: Int
    var comment: String?
}
