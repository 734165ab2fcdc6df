public import Foundation
internal import Synchronization

/// Token buckets in memory, one per key, with bounded memory.
///
/// A bucket that has filled up again is the same as no bucket, so when the table reaches
/// `maximumBuckets` the full ones are dropped; if that is not enough (a flood of distinct keys),
/// the least recently used tenth goes too, which at worst gives those keys a fresh burst.
/// Time comes from the injected clock (a wall clock that steps back counts as no time passing).
public final class TokenBucketRateLimiter: RateLimiter {
    /// The size and rate of every bucket.
    public let policy: TokenBucketPolicy
    /// The most buckets kept at once.
    public let maximumBuckets: Int
    private let now: @Sendable () -> Date
    private let state = Mutex<[RateLimitKey: Bucket]>([:])

    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    /// Buckets of `policy`, at most `maximumBuckets` of them, timed by `now`.
    public init(policy: TokenBucketPolicy, maximumBuckets: Int = 100_000, now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(policy.capacity > 0 && policy.refillInterval > .zero && maximumBuckets > 0)
        self.policy = policy
        self.maximumBuckets = maximumBuckets
        self.now = now
    }

    /// Buckets held now (for tests and metrics).
    public var bucketCount: Int { state.withLock { $0.count } }

    /// Takes `cost` tokens if the bucket has them (never suspends: the table is behind a mutex).
    public func acquire(_ key: RateLimitKey, cost: Int = 1) async -> RateLimitDecision {
        take(key, cost: cost)
    }

    /// Gives back tokens, up to the bucket's capacity.
    public func release(_ key: RateLimitKey, cost: Int = 1) async {
        let now = now()
        state.withLock { buckets in
            guard var bucket = buckets[key] else { return }  // gone means full
            bucket = refilled(bucket, at: now)
            bucket.tokens = min(Double(policy.capacity), bucket.tokens + Double(cost))
            buckets[key] = bucket
        }
    }

    /// The synchronous core of ``acquire(_:cost:)``.
    func take(_ key: RateLimitKey, cost: Int) -> RateLimitDecision {
        let now = now()
        let capacity = Double(policy.capacity)
        let interval = policy.refillInterval.intervalInSeconds
        return state.withLock { buckets in
            if buckets[key] == nil && buckets.count >= maximumBuckets { evict(&buckets, at: now) }
            var bucket = buckets[key].map { refilled($0, at: now) } ?? Bucket(tokens: capacity, updated: now)
            let need = Double(cost)
            guard need <= capacity else {
                // Can never be met: say so with the time a full bucket takes, not forever.
                return .limited(retryAfter: policy.refillInterval * policy.capacity)
            }
            if bucket.tokens >= need {
                bucket.tokens -= need
                buckets[key] = bucket
                return .allowed
            }
            buckets[key] = bucket
            let wait = (need - bucket.tokens) * interval
            // Round up to the millisecond, so retrying exactly after `retryAfter` succeeds.
            return .limited(retryAfter: .milliseconds(Int64((wait * 1000).rounded(.up))))
        }
    }

    private func refilled(_ bucket: Bucket, at now: Date) -> Bucket {
        let elapsed = max(0, now.timeIntervalSince(bucket.updated))
        let earned = elapsed / policy.refillInterval.intervalInSeconds
        return Bucket(tokens: min(Double(policy.capacity), bucket.tokens + earned), updated: max(now, bucket.updated))
    }

    private func evict(_ buckets: inout [RateLimitKey: Bucket], at now: Date) {
        let capacity = Double(policy.capacity)
        buckets = buckets.filter { refilled($0.value, at: now).tokens < capacity }
        if buckets.count >= maximumBuckets {
            let oldest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(max(1, maximumBuckets / 10))
            for (key, _) in oldest { buckets[key] = nil }
        }
    }
}
