internal import Crypto
internal import VideoCore

/// A refresh token: `<payload>.<mac>`, both base64url.
///
/// The payload is a version byte, the 16-byte session family, the generation (8 bytes, big
/// endian), a 32-byte random secret and the username. The MAC is HMAC-SHA256 over a label and
/// the payload with the access-token key, so the server knows a token it issued from a forged
/// one without a store read. The store keeps only the SHA-256 of the newest secret: a copy of
/// the database does not give anyone a usable token.
///
/// The MAC is what makes theft detection safe: a token with a valid MAC but an older generation
/// was really issued and already rotated, so someone replayed it and the family is revoked,
/// while a forged token (which anyone could send for any family they have seen) only fails.
struct RefreshToken: Sendable {
    static let version: UInt8 = 1
    static let familyLength = 16
    static let secretLength = 32
    private static let label = Array("videostack.refresh-token.v1\u{0}".utf8)

    var username: String
    /// The family as raw bytes; ``familyID`` is its text form, used in keys and access tokens.
    var family: [UInt8]
    var generation: Int64
    var secret: [UInt8]

    var familyID: String { Base64Text.encode(family, urlSafe: true) }
    var secretHash: [UInt8] { Array(SHA256.hash(data: secret)) }

    init(username: String, family: [UInt8], generation: Int64, secret: [UInt8]) {
        self.username = username
        self.family = family
        self.generation = generation
        self.secret = secret
    }

    /// A new token of a new generation with a fresh secret.
    func next() -> RefreshToken {
        RefreshToken(username: username, family: family, generation: generation + 1, secret: SecureRandom.bytes(Self.secretLength))
    }

    private var payload: [UInt8] {
        var bytes = [Self.version] + family
        withUnsafeBytes(of: UInt64(bitPattern: generation).bigEndian) { bytes += $0 }
        return bytes + secret + Array(username.utf8)
    }

    func encoded(with key: SigningKey) -> String {
        let payload = payload
        return Base64Text.encode(payload, urlSafe: true) + "." + Base64Text.encode(key.authenticationCode(for: Self.label + payload), urlSafe: true)
    }

    /// Parses a token and checks its MAC against every trusted key; anything wrong throws
    /// `unauthenticated`, the same for every kind of damage.
    init(parsing text: String, keys: SigningKeyring) throws {
        let refused = VideoStackError(.unauthenticated, "The refresh token is not valid; sign in again.")
        guard text.utf8.count <= 512 else { throw refused }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Base64Text.decode(parts[0], urlSafe: true), let mac = Base64Text.decode(parts[1], urlSafe: true) else {
            throw refused
        }
        let fixed = 1 + Self.familyLength + 8 + Self.secretLength
        guard payload.count > fixed, payload[0] == Self.version else { throw refused }
        // Trying every trusted key costs one HMAC each: a ring holds two or three.
        guard keys.all.contains(where: { $0.isValid(mac, for: Self.label + payload) }) else { throw refused }
        family = Array(payload[1..<(1 + Self.familyLength)])
        generation = Int64(bitPattern: payload[(1 + Self.familyLength)..<(1 + Self.familyLength + 8)].reduce(0) { $0 << 8 | UInt64($1) })
        secret = Array(payload[(fixed - Self.secretLength)..<fixed])
        guard let name = String(validating: payload[fixed...], as: UTF8.self), (try? User.normalizedUsername(name)) == name else { throw refused }
        username = name
    }
}
