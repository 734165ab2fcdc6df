internal import Foundation
#if canImport(Glibc)
internal import Glibc
#endif

/// What a rate limiter counts against: one client address, one user, one account being signed
/// in to. Keys of different kinds never collide (`ip:`, `user:`, …).
public struct RateLimitKey: Hashable, Sendable, CustomStringConvertible {
    /// The key's text, e.g. `ip:203.0.113.7`, `ip6:2001:db8:0:1::/64`, `user:ada`.
    public let text: String

    /// A key of your own; use a prefix of your own to keep it apart from the built-in kinds.
    public init(_ text: String) { self.text = String(text.prefix(300)) }

    /// The bucket of a client address. IPv4 addresses count one by one; IPv6 ones by their /64
    /// (one customer's network), since a client can pick any address in it. IPv4-mapped IPv6
    /// counts as IPv4. Text that is not an address is kept (lowercased, at most 64 bytes), so
    /// a proxy's odd value still gets a bucket of its own.
    public static func address(_ address: String) -> RateLimitKey {
        // Addresses come from the socket already plain; only a header's value needs trimming.
        let padded = address.utf8.first.map { $0 == 0x20 || $0 == 0x09 } == true || address.utf8.last.map { $0 == 0x20 || $0 == 0x09 } == true
        var text = padded ? address.trimmingCharacters(in: .whitespaces) : address
        // "[2001:db8::1]" as in URLs, and a zone index ("fe80::1%eth0").
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        // A NUL would end the C string early: "1.2.3.4\0junk" is no address.
        let plausible = text.utf8.count < 64 && !text.utf8.contains(0)
        var v4 = in_addr()
        if plausible, inet_pton(AF_INET, text, &v4) == 1 {
            return RateLimitKey("ip:" + text)
        }
        var v6 = in6_addr()
        if plausible, inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return RateLimitKey("ip:" + bytes[12..<16].map(String.init).joined(separator: "."))
            }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            return RateLimitKey("ip6:" + groups.joined(separator: ":") + "::/64")
        }
        return RateLimitKey("ip?:" + String(decoding: text.lowercased().utf8.prefix(64), as: UTF8.self))
    }

    /// The bucket of a signed-in user.
    public static func user(_ username: String) -> RateLimitKey { RateLimitKey("user:" + username.lowercased()) }

    /// The bucket of sign-in failures for one email address, whether or not it has an account.
    public static func signIn(email: String) -> RateLimitKey { RateLimitKey("signin:" + email) }

    /// The key's text.
    public var description: String { text }
}

/// Whether a request may go ahead.
public enum RateLimitDecision: Hashable, Sendable {
    case allowed
    /// Not now; the bucket holds enough again after `retryAfter`.
    case limited(retryAfter: Duration)
}

/// Counts requests per key and says when one is over its limit.
///
/// ``TokenBucketRateLimiter`` keeps buckets in memory, per process; a backend shared by many
/// nodes (a store, Redis) plugs in behind this protocol.
public protocol RateLimiter: Sendable {
    /// Takes `cost` tokens from `key`'s bucket if it holds that many; otherwise takes nothing
    /// and says how long until it will.
    func acquire(_ key: RateLimitKey, cost: Int) async -> RateLimitDecision

    /// Gives back `cost` tokens taken by ``acquire(_:cost:)`` (never beyond the bucket's
    /// capacity): for work that turned out not to count, such as a sign-in that succeeded.
    func release(_ key: RateLimitKey, cost: Int) async
}

/// How big a bucket is and how fast it fills: `capacity` requests in a burst, then one every
/// `refillInterval`.
public struct TokenBucketPolicy: Sendable, Hashable {
    /// The most tokens a bucket holds: the longest burst.
    public var capacity: Int
    /// The time to earn one token back: the sustained rate is one per interval.
    public var refillInterval: Duration

    /// `capacity` at once, then one every `refillInterval`.
    public init(capacity: Int, refillInterval: Duration) {
        self.capacity = capacity
        self.refillInterval = refillInterval
    }

    /// `capacity` requests a burst, `perSecond` sustained.
    public static func perSecond(_ perSecond: Double, burst: Int) -> TokenBucketPolicy {
        TokenBucketPolicy(capacity: burst, refillInterval: .nanoseconds(Int64((1e9 / perSecond).rounded(.up))))
    }
}
