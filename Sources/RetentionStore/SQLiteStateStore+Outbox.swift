public import Foundation
import GRDB
public import RetentionCore

extension SQLiteStateStore {
    public func commit(_ changes: [RecordChange], audit: [AuditDraft]) async throws {
        try await queue.write { db in try Self.commit(db, changes, audit: audit) }
    }

    /// State changes, their operations and audit entries, inside the caller's transaction.
    static func commit(_ db: Database, _ changes: [RecordChange], audit: [AuditDraft]) throws {
        do {
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
            let reappeared = try db.cachedStatement(sql: "UPDATE records SET reappeared = reappeared + 1 WHERE connector = ? AND ref = ?")
            for draft in audit where draft.event == "fields.reappeared" {
                try reappeared.execute(arguments: [draft.connector, draft.reference])
            }
            for change in changes {
                try update.execute(arguments: [
                    change.state.phase.rawValue, StoreCodec.encode(state: change.state),
                    change.state.finalExpiry?.timeIntervalSince1970, now, change.connector, change.reference,
                ])
                for operation in change.operations {
                    try insert.execute(arguments: [
                        operation.id, operation.connector, operation.reference, operation.recordID,
                        operation.kind.rawValue, operation.rule, operation.cycle.timeIntervalSince1970,
                        StoreCodec.encode(erased: operation.fields), operation.status.rawValue, operation.batch,
                        operation.createdAt.timeIntervalSince1970, now,
                    ])
                    if db.changesCount > 0 {
                        entries.append(
                            AuditDraft(
                                at: operation.createdAt, event: "operation.queued", connector: operation.connector,
                                reference: operation.reference, rule: operation.rule, operation: operation.id,
                                detail: Self.queuedDetail(operation)
                            )
                        )
                    }
                }
            }
            try Self.appendAudit(db, entries)
        }
    }

    private static func queuedDetail(_ operation: OutboxOperation) -> [String: String] {
        var detail = ["kind": operation.kind.rawValue, "status": operation.status.rawValue, "cycle": StoreCoding.timestamp(operation.cycle)]
        if let batch = operation.batch { detail["batch"] = batch }
        return detail
    }

