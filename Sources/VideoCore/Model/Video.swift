public import Foundation

/// Where a video is in its life.
///
/// On demand: `uploading → processing → ready | failed`. Live: `scheduled → live → ended`, and an
/// ended live stream can be `processing` again while its recording is turned into a VOD.
public struct VideoStatus: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    private init(_ rawValue: String) { self.rawValue = rawValue }

    public static let uploading = VideoStatus("uploading")
    public static let processing = VideoStatus("processing")
    public static let ready = VideoStatus("ready")
    public static let failed = VideoStatus("failed")
    public static let liveScheduled = VideoStatus("liveScheduled")
    public static let live = VideoStatus("live")
    public static let liveEnded = VideoStatus("liveEnded")

    public static let allCases: [VideoStatus] = [.uploading, .processing, .ready, .failed, .liveScheduled, .live, .liveEnded]

    /// Parses a stored status; unknown text throws ``VideoStackError/Code/corrupt``.
    public init(parsing text: String) throws {
        guard let known = VideoStatus.allCases.first(where: { $0.rawValue == text }) else {
            throw VideoStackError(.corrupt, "'\(text.prefix(40))' is not a video status (expected one of \(VideoStatus.allCases.map(\.rawValue).joined(separator: ", "))).")
        }
        self = known
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    /// Whether a video in this status may move to `next`. Services use it to refuse illegal
    /// transitions (a `ready` video cannot go back to `uploading`).
    public func canTransition(to next: VideoStatus) -> Bool {
        switch self {
        case .uploading: return next == .processing || next == .failed
        case .processing: return next == .ready || next == .failed
        case .failed: return next == .processing  // a retry
        case .ready: return false
        case .liveScheduled: return next == .live || next == .liveEnded
        case .live: return next == .liveEnded
        case .liveEnded: return next == .processing || next == .ready
        default: return false
        }
    }

    /// Whether viewers can play the video now.
    public var isPlayable: Bool { self == .ready || self == .live }
}

/// Who may see a video.
public enum Visibility: String, Hashable, Sendable, Codable, CaseIterable {
    /// Listed in search and on the uploader's page.
    case `public`
    /// Playable by anyone with the link or a share token, not listed.
    case unlisted
    /// Only the uploader.
    case `private`
}

/// A video in the catalog: its metadata, its status and, once ready, its renditions.
///
/// Stored (and encoded by `Codable`) with ``duration`` as a number of seconds.
public struct Video: Hashable, Sendable, Codable, Identifiable {
    public var id: VideoID
    /// Username of the uploader.
    public var owner: String
    public var title: String
    public var description: String
    public var tags: [String]
    public var status: VideoStatus
    public var visibility: Visibility
    /// Why processing failed, when `status == .failed`.
    public var failureReason: String?
    /// How long the video plays, known once probed.
    public var duration: Duration?
    /// How much of the processing is done, from 0 to 1, while `status == .processing`.
    public var progress: Double?
    /// The encoded renditions, known once ready.
    public var renditions: [Rendition]
    /// Where the video's media is in the blob store: the playlist appears while it processes
    /// (as soon as every rung has its first segment), the poster and storyboard once it is ready.
    public var media: VideoMedia?
    public var views: Int64
    /// Sum of all review ratings (1–5 each); the average is `ratingSum / ratingCount`.
    public var ratingSum: Int64
    public var ratingCount: Int64
    public var createdAt: Date
    public var updatedAt: Date
    /// How many are watching now, while the video is live: the count of the node that ingests
    /// the stream, written to the catalog every few seconds (nil for other videos).
    public var viewers: Int?

    public init(
        id: VideoID = VideoID(), owner: String, title: String, description: String = "", tags: [String] = [],
        status: VideoStatus = .uploading, visibility: Visibility = .public, failureReason: String? = nil,
        duration: Duration? = nil, progress: Double? = nil, renditions: [Rendition] = [], media: VideoMedia? = nil, views: Int64 = 0, ratingSum: Int64 = 0,
        ratingCount: Int64 = 0, createdAt: Date? = nil, updatedAt: Date? = nil
    ) {
        self.id = id
        self.owner = owner
        self.title = title
        self.description = description
        self.tags = tags
        self.status = status
        self.visibility = visibility
        self.failureReason = failureReason
        self.duration = duration
        self.progress = progress
        self.renditions = renditions
        self.media = media
        self.views = views
        self.ratingSum = ratingSum
        self.ratingCount = ratingCount
        self.createdAt = createdAt ?? id.raw.date
        self.updatedAt = updatedAt ?? self.createdAt
    }

