public import Foundation
import Synchronization

/// A request budget shared by everything that reaches one CRM account: every connector, process and
/// hub instance on the same state. Providers count their API limits per account or app, not per
/// client, so each client asks here before each request besides keeping its own budget.
///
/// The stores keep it (one number per account, see `RateCell`); a connector gets one through
/// `ConnectorContext.rateBudget`.
public protocol SharedRateBudget: Sendable {
    /// Asks to start one request against `account`, whose limit is `requests` starts per `per`.
    ///
    /// - Returns: `.zero` when the request may start now (the start is counted); otherwise how long
    ///   to wait before asking again (nothing is counted).
    /// - Throws: when the budget cannot be read or written (the caller falls back to its own budget).
    func reserve(account: String, requests: Int, per: Duration, at: Date) async throws -> Duration
}

/// The shared budget's rule: a generic cell rate algorithm without burst. Each account keeps one
/// "theoretical arrival time" (TAT, seconds since 1970); with the emission interval
/// `T = per / requests`, a start is allowed when `TAT <= now`, and then `TAT = max(TAT, now) + T`.
/// Starts are therefore at least `T` apart, so that at most `requests` of them fall in any window of
/// length `per`, however many processes share the account. (A burst allowance would let up to twice
/// `requests` into one window.) A TAT more than one window ahead of `now` — a clock that was set back —
/// is forgotten rather than waited for.
public enum RateCell {
    public enum Decision: Equatable, Sendable {
        /// Start now; store `tat`.
        case start(tat: Double)
        /// Ask again after this long; the stored TAT stays as it was.
        case wait(Duration)
    }

    /// Rounding slack (seconds) when comparing a stored TAT with `now`.
    public static let tolerance = 1e-5

    /// `T`, in seconds.
    public static func interval(requests: Int, per: Duration) -> Double {
        seconds(per) / Double(max(1, requests))
    }

    public static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    public static func decide(tat: Double?, now: Double, requests: Int, per: Duration) -> Decision {
        let interval = interval(requests: requests, per: per)
        guard let tat, tat <= now + seconds(per) else { return .start(tat: now + interval) }
        if tat <= now + tolerance { return .start(tat: max(tat, now) + interval) }
        return .wait(waiting(seconds: tat - now))
    }

    /// A positive wait of `seconds` (at least a millisecond, so that a caller never spins).
    public static func waiting(seconds: Double) -> Duration {
        .nanoseconds(Int64((max(seconds, 0.001) * 1e9).rounded(.up)))
    }
}

/// A shared budget that forwards to another once one is attached (the state store, opened after the
/// connectors were built). Until then every request may start: the clients' own budgets apply.
public final class DeferredRateBudget: SharedRateBudget {
    private let target = Mutex<(any SharedRateBudget)?>(nil)

    public init() {}

    public func attach(_ budget: any SharedRateBudget) {
        target.withLock { $0 = budget }
    }

    public func reserve(account: String, requests: Int, per: Duration, at: Date) async throws -> Duration {
        guard let budget = target.withLock({ $0 }) else { return .zero }
        return try await budget.reserve(account: account, requests: requests, per: per, at: at)
    }
}
