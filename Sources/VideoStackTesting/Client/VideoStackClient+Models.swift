public import Foundation

extension VideoStackClient {
    /// A user as the API shows it (`GET /me`, sign-up, sign-in).
    public struct User: Codable, Sendable, Hashable {
        public var username: String
        /// The display name.
        public var name: String
        /// `"member"` or `"admin"`.
        public var role: String
        public var createdAt: Date
        /// Present when the viewer is this user or an admin.
        public var email: String?
    }

    /// What sign-in and refresh return; the client keeps the tokens and sends the access token.
    public struct Session: Codable, Sendable, Hashable {
        public var accessToken: String
        public var refreshToken: String
        /// Seconds until the access token expires.
        public var expiresIn: Double
        public var user: User
    }

    /// A video's rating: the average of its reviews (nil with none) and how many there are.
    public struct Rating: Codable, Sendable, Hashable {
        public var average: Double?
        public var count: Int

        public init(average: Double?, count: Int) {
            self.average = average
            self.count = count
        }
    }

    /// A video as the API shows it (`GET /videos/{id}` and every list).
    public struct Video: Codable, Sendable, Hashable {
        public var id: String
        public var title: String
        public var description: String
        public var tags: [String]
        /// The owner's username.
        public var owner: String
        /// `uploading`, `processing`, `ready`, `failed`, `live` or `ended`.
        public var status: String
        public var failureReason: String?
        /// Fraction (0...1) of the current job done.
        public var progress: Double
        /// The current step of the job, when the server says.
        public var step: String?
        /// Seconds, once known.
        public var duration: Double?
        public var views: Int
        public var rating: Rating
        /// `public`, `unlisted` or `private`.
        public var visibility: String
        public var createdAt: Date
        public var updatedAt: Date
        /// The master playlist's absolute path (signed for unlisted and private videos) once watchable.
        public var playbackUrl: String?
        public var posterUrl: String?
        public var storyboardUrl: String?
        /// Viewers right now, while live.
        public var viewers: Int?

        /// Whether a player can start: there is a playback URL (ready, or processing with an EVENT playlist).
        public var isPlayable: Bool { playbackUrl != nil }
    }

    /// A review of a video.
    public struct Review: Codable, Sendable, Hashable {
        public var videoId: String
        /// The author's username.
        public var author: String
        /// 1 to 5.
        public var rating: Int
        public var comment: String
        public var createdAt: Date
    }

    /// One page of a list; pass ``nextCursor`` back for the next page (nil at the end).
    public struct Page<Item: Codable & Sendable & Hashable>: Codable, Sendable, Hashable {
        public var items: [Item]
        public var nextCursor: String?
    }

    /// One search result: the video, and where the query matched its title.
    public struct SearchHit: Codable, Sendable, Hashable {
        public var video: Video
        public var highlights: Highlights?
    }

    /// Where a query matched. The title is kept as the server sent it: either marked-up text
    /// (``title``) or UTF-16 ranges (``titleRanges``), whichever the server's version sends.
    public struct Highlights: Codable, Sendable, Hashable {
        /// The title with the matches marked, when the server sends text.
        public var title: String?
        /// `[start, end)` UTF-16 offsets of the matches in the title, when the server sends ranges.
        public var titleRanges: [[Int]]?

        private enum CodingKeys: String, CodingKey { case title }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let text = try? container.decodeIfPresent(String.self, forKey: .title) {
                title = text
            } else {
                titleRanges = try container.decodeIfPresent([[Int]].self, forKey: .title)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let title { try container.encode(title, forKey: .title) } else { try container.encodeIfPresent(titleRanges, forKey: .title) }
        }
    }

    /// A page of search results.
    public struct SearchPage: Codable, Sendable, Hashable {
        public var items: [SearchHit]
        public var nextCursor: String?
        /// How many videos match in all, when the server counts them.
        public var total: Int?
    }

    /// A share link: the code and the absolute URL to hand out.
    /// `POST /live`'s answer: the live video and where an encoder publishes it.
    public struct LiveStream: Codable, Sendable, Hashable {
        /// The live video's id.
        public var videoId: String
        /// The secret part of the publish URL (OBS's "Stream Key").
        public var streamKey: String
        /// The RTMP server, `rtmp://HOST:PORT/live` (OBS's "Server").
        public var ingestUrl: String
        /// `rtmp://HOST:PORT/live/STREAM_KEY`, for ffmpeg (`-f flv URL`).
        public var publishUrl: String { ingestUrl + "/" + streamKey }
    }

    /// `POST /live/{videoId}/key`'s answer: the new key (the old one no longer publishes).
    public struct LiveKey: Codable, Sendable, Hashable {
        /// The new secret part of the publish URL.
        public var streamKey: String
        /// The RTMP server, `rtmp://HOST:PORT/live` (unchanged by a rotation).
        public var ingestUrl: String
    }

    public struct ShareLink: Codable, Sendable, Hashable {
        public var code: String
        public var url: String
    }

    /// The answer to recording a view.
    public struct ViewCount: Codable, Sendable, Hashable {
        /// Whether this view was counted (a repeat from the same viewer within the window is not).
        public var counted: Bool
        /// The video's views so far.
        public var views: Int
    }

    /// A tus upload the server created: where to send the bytes, and the video it becomes.
    public struct Upload: Sendable, Hashable {
        /// The upload's absolute URL (the `Location` of the creation response, resolved).
        public var url: URL
        /// The new video's id (`Video-Id`).
        public var videoID: String
        /// Bytes the server has (non-zero after creation-with-upload).
        public var offset: Int64
    }

    /// Changes to a video's metadata (`PATCH /videos/{id}`); nil fields stay as they are.
    public struct VideoChanges: Codable, Sendable, Hashable {
        public var title: String?
        public var description: String?
        public var tags: [String]?
        public var visibility: String?

        public init(title: String? = nil, description: String? = nil, tags: [String]? = nil, visibility: String? = nil) {
            self.title = title
            self.description = description
            self.tags = tags
            self.visibility = visibility
        }
    }

    /// The order of search results.
    public struct SearchSort: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public static let relevance = SearchSort(rawValue: "relevance")
        public static let newest = SearchSort(rawValue: "newest")
        public static let views = SearchSort(rawValue: "views")
        public static let rating = SearchSort(rawValue: "rating")
        public var description: String { rawValue }
    }

    /// Filters for ``VideoStackClient/search(_:sort:limit:cursor:filters:)``.
    public struct SearchFilters: Sendable, Hashable {
        /// Only this uploader's videos.
        public var uploader: String?
        /// Seconds.
        public var minDuration: Double?
        /// Seconds.
        public var maxDuration: Double?
        /// Created after this time.
        public var after: Date?
        /// Created before this time.
        public var before: Date?

        public init(uploader: String? = nil, minDuration: Double? = nil, maxDuration: Double? = nil, after: Date? = nil, before: Date? = nil) {
            self.uploader = uploader
            self.minDuration = minDuration
            self.maxDuration = maxDuration
            self.after = after
            self.before = before
        }
    }
}
