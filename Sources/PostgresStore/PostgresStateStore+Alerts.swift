public import Foundation
import PostgresNIO
public import RetentionStore

/// Operator alert marks (`AlertStore`) in `alert_marks`, as the SQLite store keeps them. A claim is one
/// `INSERT … ON CONFLICT` statement: of two instances claiming a key at once, the second waits for the
/// first's row and then finds it fresh, so only one gets it.
extension PostgresStateStore {
    public func alertMarks() async throws -> [AlertMark] {
        try await read("read the alert marks") { connection in
            var marks: [AlertMark] = []
            let rows = try await connection.query(
                "SELECT key, state, claimant, claimed_at, sent_at FROM alert_marks ORDER BY key COLLATE \"C\"", logger: logger)
            for try await (key, state, claimant, claimed, sent) in rows.decode((String, String, String, Double, Double?).self) {
                marks.append(AlertMark(
                    key: key, state: AlertMark.State(rawValue: state) ?? .claimed, claimant: claimant,
                    claimedAt: Date(timeIntervalSince1970: claimed), sentAt: sent.map { Date(timeIntervalSince1970: $0) }))
            }
            return marks
        }
    }

    public func claimAlerts(_ keys: [String], claimant: String, at: Date, staleBefore: Date) async throws -> Set<String> {
        let keys = Set(keys).sorted()
        guard !keys.isEmpty else { return [] }
        return try await read("claim alerts") { connection in
            Set(try await connection.all(
                """
                INSERT INTO alert_marks (key, state, claimant, claimed_at)
                SELECT k, 'claimed', \(claimant), \(at.timeIntervalSince1970) FROM UNNEST(\(keys)::text[]) AS k
                ON CONFLICT (key) DO UPDATE SET claimant = excluded.claimant, claimed_at = excluded.claimed_at
                WHERE alert_marks.state = 'claimed' AND alert_marks.claimed_at < \(staleBefore.timeIntervalSince1970)
                RETURNING key
                """, String.self, logger: logger))
        }
    }

    public func markAlertsSent(_ keys: [String], claimant: String, at: Date, audit: [AuditDraft]) async throws {
        let keys = Set(keys).sorted()
        try await transaction("mark alerts sent") { connection in
            try await connection.query(
                """
                UPDATE alert_marks SET state = 'sent', sent_at = \(at.timeIntervalSince1970)
                WHERE key = ANY(\(keys)) AND claimant = \(claimant) AND state = 'claimed'
                """, logger: logger)
            try await appendAudit(connection, audit)
        }
    }

    public func releaseAlerts(_ keys: [String], claimant: String) async throws {
        let keys = Set(keys).sorted()
        guard !keys.isEmpty else { return }
        try await read("release alert claims") { connection in
            try await connection.query(
                "DELETE FROM alert_marks WHERE key = ANY(\(keys)) AND claimant = \(claimant) AND state = 'claimed'", logger: logger)
        }
    }

    public func forgetAlerts(_ keys: [String], staleBefore: Date) async throws {
        let keys = Set(keys).sorted()
        guard !keys.isEmpty else { return }
        try await read("forget alert marks") { connection in
            try await connection.query(
                """
                DELETE FROM alert_marks
                WHERE key = ANY(\(keys)) AND (state = 'sent' OR claimed_at < \(staleBefore.timeIntervalSince1970))
                """, logger: logger)
        }
    }
}
