public import Foundation
internal import SingleTableStore
public import VideoCore

/// A short link to a video, and how often it was followed.
public struct ShareLink: Hashable, Sendable {
    /// The code in the link (`/s/<code>`): base62, unguessable.
    public var code: String
    /// The video the link resolves to.
    public var videoID: VideoID
    /// The username of who made the link.
    public var creator: String
    /// Times the link was resolved to a video.
    public var clicks: Int64
    /// When the link was made (whole seconds).
    public var createdAt: Date

    /// A link as stored.
    public init(code: String, videoID: VideoID, creator: String, clicks: Int64, createdAt: Date) {
        self.code = code
        self.videoID = videoID
        self.creator = creator
        self.clicks = clicks
        self.createdAt = createdAt
    }
}

/// Settings of share links.
public struct ShareLinkConfiguration: Sendable, Hashable {
    /// Characters in a new code (at least 8; 10 by default: 59 bits, so guessing one of a
    /// billion links takes hundreds of millions of tries, which the rate limits refuse).
    public var codeLength: Int

    /// Codes of `codeLength` characters (10 by default).
    public init(codeLength: Int = 10) {
        self.codeLength = codeLength
    }
}

/// Share links: short codes from a cryptographic random source that resolve to a video.
///
/// Each link is an item `PK` = `SK` = `SHARE#<code>` with `videoID`, `creator`, `clicks` and
/// `createdAt`, written on the condition that the code is new (a collision, about one in 10^17
/// per link at a million links, draws again). Resolving counts a click with an atomic `ADD`.
/// A link resolves only while its video exists and is not private; a video still processing
/// resolves only for its owner (and admins).
public struct ShareLinks: Sendable {
    /// The characters of codes: digits, then upper and lower case letters.
    public static let alphabet: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    /// Where links and videos are stored.
    public let catalog: Catalog
    /// The settings links are made with.
    public let configuration: ShareLinkConfiguration
    private let now: @Sendable () -> Date

    /// Throws `invalidInput` for codes shorter than 8 or longer than 32 characters.
    public init(catalog: Catalog, configuration: ShareLinkConfiguration = .init(), now: @escaping @Sendable () -> Date = { Date() }) throws {
        guard (8...32).contains(configuration.codeLength) else {
            throw VideoStackError(.invalidInput, "Share codes must be 8 to 32 characters long; got \(configuration.codeLength).")
        }
        self.catalog = catalog
        self.configuration = configuration
        self.now = now
    }

    /// A new random code of `length` base62 characters.
    public static func generateCode(length: Int = 10) -> String {
        SecureRandom.string(length: length, alphabet: alphabet)
    }

    /// Makes a link to a video for `creator`. Anyone signed in may share a video they can see:
    /// a public or unlisted one that is ready, or any video of their own (a link to a private or
    /// unfinished video resolves once the video is visible). Throws `notFound` otherwise, as for
    /// a video that does not exist.
    public func create(for videoID: VideoID, by creator: AuthenticatedUser) async throws -> ShareLink {
        guard let video = try await catalog.video(videoID), PlaybackAuthorizer.mayView(video, viewer: creator) else {
            throw VideoStackError(.notFound, "There is no video \(videoID) to share.")
        }
        let created = now()
        for _ in 0..<4 {
            let link = ShareLink(code: Self.generateCode(length: configuration.codeLength), videoID: videoID, creator: creator.username,
                                 clicks: 0, createdAt: created)
            let item: Item = [
                "PK": .s("SHARE#\(link.code)"), "SK": .s("SHARE#\(link.code)"), "type": "shareLink",
                "code": .s(link.code), "videoID": .s(videoID.description), "creator": .s(link.creator),
                "clicks": .int(0), "createdAt": .int(Int64(created.timeIntervalSince1970)),
            ]
            do {
                try await catalog.store.putItem(item, condition: .notExists("PK"))
                return link
            } catch let error as VideoStackError where error.code == .conditionFailed {
                continue  // the code was taken: draw another
            }
        }
        throw VideoStackError(.internal, "Four random share codes in a row were taken; the random source may be broken.")
    }

    /// The link and its video, counting a click. Throws `invalidInput` for text that is not a
    /// code, and `notFound` when there is no such link or its video was deleted, is private,
    /// or is not ready and `viewer` is not its owner or an admin.
    public func resolve(_ code: String, viewer: AuthenticatedUser? = nil) async throws -> (link: ShareLink, video: Video) {
        guard let link = try await link(code) else { throw VideoStackError(.notFound, "There is no share link '\(code)'.") }
        guard let video = try await catalog.video(link.videoID), Self.resolves(video, for: viewer) else {
            throw VideoStackError(.notFound, "The video of share link '\(code)' is no longer available.")
        }
        do {
            let updated = try await catalog.store.updateItem(key: Self.key(code), actions: [.add("clicks", .int(1))], condition: .exists("PK"), returnValues: .allNew)
            var counted = link
            counted.clicks = updated?["clicks"]?.int64 ?? link.clicks + 1
            return (counted, video)
        } catch let error as VideoStackError where error.code == .conditionFailed {
            throw VideoStackError(.notFound, "There is no share link '\(code)'.")
        }
    }

    /// The link as stored (no click counted), or nil. Throws `invalidInput` for text that is
    /// not a code.
    public func link(_ code: String) async throws -> ShareLink? {
        try Self.checkCode(code)
        guard let item = try await catalog.store.getItem(key: Self.key(code)) else { return nil }
        guard let id = item["videoID"]?.string.flatMap(VideoID.init), let creator = item["creator"]?.string else {
            throw VideoStackError(.corrupt, "The share link item SHARE#\(code) lacks videoID or creator.")
        }
        return ShareLink(code: code, videoID: id, creator: creator, clicks: item["clicks"]?.int64 ?? 0,
                         createdAt: Date(timeIntervalSince1970: Double(item["createdAt"]?.int64 ?? 0)))
    }

    /// Deletes a link; only its creator, the video's owner or an admin may. Throws `notFound`.
    public func delete(_ code: String, by user: AuthenticatedUser) async throws {
        guard let link = try await link(code) else { throw VideoStackError(.notFound, "There is no share link '\(code)'.") }
        let owner = try await catalog.video(link.videoID)?.owner
        guard user.mayManage(ownedBy: link.creator) || owner.map(user.mayManage(ownedBy:)) == true else {
            throw VideoStackError(.forbidden, "Only the link's creator, the video's owner or an admin may delete share link '\(code)'.")
        }
        try await catalog.store.deleteItem(key: Self.key(code))
    }

    /// Whether a link to `video` resolves for `viewer`.
    static func resolves(_ video: Video, for viewer: AuthenticatedUser?) -> Bool {
        guard video.visibility != .private else { return false }
        return video.status.isPlayable || viewer?.mayManage(ownedBy: video.owner) == true
    }

    private static func key(_ code: String) -> Item {
        ["PK": .s("SHARE#\(code)"), "SK": .s("SHARE#\(code)")]
    }

    private static func checkCode(_ code: String) throws {
        guard (8...32).contains(code.utf8.count), code.utf8.allSatisfy({ byte in alphabet.contains { $0.asciiValue == byte } }) else {
            throw VideoStackError(.invalidInput, "'\(code.prefix(40))' is not a share code (8 to 32 letters and digits).")
        }
    }
}
