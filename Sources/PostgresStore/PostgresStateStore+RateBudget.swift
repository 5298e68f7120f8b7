public import Foundation
import PostgresNIO
import RetentionCore

/// The shared request budgets (`SharedRateBudget`) in `rate_budgets`, by the rule of `RateCell`. A
/// start is one `INSERT … ON CONFLICT … DO UPDATE … WHERE` statement: of two instances asking at once,
/// the second waits for the first's row and then sees its new TAT. When nothing was updated, the wait
/// is read from the row.
extension PostgresStateStore {
    public func reserve(account: String, requests: Int, per: Duration, at: Date) async throws -> Duration {
        let now = at.timeIntervalSince1970
        let interval = RateCell.interval(requests: requests, per: per)
        let window = RateCell.seconds(per)
        let slack = RateCell.tolerance
        return try await read("reserve a request in the shared budget") { connection in
            let started = try await connection.first(
                """
                INSERT INTO rate_budgets AS b (account, tat) VALUES (\(account), \(now) + \(interval))
                ON CONFLICT (account) DO UPDATE
                SET tat = CASE WHEN b.tat > \(now) + \(window) THEN \(now)::double precision ELSE GREATEST(b.tat, \(now)) END + \(interval)
                WHERE b.tat <= \(now) + \(slack) OR b.tat > \(now) + \(window)
                RETURNING tat
                """, Double.self, logger: logger)
            if started != nil { return Duration.zero }
            let tat = try await connection.first("SELECT tat FROM rate_budgets WHERE account = \(account)", Double.self, logger: logger)
            return RateCell.waiting(seconds: (tat ?? now) - now)
        }
    }
}