    /// Mean rating from 1 to 5, or nil before the first review.
    public var averageRating: Double? {
        ratingCount > 0 ? Double(ratingSum) / Double(ratingCount) : nil
    }

    private enum CodingKeys: String, CodingKey {
        case id, owner, title, description, tags, status, visibility, failureReason, duration, progress, renditions, media
        case views, ratingSum, ratingCount, createdAt, updatedAt, viewers
    }

    /// Decodes a video whose `duration` is a number of seconds; a number that is no span
    /// (negative, over a trillion seconds, not finite) is `dataCorrupted`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(VideoID.self, forKey: .id)
        owner = try container.decode(String.self, forKey: .owner)
        title = try container.decode(String.self, forKey: .title)
        description = try container.decode(String.self, forKey: .description)
        tags = try container.decode([String].self, forKey: .tags)
        status = try container.decode(VideoStatus.self, forKey: .status)
        visibility = try container.decode(Visibility.self, forKey: .visibility)
        failureReason = try container.decodeIfPresent(String.self, forKey: .failureReason)
        duration = try container.decodeSecondsIfPresent(forKey: .duration)
        progress = try container.decodeIfPresent(Double.self, forKey: .progress)
        renditions = try container.decode([Rendition].self, forKey: .renditions)
        media = try container.decodeIfPresent(VideoMedia.self, forKey: .media)
        views = try container.decode(Int64.self, forKey: .views)
        ratingSum = try container.decode(Int64.self, forKey: .ratingSum)
        ratingCount = try container.decode(Int64.self, forKey: .ratingCount)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        updatedAt = try container.decode(Date.self, forKey: .updatedAt)
        viewers = try container.decodeIfPresent(Int.self, forKey: .viewers)
    }

    /// Encodes the video with `duration` as a number of seconds.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(owner, forKey: .owner)
        try container.encode(title, forKey: .title)
        try container.encode(description, forKey: .description)
        try container.encode(tags, forKey: .tags)
        try container.encode(status, forKey: .status)
        try container.encode(visibility, forKey: .visibility)
        try container.encodeIfPresent(failureReason, forKey: .failureReason)
        try container.encodeSecondsIfPresent(duration, forKey: .duration)
        try container.encodeIfPresent(progress, forKey: .progress)
        try container.encode(renditions, forKey: .renditions)
        try container.encodeIfPresent(media, forKey: .media)
        try container.encode(views, forKey: .views)
        try container.encode(ratingSum, forKey: .ratingSum)
        try container.encode(ratingCount, forKey: .ratingCount)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(viewers, forKey: .viewers)
    }
}

/// The blob keys of a video's media.
public struct VideoMedia: Hashable, Sendable, Codable {
    /// The HLS master playlist (`master.m3u8`): an EVENT playlist while the video processes, VOD once ready.
    public var playlist: String
    /// The poster picture (JPEG).
    public var poster: String?
    /// The storyboard's WebVTT file, whose cues name tiles of its sprite pictures (`#xywh=`).
    public var storyboard: String?

    public init(playlist: String, poster: String? = nil, storyboard: String? = nil) {
        self.playlist = playlist
        self.poster = poster
        self.storyboard = storyboard
    }

    /// The directory all of these live under (the master playlist's), with a trailing slash.
    public var directory: String {
        guard let slash = playlist.lastIndex(of: "/") else { return "" }
        return String(playlist[...slash])
    }
}

/// A viewer's review of a video: a rating from 1 to 5 and optional text.
public struct Review: Hashable, Sendable, Codable, Identifiable {
    public var id: ReviewID
    public var videoID: VideoID
    /// Username of the reviewer.
    public var author: String
    /// 1 to 5.
    public var rating: Int
    public var text: String
    public var createdAt: Date

    /// Throws what ``validate()`` throws.
    public init(id: ReviewID = ReviewID(), videoID: VideoID, author: String, rating: Int, text: String = "", createdAt: Date? = nil) throws {
        self.id = id
        self.videoID = videoID
        self.author = author
        self.rating = rating
        self.text = text
        self.createdAt = createdAt ?? id.raw.date
        try validate()
    }
}

// MARK: Limits on what users type

extension Video {
    /// The longest title, in characters (YouTube's limit, so titles move between the two).
    public static let maximumTitleLength = 100
    /// The longest description, in UTF-8 bytes (YouTube's limit).
    public static let maximumDescriptionBytes = 5_000
    /// The most characters all tags may have together (YouTube's limit), and the most tags.
    public static let maximumTagCharacters = 500
    public static let maximumTags = 50

