public import Foundation
import PostgresNIO
import RetentionStore

/// Claims on pending operations (`OutboxClaimStore`) in `outbox_claims`: one statement per page. The
/// operations' rows are locked while the statement runs; rows another transaction holds (another
/// instance claiming or completing them) are skipped, never waited for. A claim is one small row of
/// its own (one index entry), not another version of the operation's row.
extension PostgresStateStore {
    public func claim(connector: String, positions: [Int64], by claimant: String, until: Date, now: Date) async throws -> Set<Int64> {
        guard !positions.isEmpty else { return [] }
        // The positions claimed come back as one array (one row, not one row each).
        return try await read("claim operations") { connection in
            Set(try await connection.first(
                """
                WITH due AS (
                    SELECT position FROM outbox WHERE position = ANY(\(positions)) AND connector = \(connector) AND status = 'pending'
                    FOR UPDATE SKIP LOCKED),
                claimed AS (
                    INSERT INTO outbox_claims AS k (position, connector, claimed_by, claimed_until)
                    SELECT position, \(connector), \(claimant), \(until.timeIntervalSince1970) FROM due
                    ON CONFLICT (position) DO UPDATE
                    SET connector = excluded.connector, claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until
                    WHERE k.claimed_until < \(now.timeIntervalSince1970) OR k.claimed_by = \(claimant)
                    RETURNING k.position)
                SELECT COALESCE(array_agg(position), '{}'::bigint[]) FROM claimed
                """, [Int64].self, logger: logger) ?? [])
        }
    }

    public func claimants(connector: String, now: Date) async throws -> Set<String> {
        try await read("read claimants") { connection in
            Set(try await connection.all(
                "SELECT DISTINCT claimed_by FROM outbox_claims WHERE connector = \(connector) AND claimed_until >= \(now.timeIntervalSince1970)",
                String.self, logger: logger))
        }
    }

    public func releaseClaims(connector: String, by claimant: String, now: Date) async throws -> Int {
        try await read("release claims") { connection in
            Int(try await connection.first(
                """
                WITH released AS (
                    DELETE FROM outbox_claims
                    WHERE (connector = \(connector) AND claimed_by = \(claimant)) OR claimed_until < \(now.timeIntervalSince1970)
                    RETURNING 1)
                SELECT COUNT(*) FROM released
                """, Int64.self, logger: logger) ?? 0)
        }
    }
}
