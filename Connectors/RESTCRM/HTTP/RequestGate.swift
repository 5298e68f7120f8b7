/// Admits request attempts: at most `maxConcurrent` in flight, at most `requests` starts in any
/// window of `per`, and none while the provider asked for a pause.
///
/// Fair enough for one connector: waiters for a slot are served in order; waiters for the budget
/// wake when the oldest start leaves the window and check again.
actor RequestGate {
    private let maxConcurrent: Int
    private let budget: (requests: Int, per: Duration)?
    private let clock = ContinuousClock()
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var starts: [ContinuousClock.Instant] = []
    private var pausedUntil: ContinuousClock.Instant?

    init(maxConcurrent: Int, requests: Int?, per: Duration) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.budget = requests.map { ($0, per) }
    }

    /// Runs one attempt once admitted; the slot is free again when `body` returns or throws.
    nonisolated func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }

    /// No attempt starts before `instant` (a `Retry-After`, or a budget header at zero).
    func pause(until instant: ContinuousClock.Instant) {
        if let pausedUntil, pausedUntil >= instant { return }
        pausedUntil = instant
    }

    private func acquire() async throws {
        if inFlight < maxConcurrent {
            inFlight += 1
        } else {
            // `release` hands its slot over: `inFlight` stays as it is.
            await withCheckedContinuation { waiters.append($0) }
        }
        do {
            try await waitForBudget()
        } catch {
            release()
            throw error
        }
    }

    private func release() {
        if waiters.isEmpty {
            inFlight -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }

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
