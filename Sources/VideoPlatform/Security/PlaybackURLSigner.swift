public import Foundation
internal import VideoCore

/// Settings of signed playback URLs.
public struct PlaybackSigningConfiguration: Sendable {
    /// The key of the signatures (32 bytes or more). Nil: one is generated on first start and
    /// kept in the data directory (`playback.key`, mode 0600). Kept apart from the access-token
    /// key, so a CDN edge that checks playback URLs cannot mint sessions.
    public var key: [UInt8]?
    /// Keys that signed URLs before the current one and are still accepted.
    public var previousKeys: [[UInt8]]
    /// How long a URL handed to a viewer stays valid (4 hours: a long film with pauses).
    public var lifetime: Duration
    /// The longest lifetime a signature may be given (7 days, as CloudFront's key pairs allow).
    public var maximumLifetime: Duration
    /// Where media is served: a video's files are under `<mediaPathPrefix><id>/`.
    public var mediaPathPrefix: String

    /// A key kept in the data directory, 4-hour grants, media under `/media/videos/`.
    public init(key: [UInt8]? = nil, previousKeys: [[UInt8]] = [], lifetime: Duration = .seconds(4 * 3600),
                maximumLifetime: Duration = .seconds(7 * 86_400), mediaPathPrefix: String = "/media/videos/") {
        self.key = key
        self.previousKeys = previousKeys
        self.lifetime = lifetime
        self.maximumLifetime = maximumLifetime
        self.mediaPathPrefix = mediaPathPrefix
    }
}

/// Signs and checks playback URLs, as CloudFront's signed URLs with a custom policy do: the
/// signature covers a path prefix and an expiry, so one signature serves a video's master
/// playlist, its media playlists and every segment.
///
/// The query items are `prefix` (the path prefix covered), `expires` (Unix seconds), `kid`
/// (the key's id) and `signature`: base64url HMAC-SHA256 over
/// `videostack.playback.v1\n<prefix>\n<expires>`. Verification compares in constant time and
/// refuses paths with empty, `.` or `..` segments, backslashes and `%` (the path must be the
/// decoded one), so `/media/videos/a/../b/` cannot borrow a's signature.
public struct PlaybackURLSigner: Sendable {
    /// The name of the key file made in the data directory when the configuration has no key.
    public static let keyFileName = "playback.key"
    private let keys: SigningKeyring
    private let maximumLifetime: Duration
    private let now: @Sendable () -> Date

    /// A signer with `key`, also accepting signatures made with `previousKeys`.
    public init(key: SigningKey, previousKeys: [SigningKey] = [], maximumLifetime: Duration = .seconds(7 * 86_400),
                now: @escaping @Sendable () -> Date = { Date() }) {
        keys = SigningKeyring(current: key, previous: previousKeys)
        self.maximumLifetime = maximumLifetime
        self.now = now
    }

    /// The signer the configuration describes: its key, or the one kept in `dataDirectory`.
    public init(configuration: PlaybackSigningConfiguration, dataDirectory: URL, now: @escaping @Sendable () -> Date = { Date() }) throws {
        let key = try configuration.key.map { try SigningKey(bytes: $0) } ?? SigningKey.loadOrCreate(named: Self.keyFileName, in: dataDirectory)
        self.init(key: key, previousKeys: try configuration.previousKeys.map { try SigningKey(bytes: $0) },
                  maximumLifetime: configuration.maximumLifetime, now: now)
    }

