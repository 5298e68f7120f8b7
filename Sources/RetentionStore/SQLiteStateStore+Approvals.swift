public import Foundation
import GRDB
import RetentionCore

/// Approvals by operators (the four-eyes rule) and rejections of approval batches.
extension SQLiteStateStore {
    public func approve(batch id: String, as approver: Approver, twoPersonAbove: Int?, at: Date) async throws -> ApprovalBatch {
        try await queue.write { db in
            let current = try Self.openBatch(db, id)
            let decision = try ApprovalDecision.approve(current, as: approver, twoPersonAbove: twoPersonAbove)
            // Sign-offs given at another size no longer count: the batch changed since.
            try db.execute(
                sql: "DELETE FROM approval_signoffs WHERE batch = ? AND (operations <> ? OR missing <> ?)",
                arguments: [id, current.operationCount, current.missingRecords])
            if let name = approver.operatorName {
                try db.execute(
                    sql: """
                        INSERT INTO approval_signoffs (batch, operator, recorded_as, signed_at, operations, missing) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (batch, operator) DO UPDATE SET recorded_as = excluded.recorded_as, signed_at = excluded.signed_at
                        """,
                    arguments: [id, name, approver.recordedAs, at.timeIntervalSince1970, current.operationCount, current.missingRecords])
            }
            guard decision.approvers.count >= decision.required else {
                try Self.appendAudit(db, [AuditDraft(at: at, event: "approval.signed", connector: current.connector, detail: decision.detail)])
                return try Self.batch(db, try Self.batchRow(db, id))
            }
            let names = decision.approvers.joined(separator: ", ")
            try db.execute(
                sql: "UPDATE approval_batches SET status = 'approved', approved_at = ?, approved_by = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, names, id])
            try db.execute(
                sql: "UPDATE outbox SET status = 'pending', updated_at = ? WHERE batch = ? AND status = 'awaiting-approval'",
                arguments: [Date().timeIntervalSince1970, id])
            try Self.appendAudit(db, [AuditDraft(at: at, event: "approval.granted", connector: current.connector, detail: decision.detail)])
            return try Self.batch(db, try Self.batchRow(db, id))
        }
    }

    public func reject(batch id: String, by rejecter: String, reason: String, at: Date) async throws -> ApprovalBatch {
        let reason = try ApprovalDecision.rejectionReason(reason)
        return try await queue.write { db in
            let current = try Self.openBatch(db, id)
            let cancelled = try Row.fetchAll(
                db,
                sql: """
                    UPDATE outbox SET status = 'cancelled', last_error = 'approval batch rejected', updated_at = ?
                    WHERE batch = ? AND status = 'awaiting-approval' RETURNING id, ref, kind, rule, rkey, rowid
                    """,
                arguments: [Date().timeIntervalSince1970, id]
            ).sorted { ($0[5] as Int64) < ($1[5] as Int64) }
            var audit: [AuditDraft] = cancelled.map { row in
                AuditDraft(at: at, event: "operation.cancelled", connector: current.connector, reference: row[1], rule: row[3], operation: row[0],
                           detail: ["kind": row[2], "reason": "approval batch rejected", "batch": id])
            }
            // The records of its deletes go back to the phase they had before the safety hold, and are
            // evaluated again at the next sync.
            let keys = cancelled.filter { ($0[2] as String) == OperationKind.delete.rawValue }.compactMap { $0[4] as Int64? }
            let back = try db.cachedStatement(
                sql: "UPDATE record_state SET phase = ?, next_due = 0 WHERE key = ? AND phase = ? AND record_id IS NOT NULL RETURNING ref")
            for key in keys {
                if let reference = try String.fetchOne(back, arguments: [RecordPhase.expiring.rawValue, key, RecordPhase.awaitingApproval.rawValue]) {
                    audit.append(AuditDraft(at: at, event: "record.\(RecordPhase.expiring.rawValue)", connector: current.connector, reference: reference))
                }
            }
            try db.execute(sql: "DELETE FROM missing_records WHERE batch = ?", arguments: [id])
            try db.execute(
                sql: "UPDATE approval_batches SET status = 'rejected', rejected_at = ?, rejected_by = ?, rejection_reason = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, rejecter, reason, id])
            audit.append(
                AuditDraft(at: at, event: "approval.rejected", connector: current.connector,
                           detail: ["batch": id, "operator": rejecter, "reason": reason, "operations": String(cancelled.count),
                                    "missingRecords": String(current.missingRecords)]))
            try Self.appendAudit(db, audit)
            return try Self.batch(db, try Self.batchRow(db, id))
        }
    }

    static func batchRow(_ db: Database, _ id: String) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM approval_batches WHERE id = ?", arguments: [id]) else {
            throw StoreError(code: "approval.unknown_batch", message: "no approval batch '\(id)'")
        }
        return row
    }

    /// The batch, when it exists and is open.
    static func openBatch(_ db: Database, _ id: String) throws -> ApprovalBatch {
        try ApprovalDecision.requireOpen(try batch(db, try batchRow(db, id)))
    }

    /// A batch's sign-offs, oldest first; with `operations`, only those given at that size.
    static func signoffs(_ db: Database, batch id: String, operations: Int?, missing: Int) throws -> [ApprovalSignoff] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT operator, recorded_as, signed_at FROM approval_signoffs
                WHERE batch = ? AND (? IS NULL OR (operations = ? AND missing = ?)) ORDER BY signed_at, rowid
                """,
            arguments: [id, operations, operations, missing]
        ).map { ApprovalSignoff(operatorName: $0[0], recordedAs: $0[1], at: Date(timeIntervalSince1970: $0[2])) }
    }
}
