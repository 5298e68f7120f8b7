public import Foundation
import PostgresNIO
import RetentionCore
public import RetentionStore

/// Approvals by operators (the four-eyes rule) and rejections of approval batches, as the SQLite
/// store keeps them (`ApprovalDecision` decides; this writes).
extension PostgresStateStore {
    public func approve(batch id: String, as approver: Approver, twoPersonAbove: Int?, at: Date) async throws -> ApprovalBatch {
        try await transaction("approve a batch") { connection in
            let current = try ApprovalDecision.requireOpen(try await lockedBatch(connection, id))
            let decision = try ApprovalDecision.approve(current, as: approver, twoPersonAbove: twoPersonAbove)
            // Sign-offs given at another size no longer count: the batch changed since.
            try await connection.query(
                """
                DELETE FROM approval_signoffs
                WHERE batch = \(id) AND (operations <> \(Int64(current.operationCount)) OR missing <> \(Int64(current.missingRecords)))
                """, logger: logger)
            if let name = approver.operatorName {
                try await connection.query(
                    """
                    INSERT INTO approval_signoffs (batch, operator, recorded_as, signed_at, operations, missing)
                    VALUES (\(id), \(name), \(approver.recordedAs), \(at.timeIntervalSince1970), \(Int64(current.operationCount)),
                        \(Int64(current.missingRecords)))
                    ON CONFLICT (batch, operator) DO UPDATE SET recorded_as = excluded.recorded_as, signed_at = excluded.signed_at
                    """, logger: logger)
            }
            guard decision.approvers.count >= decision.required else {
                try await appendAudit(connection, [AuditDraft(at: at, event: "approval.signed", connector: current.connector, detail: decision.detail)])
                return try await lockedBatch(connection, id)
            }
            try await connection.query(
                """
                UPDATE approval_batches SET status = 'approved', approved_at = \(at.timeIntervalSince1970),
                    approved_by = \(decision.approvers.joined(separator: ", ")) WHERE id = \(id)
                """, logger: logger)
            try await connection.query(
                """
                UPDATE outbox SET status = 'pending', updated_at = \(Date().timeIntervalSince1970)
                WHERE batch = \(id) AND status = 'awaiting-approval'
                """, logger: logger)
            try await appendAudit(connection, [AuditDraft(at: at, event: "approval.granted", connector: current.connector, detail: decision.detail)])
            return try await lockedBatch(connection, id)
        }
    }

    public func reject(batch id: String, by rejecter: String, reason: String, at: Date) async throws -> ApprovalBatch {
        let reason = try ApprovalDecision.rejectionReason(reason)
        return try await transaction("reject a batch") { connection in
            let current = try ApprovalDecision.requireOpen(try await lockedBatch(connection, id))
            let rows = try await connection.query(
                """
                WITH cancelled AS (
                    UPDATE outbox SET status = 'cancelled', last_error = 'approval batch rejected', updated_at = \(Date().timeIntervalSince1970)
                    WHERE batch = \(id) AND status = 'awaiting-approval' RETURNING id, ref, kind, rule, rkey, position)
                SELECT id, ref, kind, rule, rkey FROM cancelled ORDER BY position
                """, logger: logger)
            var audit: [AuditDraft] = []
            var keys: [Int64] = []
            for try await (operation, reference, kind, rule, key) in rows.decode((String, String, String, String, Int64?).self) {
                audit.append(AuditDraft(at: at, event: "operation.cancelled", connector: current.connector, reference: reference, rule: rule,
                                        operation: operation, detail: ["kind": kind, "reason": "approval batch rejected", "batch": id]))
                if kind == OperationKind.delete.rawValue, let key { keys.append(key) }
            }
            let cancelled = audit.count
            // The records of its deletes go back to the phase they had before the safety hold, and are
            // evaluated again at the next sync.
            if !keys.isEmpty {
                let back = try await connection.query(
                    """
                    UPDATE record_state r SET phase = \(RecordPhase.expiring.rawValue), next_due = 0
                    FROM UNNEST(\(keys)) WITH ORDINALITY AS u(key, n)
                    WHERE r.key = u.key AND r.phase = \(RecordPhase.awaitingApproval.rawValue) AND r.record_id IS NOT NULL
                    RETURNING u.n, r.ref
                    """, logger: logger)
                var references: [(Int64, String)] = []
                for try await row in back.decode((Int64, String).self) { references.append(row) }
                for (_, reference) in references.sorted(by: { $0.0 < $1.0 }) {
                    audit.append(AuditDraft(at: at, event: "record.\(RecordPhase.expiring.rawValue)", connector: current.connector, reference: reference))
                }
            }
            try await connection.query("DELETE FROM missing_records WHERE batch = \(id)", logger: logger)
            try await connection.query(
                """
                UPDATE approval_batches SET status = 'rejected', rejected_at = \(at.timeIntervalSince1970), rejected_by = \(rejecter),
                    rejection_reason = \(reason) WHERE id = \(id)
                """, logger: logger)
            audit.append(AuditDraft(
                at: at, event: "approval.rejected", connector: current.connector,
                detail: ["batch": id, "operator": rejecter, "reason": reason, "operations": String(cancelled),
                         "missingRecords": String(current.missingRecords)]))
            try await appendAudit(connection, audit)
            return try await lockedBatch(connection, id)
        }
    }

    /// The batch, its row locked until the transaction ends; throws `approval.unknown_batch`.
    func lockedBatch(_ connection: PostgresConnection, _ id: String) async throws -> ApprovalBatch {
        try await connection.query("SELECT 1 FROM approval_batches WHERE id = \(id) FOR UPDATE", logger: logger)
        guard let batch = try await batches(connection, "SELECT \(unescaped: Self.batchColumns) FROM approval_batches b WHERE b.id = \(id)").first else {
            throw StoreError(code: "approval.unknown_batch", message: "no approval batch '\(id)'")
        }
        return batch
    }

    /// A batch's sign-offs, oldest first; with `operations`, only those given at that size.
    func signoffs(_ connection: PostgresConnection, batch id: String, operations: Int?, missing: Int) async throws -> [ApprovalSignoff] {
        var found: [ApprovalSignoff] = []
        let rows = try await connection.query(
            """
            SELECT operator, recorded_as, signed_at FROM approval_signoffs
            WHERE batch = \(id) AND (\(operations.map(Int64.init))::bigint IS NULL OR (operations = \(operations.map(Int64.init)) AND missing = \(Int64(missing))))
            ORDER BY signed_at, seq
            """, logger: logger)
        for try await (name, recordedAs, at) in rows.decode((String, String, Double).self) {
            found.append(ApprovalSignoff(operatorName: name, recordedAs: recordedAs, at: Date(timeIntervalSince1970: at)))
        }
        return found
    }
}
