public import Foundation
import GRDB
import RetentionCore

/// The shared request budgets (`SharedRateBudget`) in `rate_budgets`: one `BEGIN IMMEDIATE`
/// transaction reads and advances an account's TAT, so processes sharing the file take turns.
extension SQLiteStateStore {
    public func reserve(account: String, requests: Int, per: Duration, at: Date) async throws -> Duration {
        let now = at.timeIntervalSince1970
        return try await queue.writeWithoutTransaction { db in
            var wait = Duration.zero
            try db.inTransaction(.immediate) {
                let tat = try Double.fetchOne(db, sql: "SELECT tat FROM rate_budgets WHERE account = ?", arguments: [account])
                switch RateCell.decide(tat: tat, now: now, requests: requests, per: per) {
                case .start(let next):
                    try db.execute(
                        sql: "INSERT INTO rate_budgets (account, tat) VALUES (?, ?) ON CONFLICT (account) DO UPDATE SET tat = excluded.tat",
                        arguments: [account, next])
                    return .commit
                case .wait(let duration):
                    wait = duration
                    return .rollback
                }
            }
            return wait
        }
    }
}
