import Synchronization
internal import Foundation

/// A flag that the caller's task sets to stop FFmpeg work running on other threads, and a
/// deadline for the current blocking read; FFmpeg's I/O interrupt callback polls both.
final class CancelFlag: Sendable {
    private let cancelled = Atomic<Bool>(false)
    // Monotonic nanoseconds; 0 means no deadline.
    private let deadline = Atomic<UInt64>(0)

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Lets the next blocking operation run for at most `limit` (nil: no limit).
    func arm(_ limit: Duration?) {
        guard let limit else { deadline.store(0, ordering: .relaxed); return }
        let nanoseconds = UInt64(max(0, limit.components.seconds)) * 1_000_000_000 + UInt64(max(0, limit.components.attoseconds) / 1_000_000_000)
        deadline.store(DispatchTime.now().uptimeNanoseconds + nanoseconds, ordering: .relaxed)
    }

    /// Whether FFmpeg should abort the blocking call it is in.
    var shouldInterrupt: Bool {
        if isCancelled { return true }
        let limit = deadline.load(ordering: .relaxed)
        return limit != 0 && DispatchTime.now().uptimeNanoseconds > limit
    }

    /// Whether the deadline (not cancellation) has passed.
    var timedOut: Bool {
        let limit = deadline.load(ordering: .relaxed)
        return limit != 0 && DispatchTime.now().uptimeNanoseconds > limit
    }
}

/// Runs blocking work on a thread of its own and awaits its result, so FFmpeg never occupies the
/// cooperative pool. Cancelling the awaiting task sets `cancel`; `body` is expected to poll it.
func runOnOwnThread<T: Sendable>(name: String, cancel: CancelFlag? = nil,
                                 _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            // Stream probing decodes frames, and decoders want a full-size stack.
            thread.stackSize = 8 << 20
            thread.start()
        }
    } onCancel: {
        cancel?.cancel()
    }
}
