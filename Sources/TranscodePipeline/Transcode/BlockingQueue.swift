internal import Foundation

/// A bounded FIFO between two threads: `push` blocks while full, `pop` while empty.
///
/// `@unchecked Sendable`: all state is guarded by `condition`.
final class BlockingQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    // Popped slots are set to nil at once: a consumed 1080p frame left in the array until the
    // next compaction would keep 3 MB alive (32 of them cost 100 MB of peak memory).
    private var items: [Element?] = []
    private var head = 0
    private var closed = false
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Waits for room and appends; false when the queue was cancelled (the item is dropped).
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count - head >= capacity && !cancelled { condition.wait() }
        if cancelled { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Waits for an item; nil once the queue is closed and drained, or cancelled.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.count == head && !closed && !cancelled { condition.wait() }
        if cancelled || items.count == head { return nil }
        let item = items[head]
        items[head] = nil
        head += 1
        if head > 32 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return item
    }

    /// No more items will be pushed; `pop` returns nil after the last one.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Wakes everyone and drops what is queued.
    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        head = 0
        condition.broadcast()
        condition.unlock()
    }
}

/// A bounded channel from producer threads to one async consumer.
///
/// Producers block (on their own threads) while it is full, so encoders slow down to the pace of
/// the sink instead of queueing without limit; the consumer awaits without blocking a thread.
/// `@unchecked Sendable`: all state is guarded by `condition`.
final class OutputChannel<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var consumer: CheckedContinuation<[Element], Never>?
    private var closed = false
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Waits for room and appends; false when the channel was cancelled.
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.lock()
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled {
            condition.unlock()
            return false
        }
        if let waiting = consumer {
            consumer = nil
            condition.unlock()
            waiting.resume(returning: [item])
            return true
        }
        items.append(item)
        condition.unlock()
        return true
    }

    /// Everything queued, waiting for at least one item; empty once closed and drained, or cancelled.
    func next() async -> [Element] {
        await withCheckedContinuation { (continuation: CheckedContinuation<[Element], Never>) in
            condition.lock()
            if !items.isEmpty {
                let batch = items
                items.removeAll(keepingCapacity: true)
                condition.broadcast()
                condition.unlock()
                continuation.resume(returning: batch)
            } else if closed || cancelled {
                condition.unlock()
                continuation.resume(returning: [])
            } else {
                consumer = continuation
                condition.unlock()
            }
        }
    }

    /// No more items will be pushed.
    func close() {
        condition.lock()
        closed = true
        let waiting = consumer
        consumer = nil
        condition.broadcast()
        condition.unlock()
        waiting?.resume(returning: [])
    }

    /// Wakes producers and the consumer; later pushes are dropped.
    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        let waiting = consumer
        consumer = nil
        condition.broadcast()
        condition.unlock()
        waiting?.resume(returning: [])
    }
}
