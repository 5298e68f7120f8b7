public import Foundation
import GRDB

/// Claims on pending operations (`OutboxClaimStore`) in `outbox_claims`: one `BEGIN IMMEDIATE`
/// transaction of one statement per page, so processes sharing the file take turns and each claim
/// sees the ones before it.
extension SQLiteStateStore {
    public func claim(connector: String, positions: [Int64], by claimant: String, until: Date, now: Date) async throws -> Set<Int64> {
        guard !positions.isEmpty else { return [] }
        // The positions travel as one JSON array (one statement, however many).
        let list = "[" + positions.map(String.init).joined(separator: ",") + "]"
        return try await claimWrite { db in
            let claim = try RawStatement(
                db,
                sql: """
                    INSERT INTO outbox_claims (position, connector, claimed_by, claimed_until)
                    SELECT rowid, connector, ?, ? FROM outbox
                    WHERE rowid IN (SELECT value FROM json_each(?)) AND connector = ? AND status = 'pending'
                    ON CONFLICT (position) DO UPDATE
                    SET connector = excluded.connector, claimed_by = excluded.claimed_by, claimed_until = excluded.claimed_until
                    WHERE outbox_claims.claimed_until < ? OR outbox_claims.claimed_by = ?
                    RETURNING position
                    """)
            return Set(try claim.bind(claimant).bind(until.timeIntervalSince1970).bind(list).bind(connector)
                .bind(now.timeIntervalSince1970).bind(claimant)
                .all { handle in RawStatement.int64(handle, 0) ?? 0 })
        }
    }

    public func releaseClaims(connector: String, by claimant: String, now: Date) async throws -> Int {
        try await claimWrite { db in
            try db.execute(
                sql: "DELETE FROM outbox_claims WHERE (connector = ? AND claimed_by = ?) OR claimed_until < ?",
                arguments: [connector, claimant, now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func claimants(connector: String, now: Date) async throws -> Set<String> {
        try await queue.read { db in
            Set(try String.fetchAll(
                db, sql: "SELECT DISTINCT claimed_by FROM outbox_claims WHERE connector = ? AND claimed_until >= ?",
                arguments: [connector, now.timeIntervalSince1970]))
        }
    }

    /// One immediate transaction that need not wait for the disk: a claim lost with a power cut is
    /// only a claim (the executor's durability barrier follows it before anything is acted on).
    private func claimWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            guard let result else { throw StoreError(code: "store.write", message: "the transaction returned nothing") }
            return result
        }
    }
}
