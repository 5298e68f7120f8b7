public import Foundation
import GRDB
public import RetentionCore

extension SQLiteStateStore {
    public func commit(_ changes: [RecordChange], audit: [AuditDraft]) async throws {
        try await queue.write { db in
            let update = try db.cachedStatement(
                sql: "UPDATE records SET phase = ?, state = ?, final_expiry = ?, updated_at = ? WHERE connector = ? AND ref = ?"
            )
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO outbox (id, connector, ref, record_id, kind, rule, cycle, fields, status,
                        attempts, next_attempt_at, batch, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET
                        status = excluded.status, batch = excluded.batch, record_id = excluded.record_id,
                        fields = excluded.fields, attempts = 0, next_attempt_at = NULL, last_error = NULL,
                        updated_at = excluded.updated_at
                    WHERE outbox.status = 'cancelled'
                    """
            )
            var entries: [AuditDraft] = audit
            let now = Date().timeIntervalSince1970
            for change in changes {
                try update.execute(arguments: [
                    change.state.phase.rawValue, try StoreCoding.encode(change.state),
                    change.state.finalExpiry?.timeIntervalSince1970, now, change.connector, change.reference,
                ])
                for operation in change.operations {
                    try insert.execute(arguments: [
                        operation.id, operation.connector, operation.reference, operation.recordID,
                        operation.kind.rawValue, operation.rule, operation.cycle.timeIntervalSince1970,
                        try StoreCoding.encode(operation.fields), operation.status.rawValue, operation.batch,
                        operation.createdAt.timeIntervalSince1970, now,
                    ])
                    if db.changesCount > 0 {
                        entries.append(
                            AuditDraft(
                                at: operation.createdAt, event: "operation.queued", connector: operation.connector,
                                reference: operation.reference, rule: operation.rule, operation: operation.id,
                                detail: ["kind": operation.kind.rawValue, "status": operation.status.rawValue,
                                         "cycle": StoreCoding.timestamp(operation.cycle)]
                                    .merging(operation.batch.map { ["batch": $0] } ?? [:]) { $1 }
                            )
                        )
                    }
                }
            }
            try Self.appendAudit(db, entries)
        }
    }

    public func operations(connector: String, statuses: Set<OperationStatus>) async throws -> [OutboxOperation] {
        let list = statuses.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")
        return try await queue.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM outbox WHERE connector = ? AND status IN (\(list)) ORDER BY created_at, id",
                arguments: [connector]
            ).map(Self.operation)
        }
    }

    public func operation(id: String) async throws -> OutboxOperation? {
        try await queue.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE id = ?", arguments: [id]).map(Self.operation)
        }
    }

    public func existingOperationIDs(_ ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await queue.read { db in
            var found: Set<String> = []
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM outbox WHERE id = ? AND status <> 'cancelled'")
            for id in ids where try Bool.fetchOne(statement, arguments: [id]) != nil {
                found.insert(id)
            }
            return found
        }
    }

    public func complete(_ completions: [OperationCompletion]) async throws {
        guard !completions.isEmpty else { return }
        try await queue.write { db in
            for completion in completions { try Self.complete(db, completion) }
        }
    }

    static func complete(_ db: Database, _ completion: OperationCompletion) throws {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE id = ?", arguments: [completion.operationID]) else {
            throw StoreError(code: "store.unknown_operation", message: "no operation \(completion.operationID)")
        }
        let operation = try Self.operation(row)
        try db.execute(
            sql: """
                UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,
                    receipt = COALESCE(?, receipt), updated_at = ? WHERE id = ?
                """,
            arguments: [
                completion.status.rawValue, completion.attempts, completion.nextAttemptAt?.timeIntervalSince1970,
                completion.error, completion.receipt, Date().timeIntervalSince1970, completion.operationID,
            ]
        )
        var audit = completion.audit
        switch completion.effect {
        case .none:
            break
        case .tombstone(let phase):
            let pending = try String.fetchAll(
                db,
                sql: "SELECT id FROM outbox WHERE connector = ? AND ref = ? AND status IN ('pending', 'awaiting-approval') AND id <> ?",
                arguments: [operation.connector, operation.reference, operation.id]
            )
            try Self.tombstone(db, connector: operation.connector, reference: operation.reference, phase: phase)
            let at = completion.audit.first?.at ?? Date()
            for id in pending {
                audit.append(
                    AuditDraft(at: at, event: "operation.cancelled", connector: operation.connector,
                               reference: operation.reference, operation: id, detail: ["reason": "record destroyed"])
                )
            }
        case .fieldsChanged(let changes):
            if let json = try String.fetchOne(
                db, sql: "SELECT fields FROM records WHERE connector = ? AND ref = ?",
                arguments: [operation.connector, operation.reference]
            ), var record = try StoreCoding.decode(SourceRecord.self, json) {
                for change in changes { record.fields[change.field] = change.value }
                try db.execute(
                    sql: "UPDATE records SET fields = ? WHERE connector = ? AND ref = ?",
                    arguments: [try StoreCoding.encode(record), operation.connector, operation.reference]
                )
            }
        }
        try Self.appendAudit(db, audit)
    }

    static func operation(_ row: Row) throws -> OutboxOperation {
        OutboxOperation(
            id: row["id"],
            connector: row["connector"],
            reference: row["ref"],
            recordID: row["record_id"],
            kind: OperationKind(rawValue: row["kind"]) ?? .delete,
            rule: row["rule"],
            cycle: Date(timeIntervalSince1970: row["cycle"]),
            fields: try StoreCoding.decode([ErasedField].self, row["fields"]) ?? [],
            status: OperationStatus(rawValue: row["status"]) ?? .pending,
            attempts: row["attempts"],
            nextAttemptAt: (row["next_attempt_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row["last_error"],
            batch: row["batch"],
            receipt: row["receipt"],
            createdAt: Date(timeIntervalSince1970: row["created_at"])
        )
    }

    // MARK: Approvals

    public func openApprovalBatch(connector: String) async throws -> ApprovalBatch? {
        try await queue.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM approval_batches WHERE connector = ? AND status = 'open' ORDER BY created_at LIMIT 1",
                arguments: [connector]
            ).map { try Self.batch(db, $0) }
        }
    }

    public func createApprovalBatch(connector: String, at: Date) async throws -> ApprovalBatch {
        try await queue.write { db in
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM approval_batches WHERE connector = ?", arguments: [connector]) ?? 0
            let id = "\(connector)-\(count + 1)"
            try db.execute(
                sql: "INSERT INTO approval_batches (id, connector, status, created_at) VALUES (?, ?, 'open', ?)",
                arguments: [id, connector, at.timeIntervalSince1970]
            )
            try Self.appendAudit(db, [AuditDraft(at: at, event: "approval.requested", connector: connector, detail: ["batch": id])])
            return ApprovalBatch(id: id, connector: connector, status: .open, createdAt: at, approvedAt: nil, approvedBy: nil, operationCount: 0)
        }
    }

    public func approve(batch id: String, by approver: String, at: Date) async throws -> ApprovalBatch {
        try await queue.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM approval_batches WHERE id = ?", arguments: [id]) else {
                throw StoreError(code: "approval.unknown_batch", message: "no approval batch '\(id)'")
            }
            guard row["status"] as String == "open" else {
                throw StoreError(code: "approval.not_open", message: "approval batch '\(id)' was already approved")
            }
            try db.execute(
                sql: "UPDATE approval_batches SET status = 'approved', approved_at = ?, approved_by = ? WHERE id = ?",
                arguments: [at.timeIntervalSince1970, approver, id]
            )
            try db.execute(
                sql: "UPDATE outbox SET status = 'pending', updated_at = ? WHERE batch = ? AND status = 'awaiting-approval'",
                arguments: [Date().timeIntervalSince1970, id]
            )
            let batch = try Self.batch(db, try Row.fetchOne(db, sql: "SELECT * FROM approval_batches WHERE id = ?", arguments: [id])!)
            try Self.appendAudit(db, [
                AuditDraft(at: at, event: "approval.granted", connector: batch.connector,
                           detail: ["batch": id, "operator": approver, "operations": String(batch.operationCount)])
            ])
            return batch
        }
    }

    public func retryDead(ids: [String]?, by approver: String, at: Date) async throws -> [String] {
        try await queue.write { db in
            var dead = try String.fetchAll(db, sql: "SELECT id FROM outbox WHERE status = 'dead' ORDER BY id")
            if let ids { dead = dead.filter(ids.contains) }
            for id in dead {
                try db.execute(
                    sql: "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = ? WHERE id = ?",
                    arguments: [Date().timeIntervalSince1970, id]
                )
            }
            try Self.appendAudit(db, dead.map { AuditDraft(at: at, event: "operation.retried", operation: $0, detail: ["operator": approver]) })
            return dead
        }
    }

    public func approvalBatches() async throws -> [ApprovalBatch] {
        try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approval_batches ORDER BY created_at").map { try Self.batch(db, $0) }
        }
    }

    static func batch(_ db: Database, _ row: Row) throws -> ApprovalBatch {
        let id: String = row["id"]
        return ApprovalBatch(
            id: id,
            connector: row["connector"],
            status: ApprovalBatch.Status(rawValue: row["status"]) ?? .open,
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            approvedAt: (row["approved_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            approvedBy: row["approved_by"],
            operationCount: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE batch = ?", arguments: [id]) ?? 0
        )
    }
}
