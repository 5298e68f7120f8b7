public import Foundation
import GRDB

/// Operator alert marks (`AlertStore`) in `alert_marks`.
extension SQLiteStateStore {
    public func alertMarks() async throws -> [AlertMark] {
        try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT key, state, claimant, claimed_at, sent_at FROM alert_marks ORDER BY key").map { row in
                AlertMark(
                    key: row["key"], state: AlertMark.State(rawValue: row["state"]) ?? .claimed, claimant: row["claimant"],
                    claimedAt: Date(timeIntervalSince1970: row["claimed_at"]),
                    sentAt: (row["sent_at"] as Double?).map { Date(timeIntervalSince1970: $0) })
            }
        }
    }

    public func claimAlerts(_ keys: [String], claimant: String, at: Date, staleBefore: Date) async throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        return try await queue.write { db in
            var claimed: Set<String> = []
            for key in Set(keys).sorted() {
                try db.execute(
                    sql: """
                        INSERT INTO alert_marks (key, state, claimant, claimed_at) VALUES (?, 'claimed', ?, ?)
                        ON CONFLICT (key) DO UPDATE SET claimant = excluded.claimant, claimed_at = excluded.claimed_at
                        WHERE alert_marks.state = 'claimed' AND alert_marks.claimed_at < ?
                        """,
                    arguments: [key, claimant, at.timeIntervalSince1970, staleBefore.timeIntervalSince1970])
                if db.changesCount > 0 { claimed.insert(key) }
            }
            return claimed
        }
    }

    public func markAlertsSent(_ keys: [String], claimant: String, at: Date, audit: [AuditDraft]) async throws {
        try await queue.write { db in
            for key in Set(keys).sorted() {
                try db.execute(
                    sql: "UPDATE alert_marks SET state = 'sent', sent_at = ? WHERE key = ? AND claimant = ? AND state = 'claimed'",
                    arguments: [at.timeIntervalSince1970, key, claimant])
            }
            try Self.appendAudit(db, audit)
        }
    }

    public func releaseAlerts(_ keys: [String], claimant: String) async throws {
        guard !keys.isEmpty else { return }
        try await queue.write { db in
            for key in Set(keys).sorted() {
                try db.execute(
                    sql: "DELETE FROM alert_marks WHERE key = ? AND claimant = ? AND state = 'claimed'", arguments: [key, claimant])
            }
        }
    }

    public func forgetAlerts(_ keys: [String], staleBefore: Date) async throws {
        guard !keys.isEmpty else { return }
        try await queue.write { db in
            for key in Set(keys).sorted() {
                try db.execute(
                    sql: "DELETE FROM alert_marks WHERE key = ? AND (state = 'sent' OR claimed_at < ?)",
                    arguments: [key, staleBefore.timeIntervalSince1970])
            }
        }
    }
}