    /// The query items that make any path under `pathPrefix` playable until `expires`.
    ///
    /// `pathPrefix` must be an absolute path ending in `/` (a directory, so `/videos/ab/` does
    /// not also cover `/videos/abc/`) without `.`/`..` segments. Throws `invalidInput` for a bad
    /// prefix or an expiry in the past or beyond the maximum lifetime.
    public func sign(pathPrefix: String, expires: Date) throws -> [URLQueryItem] {
        try Self.checkPath(pathPrefix, isPrefix: true)
        let seconds = Int64(expires.timeIntervalSince1970.rounded(.down))
        let now = now().timeIntervalSince1970
        guard Double(seconds) > now else {
            throw VideoStackError(.invalidInput, "A playback URL must expire in the future; \(expires) has passed.")
        }
        guard Double(seconds) - now <= maximumLifetime.intervalInSeconds else {
            throw VideoStackError(.invalidInput, "A playback URL may be valid for at most \(Int(maximumLifetime.intervalInSeconds)) seconds.")
        }
        let signature = keys.current.authenticationCode(for: Self.message(prefix: pathPrefix, expires: seconds))
        return [
            URLQueryItem(name: "prefix", value: pathPrefix),
            URLQueryItem(name: "expires", value: String(seconds)),
            URLQueryItem(name: "kid", value: keys.current.id),
            URLQueryItem(name: "signature", value: Base64Text.encode(signature, urlSafe: true)),
        ]
    }

    /// Whether `query` signs `path` (the request's decoded path) now; throws `forbidden` saying
    /// what was wrong: missing or repeated items, another path, expired, unknown key, bad signature.
    public func verify(path: String, query: [URLQueryItem]) throws {
        func refuse(_ why: String) -> VideoStackError {
            VideoStackError(.forbidden, "The playback URL is not valid: \(why). Ask for a new one.")
        }
        func single(_ name: String) throws -> String {
            let values = query.filter { $0.name == name }
            guard values.count == 1, let value = values[0].value, value.utf8.count <= 2048 else {
                throw refuse(values.isEmpty ? "it is not signed (no '\(name)')" : "'\(name)' is given \(values.count) times or is too long")
            }
            return value
        }
        let prefix = try single("prefix"), expiresText = try single("expires"), kid = try single("kid"), signatureText = try single("signature")
        do {
            try Self.checkPath(prefix, isPrefix: true)
            try Self.checkPath(path, isPrefix: false)
        } catch let error as VideoStackError {
            throw refuse(error.message)
        }
        guard path.hasPrefix(prefix) else { throw refuse("it was signed for other files") }
        guard expiresText.utf8.count <= 12, expiresText.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let expires = Int64(expiresText) else {
            throw refuse("'expires' is not a time")
        }
        guard let key = keys.key(id: kid) else { throw refuse("it was signed with a key this server does not know") }
        guard let signature = Base64Text.decode(signatureText, urlSafe: true), key.isValid(signature, for: Self.message(prefix: prefix, expires: expires)) else {
            throw refuse("the signature does not match")
        }
        guard Double(expires) > now().timeIntervalSince1970 else { throw refuse("it has expired") }
    }

    private static func message(prefix: String, expires: Int64) -> [UInt8] {
        Array("videostack.playback.v1\n\(prefix)\n\(expires)".utf8)
    }

    /// An absolute path with no empty, `.` or `..` segment and no control characters, at most
    /// 2,048 bytes; a prefix also ends in `/`.
    static func checkPath(_ path: String, isPrefix: Bool) throws {
        guard path.utf8.count <= 2048, path.hasPrefix("/") else {
            throw VideoStackError(.invalidInput, "A media path must start with '/' and have at most 2,048 bytes.")
        }
        guard !isPrefix || path.hasSuffix("/") else {
            throw VideoStackError(.invalidInput, "A signed path prefix must end in '/' (a directory).")
        }
        // `%` too: the path is the decoded one, and a `%2e%2e` left in it would mean someone
        // downstream decodes twice.
        guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" || $0 == "%" }) else {
            throw VideoStackError(.invalidInput, "A media path may not contain control characters, backslashes or '%' (pass the decoded path).")
        }
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if isPrefix || path.hasSuffix("/") { segments = segments.dropLast() }
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw VideoStackError(.invalidInput, "A media path may not contain empty, '.' or '..' segments.")
        }
    }
}
