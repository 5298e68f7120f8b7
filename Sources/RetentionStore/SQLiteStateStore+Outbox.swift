public import Foundation
import GRDB
import GRDBSQLite
import RetentionCore

extension SQLiteStateStore {
    /// Queues operations inside the caller's transaction: an id that exists changes nothing, unless it
    /// was cancelled (a later decision revives it). Staged operations get their audit entries when
    /// they are released; the others at once.
    static func queue(_ db: Database, _ operations: [OutboxOperation], audit: inout [AuditDraft], using prepared: RawStatement? = nil) throws {
        let insert = try prepared ?? queueStatement(db)
        let now = Date().timeIntervalSince1970
        for operation in operations {
            let changed = try insert.bind(operation.id).bind(operation.connector).bind(operation.reference).bind(operation.recordID)
                .bind(operation.kind.rawValue).bind(operation.rule).bind(operation.cycle.timeIntervalSince1970)
                .bind(StoreCodec.encode(erased: operation.fields)).bind(operation.status.rawValue).bind(operation.batch)
                .bind(operation.createdAt.timeIntervalSince1970).bind(now).bind(operation.recordKey)
                .run()
            if changed > 0, operation.status != .staged {
                audit.append(
                    AuditDraft(
                        at: operation.createdAt, event: "operation.queued", connector: operation.connector,
                        reference: operation.reference, rule: operation.rule, operation: operation.id,
                        detail: StoreText.queuedDetail(operation)
                    )
                )
            }
        }
    }

    /// Queues an operation unless it is already queued, done or dead (a cancelled one is queued again).
    static func queueStatement(_ db: Database) throws -> RawStatement {
        try RawStatement(
            db,
            sql: """
                INSERT INTO outbox (id, connector, ref, record_id, kind, rule, cycle, fields, status,
                    attempts, next_attempt_at, batch, created_at, updated_at, rkey)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET
                    status = excluded.status, batch = excluded.batch, record_id = excluded.record_id,
                    fields = excluded.fields, attempts = 0, next_attempt_at = NULL, last_error = NULL,
                    updated_at = excluded.updated_at, rkey = excluded.rkey
                WHERE outbox.status = 'cancelled'
                """
        )
    }

