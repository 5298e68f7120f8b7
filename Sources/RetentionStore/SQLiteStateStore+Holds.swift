public import Foundation
import GRDB
import RetentionCore

extension SQLiteStateStore {
    public func addHold(connector: String, reference: String, reason: String, by holder: String, at: Date) async throws -> Bool {
        try await queue.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO holds (connector, ref, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [connector, reference, reason, holder, at.timeIntervalSince1970]
            )
            guard db.changesCount > 0 else { return false }
            try Self.makeDue(db, connector: connector, reference: reference)
            try Self.appendAudit(db, [
                AuditDraft(at: at, event: "hold.added", connector: connector, reference: reference, detail: ["operator": holder, "reason": reason])
            ])
            return true
        }
    }

    public func removeHold(connector: String, reference: String, reason: String, by holder: String, at: Date) async throws -> Bool {
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM holds WHERE connector = ? AND ref = ?", arguments: [connector, reference])
            guard db.changesCount > 0 else { return false }
            try Self.makeDue(db, connector: connector, reference: reference)
            try Self.appendAudit(db, [
                AuditDraft(at: at, event: "hold.removed", connector: connector, reference: reference, detail: StoreText.holdRemoved(by: holder, reason: reason))
            ])
            return true
        }
    }

    /// A hold placed or lifted changes the record's decision: it is evaluated at the next sync.
    static func makeDue(_ db: Database, connector: String, reference: String) throws {
        guard let key = try key(db, connector: connector, reference: reference) else { return }
        try db.execute(sql: "UPDATE record_state SET next_due = 0 WHERE key = ? AND record_id IS NOT NULL", arguments: [key])
    }

    public func holds(connector: String?) async throws -> [Hold] {
        try await queue.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM holds WHERE (? IS NULL OR connector = ?) ORDER BY connector, created_at",
                arguments: [connector, connector]
            ).map { row in
                Hold(connector: row["connector"], reference: row["ref"], reason: row["reason"], createdBy: row["created_by"],
                     createdAt: Date(timeIntervalSince1970: row["created_at"]))
            }
        }
    }

    public func heldReferences(connector: String) async throws -> Set<String> {
        try await queue.read { db in
            Set(try String.fetchAll(db, sql: "SELECT ref FROM holds WHERE connector = ?", arguments: [connector]))
        }
    }

    public func statusCounts() async throws -> StoreStatus {
        try await queue.read { db in
            var records: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT connector, COALESCE(phase, 'new') AS phase, COUNT(*) AS n FROM record_state GROUP BY 1, 2") {
                records[row["connector"], default: [:]][row["phase"]] = row["n"]
            }
            var operations: [String: [String: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT connector, kind, status, COUNT(*) AS n FROM outbox GROUP BY 1, 2, 3") {
                let key = "\(row["kind"] as String)/\(row["status"] as String)"
                operations[row["connector"], default: [:]][key] = row["n"]
            }
            let batches = try Row.fetchAll(db, sql: "SELECT * FROM approval_batches WHERE status = 'open'").map { try Self.batch(db, $0) }
            var reappeared: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT connector, SUM(reappeared) AS n FROM record_state WHERE reappeared > 0 GROUP BY 1") {
                reappeared[row["connector"]] = row["n"]
            }
            return StoreStatus(
                records: records,
                operations: operations,
                openBatches: batches,
                holds: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM holds") ?? 0,
                auditEntries: try Int64.fetchOne(db, sql: "SELECT seq FROM audit_head WHERE id = 1") ?? 0,
                reappeared: reappeared
            )
        }
    }

    public func overdueCount(connector: String, expiredBefore cutoff: Date) async throws -> Int {
        try await queue.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM record_state WHERE connector = ? AND record_id IS NOT NULL
                    AND phase IN ('active', 'expiring', 'awaiting-approval') AND final_expiry < ?
                    """,
                arguments: [connector, cutoff.timeIntervalSince1970]
            ) ?? 0
        }
    }
}
