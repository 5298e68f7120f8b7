import Foundation

/// Exponential backoff with full jitter, capped, honouring a provider's `Retry-After`.
///
/// Transient failures are retried within a run until its deadline or `attemptsPerRun`; what is
/// left stays pending for the next run (a CRM outage delays enforcement, it never ends it). Only a
/// permanent failure, or `maxAttempts` counted across runs, dead-letters an operation.
public struct RetryPolicy: Sendable {
    /// Attempts in all, across runs, before a transiently failing operation goes dead.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// How long a `sync` keeps retrying transient failures; then they stay pending for the next run.
    public var runDeadline: Duration
    /// Attempts of one operation within one run; then it waits for the next run.
    public var attemptsPerRun: Int

    public init(
        maxAttempts: Int = 24, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30), runDeadline: Duration = .seconds(60),
        attemptsPerRun: Int = 5
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.runDeadline = runDeadline
        self.attemptsPerRun = max(1, attemptsPerRun)
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        let ceiling = min(baseDelay * (1 << exponent), maxDelay)
        let seconds = Double(ceiling.components.seconds) + Double(ceiling.components.attoseconds) / 1e18
        let jittered = Duration.milliseconds(Int64(Double.random(in: 0.5...1.0) * seconds * 1000))
        if let retryAfter, retryAfter > jittered { return min(retryAfter, maxDelay) }
        return jittered
    }
}