    public func awaitingDeletes(connector: String) async throws -> (count: Int, batch: String?) {
        try await queue.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT COUNT(*), MIN(batch) FROM outbox WHERE connector = ? AND status = 'awaiting-approval' AND kind = 'delete'",
                arguments: [connector])
            return (row?[0] ?? 0, row?[1])
        }
    }

    public func stagedDeletes(connector: String) async throws -> Int {
        try await queue.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE connector = ? AND status = 'staged' AND kind = 'delete'", arguments: [connector]) ?? 0
        }
    }

    public func discardStaged(connector: String) async throws {
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE connector = ? AND status = 'staged'", arguments: [connector])
        }
    }

    /// Set-based: the records of the staged deletes take their phase (the `phase` column is the
    /// record's phase), then every staged operation gets its `operation.queued` entry (a few
    /// thousand per transaction) and its status. The records are updated in the table's order (by
    /// slot, not by key): each page is then written once, not once for every record on it.
    public func releaseStaged(connector: String, batch: String?, at: Date) async throws -> Int {
        let target: OperationStatus = batch == nil ? .pending : .awaitingApproval
        let phase: RecordPhase = batch == nil ? .expiring : .awaitingApproval
        let changed = try await bulk { db -> [String] in
            try String.fetchAll(
                db,
                sql: """
                    UPDATE record_state SET phase = ?
                    WHERE slot IN (
                        SELECT r.slot FROM outbox o JOIN record_state r ON r.key = o.rkey
                        WHERE o.connector = ? AND o.status = 'staged' AND o.kind = 'delete')
                        AND phase IS NOT ? RETURNING ref
                    """,
                arguments: [phase.rawValue, connector, phase.rawValue])
        }
        for start in stride(from: 0, to: changed.count, by: 10_000) {
            let references = changed[start..<min(start + 10_000, changed.count)]
            try await bulk { db in
                try Self.appendAudit(db, references.map { AuditDraft(at: at, event: "record.\(phase.rawValue)", connector: connector, reference: $0) })
            }
        }
        var released = 0
        // Set-based, in chunks: bounded memory and transactions, whatever the number of deletes.
        while true {
            let (count, deletes) = try await bulk { db -> (Int, Int) in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        UPDATE outbox SET status = ?, batch = ?, updated_at = ?
                        WHERE rowid IN (SELECT rowid FROM outbox WHERE connector = ? AND status = 'staged' ORDER BY rowid LIMIT 25000)
                        RETURNING id, ref, kind, rule, cycle, created_at, rowid
                        """,
                    arguments: [target.rawValue, batch, Date().timeIntervalSince1970, connector])
                var audit: [AuditDraft] = []
                audit.reserveCapacity(rows.count)
                var deletes = 0
                // RETURNING's order is SQLite's to choose; the log follows the queue's.
                for row in rows.sorted(by: { ($0[6] as Int64) < ($1[6] as Int64) }) {
                    let kind: String = row[2]
                    let detail = StoreText.queuedDetail(kind: kind, status: target, cycle: Date(timeIntervalSince1970: row[4]), batch: batch)
                    audit.append(
                        AuditDraft(at: Date(timeIntervalSince1970: row[5]), event: "operation.queued", connector: connector,
                                   reference: row[1], rule: row[3], operation: row[0], detail: detail))
                    if kind == OperationKind.delete.rawValue { deletes += 1 }
                }
                try Self.appendAudit(db, audit)
                return (rows.count, deletes)
            }
            released += deletes
            if count == 0 { return released }
        }
    }

    public func operations(connector: String, statuses: Set<OperationStatus>, after: Int64, limit: Int) async throws -> [OutboxOperation] {
        let list = statuses.map { "'\($0.rawValue)'" }.sorted().joined(separator: ",")
        return try await queue.read { db in
            var operations: [OutboxOperation] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT rowid, \(Self.operationColumns) FROM outbox WHERE connector = ? AND status IN (\(list)) AND rowid > ?
                    ORDER BY rowid LIMIT ?
                    """,
                arguments: [connector, after, limit]
            )
            while let row = try rows.next() {
                var operation = try Self.operation(row, offset: 1)
                operation.position = row[0]
                operations.append(operation)
            }
            return operations
        }
    }

    public func operation(id: String) async throws -> OutboxOperation? {
        try await queue.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.operationColumns) FROM outbox WHERE id = ?", arguments: [id]).map { try Self.operation($0) }
        }
    }

    public func operationStatuses(_ ids: [String]) async throws -> [String: OperationStatus] {
        guard !ids.isEmpty else { return [:] }
        return try await queue.read { db in
            var found: [String: OperationStatus] = [:]
            // A fresh state (a first sync's dry run asks about every decision) has nothing to look up.
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM outbox)") == true else { return found }
            let statement = try db.cachedStatement(sql: "SELECT status FROM outbox WHERE id = ?")
            for id in ids {
                if let status = try String.fetchOne(statement, arguments: [id]).flatMap(OperationStatus.init(rawValue:)) { found[id] = status }
            }
            return found
        }
    }

    /// Completions need not wait for the disk: redoing an operation after a power loss is idempotent.
    public func complete(_ completions: [OperationCompletion]) async throws {
        guard !completions.isEmpty else { return }
        try await bulk { db in
            var audit: [AuditDraft] = []
            let statements = try CompletionStatements(db)
            for completion in completions { try Self.complete(db, completion, audit: &audit, using: statements) }
            try Self.appendAudit(db, audit)
        }
    }

    /// The statements every completion runs, prepared once per transaction (a large run completes
    /// hundreds of thousands of operations).
    final class CompletionStatements {
        let done: RawStatement
        let others: RawStatement
        let exists: RawStatement
        let tombstone: TombstoneStatements

        init(_ db: Database) throws {
            // The operation that destroys its record forgets the record's id at once.
            done = try RawStatement(
                db,
                sql: """
                    UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?,
                        receipt = COALESCE(?, receipt), updated_at = ?, record_id = CASE WHEN ? THEN NULL ELSE record_id END
                    WHERE id = ? RETURNING connector, ref
                    """)
            // The record's other operations that a destruction changes: those still holding its id,
            // and those still to be done (cancelled); whether each is the latter.
            others = try RawStatement(
                db,
                sql: """
                    SELECT id, status IN ('pending', 'awaiting-approval', 'staged') FROM outbox
                    WHERE connector = ? AND ref = ? AND id <> ? AND (record_id IS NOT NULL OR status IN ('pending', 'awaiting-approval', 'staged'))
                    """)
            exists = try RawStatement(db, sql: "SELECT 1 FROM record_state WHERE key = ? AND connector = ? AND ref = ?")
            tombstone = try TombstoneStatements(db)
        }

        /// The key of the record with this reference (by the key the reference carries, else `legacy_refs`).
        func key(_ db: Database, connector: String, reference: String) throws -> Int64? {
            try SQLiteStateStore.key(db, reference: reference) { key in
                try exists.bind(key).bind(connector).bind(reference).first { _ in true } ?? false
            }
        }
    }

    /// Applies one completion; its audit entries (and those of what it cancels) are added to `audit`,
    /// which the caller appends in the same transaction.
    static func complete(_ db: Database, _ completion: OperationCompletion, audit: inout [AuditDraft], using statements: CompletionStatements) throws {
        let destroys = if case .tombstone = completion.effect { true } else { false }
        let updated = try statements.done
            .bind(completion.status.rawValue).bind(completion.attempts).bind(completion.nextAttemptAt?.timeIntervalSince1970)
            .bind(completion.error).bind(completion.receipt).bind(Date().timeIntervalSince1970).bind(destroys ? 1 : 0)
            .bind(completion.operationID)
            .first { handle in (RawStatement.text(handle, 0) ?? "", RawStatement.text(handle, 1) ?? "") }
        guard let (connector, reference) = updated else {
            throw StoreError(code: "store.unknown_operation", message: "no operation \(completion.operationID)")
        }
        audit.append(contentsOf: completion.audit)
        switch completion.effect {
        case .none:
            break
        case .tombstone(let phase):
            let others = try statements.others.bind(connector).bind(reference).bind(completion.operationID)
                .all { handle in (id: RawStatement.text(handle, 0) ?? "", pending: sqlite3_column_int(handle, 1) != 0) }
            if try !statements.tombstone.tombstone(connector: connector, reference: reference, phase: phase),
               let key = try statements.key(db, connector: connector, reference: reference) {
                try Self.tombstone(db, key: key, phase: phase, using: statements.tombstone, operations: false)
            }
            // Most destroyed records have no other operation: the outbox is touched only when one does.
            if !others.isEmpty { try statements.tombstone.forget(connector: connector, reference: reference) }
            let at = completion.audit.first?.at ?? Date()
            for id in others.filter(\.pending).map(\.id) {
                audit.append(
                    AuditDraft(at: at, event: "operation.cancelled", connector: connector,
                               reference: reference, operation: id, detail: ["reason": "record destroyed"])
                )
            }
        case .fieldsChanged(let changes, let facts):
            // The row changed: its digest no longer holds (the next pull reads it again). A destroyed
            // record (no source id) keeps what it has.
            let update = try db.cachedStatement(
                sql: """
                    UPDATE record_state SET facts = ?, digest = NULL
                    WHERE key = ? AND connector = ? AND ref = ? AND record_id IS NOT NULL RETURNING key, state, phase
                    """
            )
            let encoded = facts.map(StoreCodec.encode(facts:))
            func updated(_ key: Int64) throws -> Row? { try Row.fetchOne(update, arguments: [encoded, key, connector, reference]) }
            var found = try RecordFingerprints.key(ofReference: reference).flatMap(updated)
            if found == nil,
               let legacy = try Int64.fetchOne(db.cachedStatement(sql: "SELECT key FROM legacy_refs WHERE ref = ?"), arguments: [reference]) {
                found = try updated(legacy)
            }
            guard let found else { break }
            let key: Int64 = found[0]
            // A consent value Lethe wrote is not a change made in the source: the state's last-seen copy follows it.
            if var state = try (found[1] as Data?).map(StoreCodec.decodeState), changes.contains(where: { state.consentSeen[$0.field] != nil }) {
                // The phase column is the record's phase (set-based updates write only the column).
                if let phase = (found[2] as String?).flatMap(RecordPhase.init(rawValue:)) { state.phase = phase }
                for change in changes where state.consentSeen[change.field] != nil {
                    state.consentSeen[change.field] = ConsentValue.parse(change.value) ?? false
                }
                try db.cachedStatement(sql: "UPDATE record_state SET state = ? WHERE key = ?")
                    .execute(arguments: [StoreCodec.encode(state: state), key])
            }
        }
    }

    /// The columns `operation(_:)` reads, in its order.
    static let operationColumns = """
        id, connector, ref, record_id, kind, rule, cycle, fields, status, attempts, next_attempt_at, last_error, batch,
        receipt, created_at
        """

    static func operation(_ row: Row, offset: Int = 0) throws -> OutboxOperation {
        OutboxOperation(
            id: row[offset],
            connector: row[offset + 1],
            reference: row[offset + 2],
            recordID: row[offset + 3],
            kind: OperationKind(rawValue: row[offset + 4]) ?? .delete,
            rule: row[offset + 5],
            cycle: Date(timeIntervalSince1970: row[offset + 6]),
            fields: try (row[offset + 7] as Data?).map(StoreCodec.decodeErased) ?? [],
            status: OperationStatus(rawValue: row[offset + 8]) ?? .pending,
            attempts: row[offset + 9],
            nextAttemptAt: (row[offset + 10] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row[offset + 11],
            batch: row[offset + 12],
            receipt: row[offset + 13],
            createdAt: Date(timeIntervalSince1970: row[offset + 14])
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
        let counts = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(kind = 'delete'), 0) FROM outbox WHERE batch = ?", arguments: [id])
        let operations: Int = counts?[0] ?? 0
        let missing = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM missing_records WHERE batch = ?", arguments: [id]) ?? 0
        let status = ApprovalBatch.Status(rawValue: row["status"]) ?? .open
        return ApprovalBatch(
            id: id,
            connector: row["connector"],
            status: status,
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            approvedAt: (row["approved_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            approvedBy: row["approved_by"],
            operationCount: operations,
            missingRecords: missing,
            deletes: counts?[1] ?? 0,
            signoffs: try signoffs(db, batch: id, operations: status == .open ? operations : nil, missing: missing),
            rejectedAt: (row["rejected_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            rejectedBy: row["rejected_by"],
            rejectionReason: row["rejection_reason"]
        )
    }
}
