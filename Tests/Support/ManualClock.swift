public import Foundation
internal import Synchronization

/// A wall clock a test moves by hand, so expiry, visibility and backoff are checked without
/// sleeping. Pass ``source`` (or `{ clock.now }`) where a service takes `now`.
public final class ManualClock: Sendable {
    private let date: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { date = Mutex(start) }

    public var now: Date { date.withLock { $0 } }
    public func advance(_ seconds: TimeInterval) { date.withLock { $0 = $0.addingTimeInterval(seconds) } }
    public func advance(by seconds: TimeInterval) { advance(seconds) }
    /// The clock as the services take it.
    public var source: @Sendable () -> Date { { [self] in now } }
}