    public func operations(connector: String, statuses: Set<OperationStatus>) async throws -> [OutboxOperation] {
        let list = statuses.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")
        return try await queue.read { db in
            var operations: [OutboxOperation] = []
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT \(Self.operationColumns) FROM outbox WHERE connector = ? AND status IN (\(list)) ORDER BY created_at, rowid",
                arguments: [connector]
            )
            while let row = try rows.next() { operations.append(try Self.operation(row)) }
            return operations
        }
    }

    public func operation(id: String) async throws -> OutboxOperation? {
        try await queue.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.operationColumns) FROM outbox WHERE id = ?", arguments: [id]).map(Self.operation)
        }
    }

    public func operationStatuses(_ ids: [String]) async throws -> [String: OperationStatus] {
        guard !ids.isEmpty else { return [:] }
        return try await queue.read { db in
            var found: [String: OperationStatus] = [:]
            let statement = try db.cachedStatement(sql: "SELECT status FROM outbox WHERE id = ?")
            for id in ids {
                if let status = try String.fetchOne(statement, arguments: [id]).flatMap(OperationStatus.init(rawValue:)) { found[id] = status }
            }
            return found
        }
    }

    public func complete(_ completions: [OperationCompletion]) async throws {
        guard !completions.isEmpty else { return }
        try await queue.write { db in
            var audit: [AuditDraft] = []
            for completion in completions { try Self.complete(db, completion, audit: &audit) }
            try Self.appendAudit(db, audit)
        }
    }

    /// Applies one completion; its audit entries (and those of what it cancels) are added to `audit`,
    /// which the caller appends in the same transaction.
    static func complete(_ db: Database, _ completion: OperationCompletion, audit: inout [AuditDraft]) throws {
        let update = try db.cachedStatement(
            sql: """
                UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,
                    receipt = COALESCE(?, receipt), updated_at = ? WHERE id = ? RETURNING connector, ref
                """
        )
        let updated = try Row.fetchOne(update, arguments: [
            completion.status.rawValue, completion.attempts, completion.nextAttemptAt?.timeIntervalSince1970,
            completion.error, completion.receipt, Date().timeIntervalSince1970, completion.operationID,
        ])
        guard let row = updated else {
            throw StoreError(code: "store.unknown_operation", message: "no operation \(completion.operationID)")
        }
        let connector: String = row[0]
        let reference: String = row[1]
        audit.append(contentsOf: completion.audit)
        switch completion.effect {
        case .none:
            break
        case .tombstone(let phase):
            let pending = try String.fetchAll(
                try db.cachedStatement(
                    sql: """
                        SELECT id FROM outbox WHERE connector = ? AND ref = ? AND status IN ('pending', 'awaiting-approval')
                        AND id <> ?
                        """
                ),
                arguments: [connector, reference, completion.operationID]
            )
            try Self.tombstone(db, connector: connector, reference: reference, phase: phase)
            let at = completion.audit.first?.at ?? Date()
            for id in pending {
                audit.append(
                    AuditDraft(at: at, event: "operation.cancelled", connector: connector,
                               reference: reference, operation: id, detail: ["reason": "record destroyed"])
                )
            }
        case .fieldsChanged(let changes):
            let read = try db.cachedStatement(sql: "SELECT fields, state FROM records WHERE connector = ? AND ref = ?")
            if let row = try Row.fetchOne(read, arguments: [connector, reference]), let data = row[0] as Data? {
                var fields = try StoreCodec.decodeFields(data)
                for change in changes { fields[change.field] = change.value }
                try db.cachedStatement(sql: "UPDATE records SET fields = ? WHERE connector = ? AND ref = ?")
                    .execute(arguments: [StoreCodec.encode(fields: fields), connector, reference])
                // A consent value Lethe wrote is not a change made in the source: the state's last-seen
                // copy follows the mirror.
                if let stateData = row[1] as Data?, case var state = try StoreCodec.decodeState(stateData),
                    changes.contains(where: { state.consentSeen[$0.field] != nil })
                {
                    for change in changes where state.consentSeen[change.field] != nil {
                        state.consentSeen[change.field] = ConsentValue.parse(change.value) ?? false
                    }
                    try db.cachedStatement(sql: "UPDATE records SET state = ? WHERE connector = ? AND ref = ?")
                        .execute(arguments: [StoreCodec.encode(state: state), connector, reference])
                }
            }
        }
    }

    /// The columns `operation(_:)` reads, in its order.
    static let operationColumns = """
        id, connector, ref, record_id, kind, rule, cycle, fields, status, attempts, next_attempt_at, last_error, batch,
        receipt, created_at
        """

    static func operation(_ row: Row) throws -> OutboxOperation {
        OutboxOperation(
            id: row[0],
            connector: row[1],
            reference: row[2],
            recordID: row[3],
            kind: OperationKind(rawValue: row[4]) ?? .delete,
            rule: row[5],
            cycle: Date(timeIntervalSince1970: row[6]),
            fields: try (row[7] as Data?).map(StoreCodec.decodeErased) ?? [],
            status: OperationStatus(rawValue: row[8]) ?? .pending,
            attempts: row[9],
            nextAttemptAt: (row[10] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row[11],
            batch: row[12],
            receipt: row[13],
            createdAt: Date(timeIntervalSince1970: row[14])
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
                           detail: ["batch": id, "operator": approver, "operations": String(batch.operationCount),
                                    "missingRecords": String(batch.missingRecords)])
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
            operationCount: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE batch = ?", arguments: [id]) ?? 0,
            missingRecords: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM disappearances WHERE batch = ?", arguments: [id]) ?? 0
        )
    }
}
