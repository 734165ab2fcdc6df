public import Foundation
internal import VideoCore

/// What a signed access token says: who, with which role, in which session, until when.
public struct AccessTokenClaims: Sendable, Hashable {
    /// The username (`sub`).
    public var subject: String
    /// The role when the token was issued (`role`). The accounts service checks the stored role
    /// on every request, so a demotion takes effect at once.
    public var role: Role
    /// The session family the token belongs to (`sid`); signing out ends it.
    public var sessionFamily: String
    /// The account's token epoch when issued (`epoch`); signing out everywhere raises it.
    public var epoch: Int64
    /// When the token was issued (`iat`, whole seconds).
    public var issuedAt: Date
    /// When it stops being accepted (`exp`, whole seconds).
    public var expiresAt: Date

    /// Claims to sign; times are truncated to whole seconds in the token.
    public init(subject: String, role: Role, sessionFamily: String, epoch: Int64, issuedAt: Date, expiresAt: Date) {
        self.subject = subject
        self.role = role
        self.sessionFamily = sessionFamily
        self.epoch = epoch
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// Signs and verifies access tokens: JSON Web Tokens (RFC 7519) with HS256, so any JWT library
/// holding the key can read them.
///
/// `header.payload.signature`, each base64url. The header is `{"alg":"HS256","kid":…,"typ":"JWT"}`;
/// the payload holds `sub`, `role`, `sid`, `epoch`, `iat`, `nbf` and `exp`. Verification takes
/// only HS256 (`alg: none`, RS256 and the rest are refused before anything else is trusted),
/// looks the key up by `kid`, compares the signature in constant time, and then checks the
/// times against the injected clock with a small leeway for clocks that disagree.
///
/// This checks the token alone. Whether its session was ended since is for
/// ``Accounts/authenticate(accessToken:)``, which adds one store read.
public struct AccessTokenSigner: Sendable {
    /// Longest token accepted, in bytes: real ones are about 300.
    static let maximumLength = 4096
    private let keys: SigningKeyring
    /// How long new tokens last.
    public let lifetime: Duration
    /// Clock difference tolerated on `iat`/`nbf`/`exp`.
    public let leeway: Duration
    private let now: @Sendable () -> Date

    /// Signs with `key`; also accepts tokens signed with `previousKeys` (for rotation).
    public init(key: SigningKey, previousKeys: [SigningKey] = [], lifetime: Duration = .seconds(15 * 60), leeway: Duration = .seconds(30),
                now: @escaping @Sendable () -> Date = { Date() }) {
        keys = SigningKeyring(current: key, previous: previousKeys)
        self.lifetime = lifetime
        self.leeway = leeway
        self.now = now
    }

    /// Claims for a token issued now.
    func claims(subject: String, role: Role, sessionFamily: String, epoch: Int64) -> AccessTokenClaims {
        let issued = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))
        return AccessTokenClaims(subject: subject, role: role, sessionFamily: sessionFamily, epoch: epoch,
                                 issuedAt: issued, expiresAt: issued.addingTimeInterval(lifetime.intervalInSeconds))
    }

    /// The compact JWT for `claims`, signed with the current key.
    public func sign(_ claims: AccessTokenClaims) -> String {
        let header = #"{"alg":"HS256","kid":"\#(keys.current.id)","typ":"JWT"}"#
        let payload = Payload(sub: claims.subject, role: claims.role.rawValue, sid: claims.sessionFamily, epoch: claims.epoch,
                              iat: Int64(claims.issuedAt.timeIntervalSince1970), nbf: Int64(claims.issuedAt.timeIntervalSince1970),
                              exp: Int64(claims.expiresAt.timeIntervalSince1970))
        // Encoding a struct of strings and integers cannot fail.
        let json = try! Self.encoder.encode(payload)
        let signingInput = Base64Text.encode(Array(header.utf8), urlSafe: true) + "." + Base64Text.encode(json, urlSafe: true)
        return signingInput + "." + Base64Text.encode(keys.current.authenticationCode(for: signingInput.utf8), urlSafe: true)
    }

    /// The claims of a valid, current token; anything else throws `unauthenticated` saying what
    /// was wrong (malformed, another algorithm, unknown key, bad signature, expired, not yet valid).
    public func verify(_ token: String) throws -> AccessTokenClaims {
        func refuse(_ why: String) -> VideoStackError {
            VideoStackError(.unauthenticated, "The access token is not valid: \(why). Sign in again or refresh the session.")
        }
        guard token.utf8.count <= Self.maximumLength else { throw refuse("it is longer than \(Self.maximumLength) bytes") }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw refuse("it does not have the three parts of a JWT") }
        guard let headerBytes = Base64Text.decode(Substring(parts[0]), urlSafe: true),
              let payloadBytes = Base64Text.decode(Substring(parts[1]), urlSafe: true),
              let signature = Base64Text.decode(Substring(parts[2]), urlSafe: true)
        else { throw refuse("a part is not base64url") }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else { throw refuse("the header is not JSON") }
        guard header.alg == "HS256" else { throw refuse("the algorithm '\(header.alg.prefix(16))' is not HS256") }
        if let typ = header.typ, typ.uppercased() != "JWT" { throw refuse("the type '\(typ.prefix(16))' is not JWT") }
        // RFC 7515: extensions marked critical must be understood; this verifier knows none.
        guard header.crit == nil else { throw refuse("it needs header extensions this server does not support") }
        guard let kid = header.kid, let key = keys.key(id: kid) else { throw refuse("it was signed with a key this server does not know") }
        let signingInput = token.utf8.prefix(parts[0].count + 1 + parts[1].count)
        guard key.isValid(signature, for: signingInput) else { throw refuse("the signature does not match") }
        guard let payload = try? JSONDecoder().decode(Payload.self, from: Data(payloadBytes)) else {
            throw refuse("the payload lacks sub, role, sid, epoch, iat or exp")
        }
        let now = now().timeIntervalSince1970
        let leeway = leeway.intervalInSeconds
        guard Double(payload.exp) + leeway > now else { throw refuse("it has expired") }
        guard Double(payload.nbf ?? payload.iat) - leeway <= now, Double(payload.iat) - leeway <= now else {
            throw refuse("it is not valid yet")
        }
        guard let role = try? Role(parsing: payload.role) else { throw refuse("the role '\(payload.role.prefix(16))' is unknown") }
        return AccessTokenClaims(subject: payload.sub, role: role, sessionFamily: payload.sid, epoch: payload.epoch,
                                 issuedAt: Date(timeIntervalSince1970: Double(payload.iat)), expiresAt: Date(timeIntervalSince1970: Double(payload.exp)))
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
        var typ: String?
        var crit: [String]?
    }

    private struct Payload: Codable {
        var sub: String
        var role: String
        var sid: String
        var epoch: Int64
        var iat: Int64
        var nbf: Int64?
        var exp: Int64
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval` (for `Date` arithmetic).
    var intervalInSeconds: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
