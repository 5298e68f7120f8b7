/// Spaces sends at least `60 / perMinute` seconds apart (a steady rate, no bursts). Each caller
/// reserves the next free slot and sleeps until it; a cancelled wait gives its slot up to nobody
/// (the rate stays an upper bound).
actor SendingRateLimiter {
    private let interval: Duration
    private let clock = ContinuousClock()
    private var nextSlot: ContinuousClock.Instant?

    init(perMinute: Double) {
        interval = .nanoseconds(Int64((60.0 / perMinute) * 1_000_000_000))
    }

    func acquire() async throws {
        let now = clock.now
        let slot = max(now, nextSlot ?? now)
        nextSlot = slot + interval
        if slot > now { try await clock.sleep(until: slot) }
    }
}