    /// The longest failure reason, in UTF-8 bytes: enough for an error message and its context.
    public static let maximumFailureReasonBytes = 2_000

    /// Checks the fields a user types, the owner's name and the processing fields; throws
    /// `invalidInput` or `limitExceeded` naming the field and what was wrong with it.
    public func validate() throws {
        try Self.check(owner: owner)
        try Self.check(title: title)
        try Self.check(description: description)
        try Self.check(tags: tags)
        if let duration { try Self.check(duration: duration) }
        if let progress { try Self.check(progress: progress) }
        if let failureReason { try Self.check(failureReason: failureReason) }
    }

    /// The owner must be a username as registration normalizes it.
    package static func check(owner: String) throws {
        guard (try? User.normalizedUsername(owner)) == owner else {
            throw VideoStackError(.invalidInput, "The owner '\(owner.prefix(40))' is not a username (3 to 32 of a-z, 0-9, '_', '-', '.').")
        }
    }

    package static func check(title: String) throws {
        let trimmed = title.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw VideoStackError(.invalidInput, "A video needs a title.")
        }
        guard title.count <= Self.maximumTitleLength else {
            throw VideoStackError(.limitExceeded, "A title may have at most \(Self.maximumTitleLength) characters; this one has \(title.count).")
        }
        guard !title.unicodeScalars.contains(where: Self.isControl) else {
            throw VideoStackError(.invalidInput, "A title may not contain control characters or line breaks.")
        }
    }

    package static func check(description: String) throws {
        guard description.utf8.count <= Self.maximumDescriptionBytes else {
            throw VideoStackError(.limitExceeded, "A description may have at most \(Self.maximumDescriptionBytes) bytes; this one has \(description.utf8.count).")
        }
        guard !description.unicodeScalars.contains(where: { Self.isControl($0) && $0 != "\n" && $0 != "\t" }) else {
            throw VideoStackError(.invalidInput, "A description may contain line breaks and tabs but no other control characters.")
        }
    }

    package static func check(tags: [String]) throws {
        let tagCharacters = tags.reduce(0) { $0 + $1.count }
        guard tags.count <= Self.maximumTags, tagCharacters <= Self.maximumTagCharacters else {
            throw VideoStackError(.limitExceeded, "At most \(Self.maximumTags) tags of \(Self.maximumTagCharacters) characters in all; got \(tags.count) tags of \(tagCharacters).")
        }
        guard tags.allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.unicodeScalars.contains(where: Self.isControl) }) else {
            throw VideoStackError(.invalidInput, "Tags must not be empty or contain control characters.")
        }
    }

    package static func check(duration: Duration) throws {
        guard duration >= .zero, duration <= Duration.maximumStoredSeconds else {
            throw VideoStackError(.invalidInput, "A duration must be from 0 to \(Duration.maximumStoredSeconds); got \(duration).")
        }
    }

    package static func check(progress: Double) throws {
        guard progress.isFinite, (0...1).contains(progress) else {
            throw VideoStackError(.invalidInput, "Progress is a fraction from 0 to 1; got \(progress).")
        }
    }

    package static func check(failureReason: String) throws {
        guard !failureReason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw VideoStackError(.invalidInput, "A failed video needs a reason that says what went wrong.")
        }
        guard failureReason.utf8.count <= Self.maximumFailureReasonBytes else {
            throw VideoStackError(.limitExceeded, "A failure reason may have at most \(Self.maximumFailureReasonBytes) bytes; this one has \(failureReason.utf8.count).")
        }
        guard !failureReason.unicodeScalars.contains(where: { Self.isControl($0) && $0 != "\n" && $0 != "\t" }) else {
            throw VideoStackError(.invalidInput, "A failure reason may contain line breaks and tabs but no other control characters.")
        }
    }

    /// C0 and C1 control characters (a line break among them).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}

extension Review {
    /// Checks the rating, the text and the author's name (the fields are mutable after `init`).
    public func validate() throws {
        guard (1...5).contains(rating) else {
            throw VideoStackError(.invalidInput, "A rating must be from 1 to 5; got \(rating).")
        }
        guard text.utf8.count <= 10_000 else {
            throw VideoStackError(.limitExceeded, "A review's text may be at most 10,000 bytes; got \(text.utf8.count).")
        }
        guard (try? User.normalizedUsername(author)) == author else {
            throw VideoStackError(.invalidInput, "The author '\(author.prefix(40))' is not a username.")
        }
    }
}
