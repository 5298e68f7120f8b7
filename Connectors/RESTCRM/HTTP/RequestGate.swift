/// Admits request attempts: at most `maxConcurrent` in flight, at most `requests` starts in any
/// window of `per`, and none while the provider asked for a pause.
///
/// Fair enough for one connector: waiters for a slot are served in order; waiters for the budget
/// wake when the oldest start leaves the window and check again.
///
/// Cancellation: every wait (for a slot, for the budget window, for a pause) ends promptly with
/// `CancellationError` when the waiting task is cancelled. A cancelled waiter leaves the queue at
/// once and never takes a slot later; a slot taken is always given back.
actor RequestGate {
    private let slots: SlotQueue
    private let budget: (requests: Int, per: Duration)?
    private let clock = ContinuousClock()
    private var starts: [ContinuousClock.Instant] = []
    private var pausedUntil: ContinuousClock.Instant?

    init(maxConcurrent: Int, requests: Int?, per: Duration) {
        self.slots = SlotQueue(limit: max(1, maxConcurrent))
        self.budget = requests.map { ($0, per) }
    }

    /// Runs one attempt once admitted; the slot is free again when `body` returns or throws.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while waiting to be admitted
    ///   (then `body` does not run); otherwise what `body` throws.
    nonisolated func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await slots.acquire()
        defer { slots.release() }
        try await waitForBudget()
        return try await body()
    }

    /// No attempt starts before `instant` (a `Retry-After`, or a budget header at zero).
    func pause(until instant: ContinuousClock.Instant) {
        if let pausedUntil, pausedUntil >= instant { return }
        pausedUntil = instant
    }

    /// The number of attempts holding a slot and of tasks waiting for one (for tests).
    nonisolated var slotUsage: (inFlight: Int, waiting: Int) { slots.usage }

    private func waitForBudget() async throws {
        while true {
            try Task.checkCancellation()
            let now = clock.now
            if let pausedUntil, pausedUntil > now {
                try await Task.sleep(until: pausedUntil, clock: clock)
                continue
            }
            guard let budget else { return }
            starts.removeAll { $0 + budget.per <= now }
            if starts.count < budget.requests {
                starts.append(now)
                return
            }
            try await Task.sleep(until: starts[0] + budget.per, clock: clock)
        }
    }
}

/// The concurrency bound: a FIFO counting semaphore whose waiters can be cancelled.
///
/// Kept behind a lock rather than in the actor so that the cancellation handler, which runs
/// synchronously on the cancelling thread, can take a waiter out of the queue and resume it at once.
final class SlotQueue: Sendable {
    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var inFlight = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let limit: Int
    private let state = HTTPLocked(State())

    init(limit: Int) {
        self.limit = limit
    }

    var usage: (inFlight: Int, waiting: Int) { state.withLock { ($0.inFlight, $0.waiters.count) } }

    /// Takes a slot, waiting in line for one when all are taken.
    ///
    /// - Throws: `CancellationError` when the task is (or gets) cancelled before it holds a slot;
    ///   the caller then holds none and must not call `release`.
    func acquire() async throws {
        try Task.checkCancellation()
        let id: UInt64? = state.withLock { state in
            if state.inFlight < limit {
                state.inFlight += 1
                return nil
            }
            state.nextID &+= 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Under the lock, so that `onCancel` (which takes it too) either sees this waiter
                // in the queue or runs before the `isCancelled` check below sees the cancellation.
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.inFlight < limit {
                        // A slot freed between the first look and now.
                        state.inFlight += 1
                        return .success(())
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            // Not found: either not queued yet (the check above throws) or already handed a slot
            // (the caller owns it and gives it back).
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Gives a slot back, handing it straight to the first waiter when there is one.
    func release() {
        let next: Waiter? = state.withLock { state in
            if state.waiters.isEmpty {
                state.inFlight -= 1
                return nil
            }
            // The slot passes on: `inFlight` stays as it is.
            return state.waiters.removeFirst()
        }
        next?.continuation.resume()
    }
}
