internal import Foundation
internal import Synchronization

/// How requests are retried: exponential backoff with full jitter on throttling, 5xx answers and
/// connection errors, bounded per request by ``maxAttempts`` and across requests by a retry
/// budget (the AWS SDKs' "standard" retry quota), so a failing service is not hammered by every
/// caller at once.
public struct AWSRetryStrategy: Sendable {
    /// Attempts per request, the first included.
    public var maxAttempts: Int
    /// The ceiling of the first retry's delay; it doubles with each retry.
    public var baseDelay: Duration
    /// The most any one delay may be.
    public var maxDelay: Duration
    /// Tokens in the shared retry budget. A retry costs ``retryCost`` (``timeoutRetryCost`` after a
    /// connection error); a success refunds one. An empty budget means no more retries until
    /// requests succeed again.
    public var budget: Int
    /// Tokens a retry after an error answer takes from the budget.
    public var retryCost: Int
    /// Tokens a retry after a connection error or timeout takes.
    public var timeoutRetryCost: Int
    /// Waits between attempts; tests pass one that records the delays instead of sleeping.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// Uniform in 0...1 for the jitter; tests pass a fixed one.
    public var random: @Sendable () -> Double

    /// A strategy; the defaults follow the AWS SDKs' standard mode.
    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(20), budget: Int = 500,
                retryCost: Int = 5, timeoutRetryCost: Int = 10,
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.budget = budget
        self.retryCost = retryCost
        self.timeoutRetryCost = timeoutRetryCost
        self.sleep = sleep
        self.random = random
    }

    /// Full jitter: uniform in [0, min(maxDelay, baseDelay · 2^(retry-1))].
    public func delay(beforeRetry retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        return ceiling * min(max(random(), 0), 1)
    }
}

/// The shared retry budget of one client.
final class RetryBudget: Sendable {
    private let tokens: Mutex<Int>
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        tokens = Mutex(capacity)
    }

    /// Takes `cost` tokens if there are that many.
    func acquire(_ cost: Int) -> Bool {
        tokens.withLock { available in
            guard available >= cost else { return false }
            available -= cost
            return true
        }
    }

    func refund(_ amount: Int) {
        tokens.withLock { $0 = min(capacity, $0 + amount) }
    }

    var available: Int { tokens.withLock { $0 } }
}
