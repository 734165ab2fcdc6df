public import Foundation
internal import VideoCore

/// Limits of ``RequestRateLimiter``: one bucket per client address and one per signed-in user.
public struct RateLimitConfiguration: Sendable, Hashable {
    /// Requests per client address: by default bursts of 120, then 20 a second.
    public var perAddress: TokenBucketPolicy
    /// Requests per signed-in user, whichever address they come from: bursts of 240, 40 a second.
    public var perUser: TokenBucketPolicy
    /// The most buckets each limiter keeps in memory.
    public var maximumBuckets: Int

    /// The defaults are those described on each property.
    public init(perAddress: TokenBucketPolicy = .perSecond(20, burst: 120), perUser: TokenBucketPolicy = .perSecond(40, burst: 240),
                maximumBuckets: Int = 100_000) {
        self.perAddress = perAddress
        self.perUser = perUser
        self.maximumBuckets = maximumBuckets
    }
}

/// The rate limit every entry point consults (HTTP routes, tus uploads, HLS): a request takes a
/// token from its client address's bucket and, when signed in, from its user's.
public struct RequestRateLimiter: Sendable {
    /// The buckets of client addresses.
    public let perAddress: any RateLimiter
    /// The buckets of signed-in users.
    public let perUser: any RateLimiter

    /// In-memory token buckets with the configured limits.
    public init(configuration: RateLimitConfiguration = .init(), now: @escaping @Sendable () -> Date = { Date() }) {
        perAddress = TokenBucketRateLimiter(policy: configuration.perAddress, maximumBuckets: configuration.maximumBuckets, now: now)
        perUser = TokenBucketRateLimiter(policy: configuration.perUser, maximumBuckets: configuration.maximumBuckets, now: now)
    }

    /// Limiters of your own (a shared backend, say).
    public init(perAddress: any RateLimiter, perUser: any RateLimiter) {
        self.perAddress = perAddress
        self.perUser = perUser
    }

    /// Lets the request through or throws `rateLimited` with the time to retry (HTTP 429 with
    /// `Retry-After`). `cost` lets expensive requests (an upload, a search) count for more.
    public func check(address: String?, user: String?, cost: Int = 1) async throws {
        var keys: [(any RateLimiter, RateLimitKey)] = []
        if let address { keys.append((perAddress, .address(address))) }
        if let user { keys.append((perUser, .user(user))) }
        try await RequestRateLimiter.acquireAll(keys, cost: cost, what: "requests")
    }

    /// Takes `cost` from every bucket or from none: when one is empty, those already taken are
    /// given back and the longest wait is thrown as `rateLimited`.
    static func acquireAll(_ keys: [(any RateLimiter, RateLimitKey)], cost: Int, what: String) async throws {
        var taken: [(any RateLimiter, RateLimitKey)] = []
        var wait: Duration?
        for (limiter, key) in keys {
            switch await limiter.acquire(key, cost: cost) {
            case .allowed: taken.append((limiter, key))
            case .limited(let retryAfter): wait = max(wait ?? .zero, retryAfter)
            }
        }
        guard let wait else { return }
        for (limiter, key) in taken { await limiter.release(key, cost: cost) }
        throw VideoStackError(.rateLimited, "Too many \(what); try again in \(RequestRateLimiter.describe(wait)).", retryAfter: wait)
    }

    /// "3 seconds", rounded up, for messages.
    static func describe(_ wait: Duration) -> String {
        let seconds = Int(wait.intervalInSeconds.rounded(.up))
        if seconds < 120 { return seconds == 1 ? "1 second" : "\(max(1, seconds)) seconds" }
        return "\((seconds + 59) / 60) minutes"
    }
}
