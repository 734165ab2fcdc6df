internal import Synchronization

/// Wakes tasks waiting for work in this process. Each `fire` bumps a generation, so a task that
/// looked for work before the fire and starts waiting after it returns at once: no wake-up is lost
/// between "found nothing" and "wait".
final class WakeSignal: Sendable {
    private enum Waiter {
        case waiting(CheckedContinuation<Void, Never>)
        /// Resumed (by its timeout or cancellation) before its continuation was registered.
        case resumedEarly
    }

    private struct State {
        var generation: UInt64 = 0
        var nextID: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
    }

    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    /// Returns after the next `fire` (or at once if one happened since `generation`), after
    /// `timeout`, or when the task is cancelled.
    func wait(upTo timeout: Duration, since generation: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.resume(id)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if state.generation != generation { return true }
                            if case .resumedEarly? = state.waiters[id] {
                                state.waiters[id] = nil
                                return true
                            }
                            state.waiters[id] = .waiting(continuation)
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.resume(id)
                }
            }
            await group.next()
            group.cancelAll()
            self.resume(id)
            await group.waitForAll()
            self.state.withLock { _ = $0.waiters.removeValue(forKey: id) }
        }
    }

    /// Wakes every waiting task.
    func fire() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            var woken: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in state.waiters {
                if case .waiting(let continuation) = waiter {
                    woken.append(continuation)
                    state.waiters[id] = nil
                }
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    private func resume(_ id: UInt64) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state.waiters[id] {
            case .waiting(let continuation)?:
                state.waiters[id] = nil
                return continuation
            case .resumedEarly?:
                return nil
            case nil:
                state.waiters[id] = .resumedEarly
                return nil
            }
        }
        continuation?.resume()
    }
}
