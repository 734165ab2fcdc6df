import Foundation
import Testing
import TestSupport
import VideoCore
import VideoPlatform

@Suite struct RateLimiterTests {
    @Test func bucketsAllowABurstThenRefillAtTheirRate() async {
        let clock = ManualClock()
        let limiter = TokenBucketRateLimiter(policy: TokenBucketPolicy(capacity: 3, refillInterval: .seconds(2)), now: clock.source)
        let key = RateLimitKey.user("ada")
        for _ in 0..<3 { #expect(await limiter.acquire(key, cost: 1) == .allowed) }
        #expect(await limiter.acquire(key, cost: 1) == .limited(retryAfter: .seconds(2)))
        clock.advance(0.5)
        #expect(await limiter.acquire(key, cost: 1) == .limited(retryAfter: .milliseconds(1500)))
        clock.advance(1.5)
        #expect(await limiter.acquire(key, cost: 1) == .allowed)
        #expect(await limiter.acquire(key, cost: 1) == .limited(retryAfter: .seconds(2)))
        // Other keys have buckets of their own.
        #expect(await limiter.acquire(.user("grace"), cost: 1) == .allowed)
        // A long pause refills to capacity, never beyond.
        clock.advance(3600)
        for _ in 0..<3 { #expect(await limiter.acquire(key, cost: 1) == .allowed) }
        #expect(await limiter.acquire(key, cost: 1) != .allowed)
        // Released tokens come back; a cost above capacity can never pass.
        await limiter.release(key, cost: 1)
        #expect(await limiter.acquire(key, cost: 1) == .allowed)
        #expect(await limiter.acquire(.user("big"), cost: 4) == .limited(retryAfter: .seconds(6)))
        // A clock that steps back earns nothing.
        clock.advance(-100)
        #expect(await limiter.acquire(key, cost: 1) != .allowed)
    }

    @Test func memoryStaysBoundedUnderAFloodOfKeys() async {
        let clock = ManualClock()
        let limiter = TokenBucketRateLimiter(policy: .perSecond(1, burst: 5), maximumBuckets: 100, now: clock.source)
        let victim = RateLimitKey.address("192.0.2.1")
        for _ in 0..<5 { _ = await limiter.acquire(victim, cost: 1) }
        for i in 0..<5_000 {
            _ = await limiter.acquire(.address("10.\(i / 65_536).\(i / 256 % 256).\(i % 256)"), cost: 1)
            #expect(limiter.bucketCount <= 100)
        }
        // Buckets that had filled up again are dropped first.
        clock.advance(10)
        for i in 0..<100 { _ = await limiter.acquire(.address("172.16.0.\(i)"), cost: 1) }
        #expect(limiter.bucketCount <= 100)
    }

    @Test func addressesAreKeyedByClient() {
        #expect(RateLimitKey.address("203.0.113.9").text == "ip:203.0.113.9")
        #expect(RateLimitKey.address("::ffff:203.0.113.9") == RateLimitKey.address("203.0.113.9"))
        #expect(RateLimitKey.address("2001:db8:aa:bb::1") == RateLimitKey.address("[2001:DB8:AA:BB:ffff:1:2:3]"))
        #expect(RateLimitKey.address("2001:db8:aa:bb::1") != RateLimitKey.address("2001:db8:aa:bc::1"))
        #expect(RateLimitKey.address("fe80::1%eth0") == RateLimitKey.address("fe80::2"))
        #expect(RateLimitKey.address("2001:db8:aa:bb::1").text == "ip6:2001:db8:aa:bb::/64")
        // Not an address: kept apart from real ones, bounded.
        let odd = RateLimitKey.address(String(repeating: "x", count: 10_000) + "\u{0}")
        #expect(odd.text.hasPrefix("ip?:") && odd.text.utf8.count <= 68)
        #expect(RateLimitKey.address("unknown") != RateLimitKey.address("203.0.113.9"))
        #expect(RateLimitKey.address("203.0.113.9\u{0}junk").text.hasPrefix("ip?:"))
    }

    @Test func requestLimitsCheckTheAddressAndTheUserAllOrNothing() async throws {
        let clock = ManualClock()
        let limits = RequestRateLimiter(configuration: RateLimitConfiguration(
            perAddress: TokenBucketPolicy(capacity: 2, refillInterval: .seconds(1)),
            perUser: TokenBucketPolicy(capacity: 3, refillInterval: .seconds(5))), now: clock.source)
        try await limits.check(address: "198.51.100.1", user: "ada")
        try await limits.check(address: "198.51.100.1", user: "ada")
        let limited = await thrownError { try await limits.check(address: "198.51.100.1", user: "ada") }
        #expect(limited?.code == .rateLimited && limited?.retryAfter == .seconds(1))
        // That refusal took nothing from ada's bucket: one more from another address passes...
        try await limits.check(address: "198.51.100.2", user: "ada")
        // ...and now ada's own bucket is empty, wherever she comes from.
        let user = await thrownError { try await limits.check(address: "198.51.100.3", user: "ada") }
        #expect(user?.retryAfter == .seconds(5) && user?.message.contains("5 seconds") == true)
        // Anonymous requests count against the address alone.
        try await limits.check(address: "198.51.100.3", user: nil)
        try await limits.check(address: nil, user: "grace")
    }
}
