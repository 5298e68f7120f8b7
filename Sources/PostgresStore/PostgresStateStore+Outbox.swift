public import Foundation
import NIOCore
import PostgresNIO
public import RetentionCore
public import RetentionStore

/// Operations queued by one write, in one multi-row statement. An id that exists changes nothing,
/// unless it was cancelled (a later decision revives it); staged operations get their audit entries
/// when they are released, the others at once — decided here, in order, as one statement each would.
struct OperationQueue {
    private var statuses: [String: String] = [:]
    private var operations: [OutboxOperation] = []
    private var index: [String: Int] = [:]

    init(_ connection: PostgresConnection, _ candidates: [OutboxOperation], logger: Logger) async throws {
        guard !candidates.isEmpty else { return }
        let ids = Array(Set(candidates.map(\.id)))
        let rows = try await connection.query("SELECT id, status FROM outbox WHERE id = ANY(\(ids))", logger: logger)
        for try await (id, status) in rows.decode((String, String).self) { statuses[id] = status }
    }

    mutating func queue(_ queued: [OutboxOperation], audit: inout [AuditDraft]) {
        for operation in queued {
            guard statuses[operation.id].map({ $0 == OperationStatus.cancelled.rawValue }) ?? true else { continue }
            statuses[operation.id] = operation.status.rawValue
            if let at = index[operation.id] {
                operations[at] = operation
            } else {
                index[operation.id] = operations.count
                operations.append(operation)
            }
            if operation.status != .staged {
                audit.append(AuditDraft(
                    at: operation.createdAt, event: "operation.queued", connector: operation.connector, reference: operation.reference,
                    rule: operation.rule, operation: operation.id, detail: StoreText.queuedDetail(operation)))
            }
        }
    }

    func write(_ connection: PostgresConnection, logger: Logger) async throws {
        guard !operations.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try await connection.query(
            """
            INSERT INTO outbox (id, connector, ref, record_id, kind, rule, cycle, fields, status, attempts, next_attempt_at, batch,
                created_at, updated_at, rkey)
            SELECT id, connector, ref, record_id, kind, rule, cycle, fields, status, 0, NULL, batch, created_at, \(now)::double precision, rkey
            FROM UNNEST(\(operations.map(\.id)), \(operations.map(\.connector)), \(operations.map(\.reference)),
                \(NullableArray(operations.map(\.recordID))), \(operations.map(\.kind.rawValue)), \(operations.map(\.rule)),
                \(operations.map(\.cycle.timeIntervalSince1970)), \(operations.map { StoreCodec.encode(erased: $0.fields).buffer }),
                \(operations.map(\.status.rawValue)), \(NullableArray(operations.map(\.batch))),
                \(operations.map(\.createdAt.timeIntervalSince1970)), \(NullableArray(operations.map(\.recordKey))))
                WITH ORDINALITY AS u(id, connector, ref, record_id, kind, rule, cycle, fields, status, batch, created_at, rkey, n)
            ORDER BY n
            ON CONFLICT (id) DO UPDATE SET
                status = excluded.status, batch = excluded.batch, record_id = excluded.record_id,
                fields = excluded.fields, attempts = 0, next_attempt_at = NULL, last_error = NULL,
                updated_at = excluded.updated_at, rkey = excluded.rkey
            WHERE outbox.status = 'cancelled'
            """, logger: logger)
    }
}

extension PostgresStateStore {
    public func awaitingDeletes(connector: String) async throws -> (count: Int, batch: String?) {
        try await read("count the deletes awaiting approval") { connection in
            let rows = try await connection.query(
                """
                SELECT COUNT(*), MIN(batch COLLATE "C") FROM outbox
                WHERE connector = \(connector) AND status = 'awaiting-approval' AND kind = 'delete'
                """, logger: logger)
            var result: (count: Int, batch: String?) = (0, nil)
            for try await (count, batch) in rows.decode((Int64, String?).self) { result = (Int(count), batch) }
            return result
        }
    }

    public func stagedDeletes(connector: String) async throws -> Int {
        try await read("count the staged deletes") { connection in
            Int(try await connection.first(
                "SELECT COUNT(*) FROM outbox WHERE connector = \(connector) AND status = 'staged' AND kind = 'delete'", Int64.self, logger: logger) ?? 0)
        }
    }

    public func discardStaged(connector: String) async throws {
        try await read("discard staged operations") { connection in
            try await connection.query("DELETE FROM outbox WHERE connector = \(connector) AND status = 'staged'", logger: logger)
        }
    }

    /// Set-based: the records of the staged deletes take their phase, then every staged operation gets
    /// its `operation.queued` entry and its status, 25,000 a transaction.
    public func releaseStaged(connector: String, batch: String?, at: Date) async throws -> Int {
        let target: OperationStatus = batch == nil ? .pending : .awaitingApproval
        let phase: RecordPhase = batch == nil ? .expiring : .awaitingApproval
        let changed = try await transaction("release staged operations", bulk: true) { connection in
            try await connection.all(
                """
                WITH changed AS (
                    UPDATE record_state SET phase = \(phase.rawValue)
                    WHERE key IN (SELECT rkey FROM outbox WHERE connector = \(connector) AND status = 'staged' AND kind = 'delete')
                        AND phase IS DISTINCT FROM \(phase.rawValue) RETURNING slot, ref)
                SELECT ref FROM changed ORDER BY slot
                """, String.self, logger: logger)
        }
        for start in stride(from: 0, to: changed.count, by: 10_000) {
            let references = Array(changed[start..<min(start + 10_000, changed.count)])
            try await transaction("release staged operations", bulk: true) { connection in
                try await appendAudit(connection, references.map { AuditDraft(at: at, event: "record.\(phase.rawValue)", connector: connector, reference: $0) })
            }
        }
        var released = 0
        while true {
            let (count, deletes) = try await transaction("release staged operations", bulk: true) { connection -> (Int, Int) in
                let rows = try await connection.query(
                    """
                    WITH released AS (
                        UPDATE outbox SET status = \(target.rawValue), batch = \(batch), updated_at = \(Date().timeIntervalSince1970)
                        WHERE position IN (SELECT position FROM outbox WHERE connector = \(connector) AND status = 'staged' ORDER BY position LIMIT 25000)
                        RETURNING id, ref, kind, rule, cycle, created_at, position)
                    SELECT id, ref, kind, rule, cycle, created_at FROM released ORDER BY position
                    """, logger: logger)
                var audit: [AuditDraft] = []
                var deletes = 0
                for try await (id, reference, kind, rule, cycle, createdAt) in rows.decode((String, String, String, String, Double, Double).self) {
                    let detail = StoreText.queuedDetail(kind: kind, status: target, cycle: Date(timeIntervalSince1970: cycle), batch: batch)
                    audit.append(AuditDraft(at: Date(timeIntervalSince1970: createdAt), event: "operation.queued", connector: connector,
                                            reference: reference, rule: rule, operation: id, detail: detail))
                    if kind == OperationKind.delete.rawValue { deletes += 1 }
                }
                try await appendAudit(connection, audit)
                return (audit.count, deletes)
            }
            released += deletes
            if count == 0 { return released }
        }
    }

    /// The columns `operation(_:)` reads, in its order.
    static let operationColumns = """
        position, id, connector, ref, record_id, kind, rule, cycle, fields, status, attempts, next_attempt_at, last_error, batch, receipt, created_at
        """

    typealias OperationRow = (Int64, String, String, String, String?, String, String, Double, Data, String, Int64, Double?, String?, String?, String?, Double)

    static func operation(_ row: OperationRow) throws -> OutboxOperation {
        let (position, id, connector, reference, recordID, kind, rule, cycle, fields, status, attempts, next, error, batch, receipt, created) = row
        return OutboxOperation(
            id: id, connector: connector, reference: reference, recordID: recordID, kind: OperationKind(rawValue: kind) ?? .delete, rule: rule,
            cycle: Date(timeIntervalSince1970: cycle), fields: try StoreCodec.decodeErased(fields),
            status: OperationStatus(rawValue: status) ?? .pending, attempts: Int(attempts), nextAttemptAt: next.map(Date.init(timeIntervalSince1970:)),
            lastError: error, batch: batch, receipt: receipt, createdAt: Date(timeIntervalSince1970: created), position: position)
    }

    func operations(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [OutboxOperation] {
        var found: [OutboxOperation] = []
        for try await row in try await connection.query(query, logger: logger).decode(OperationRow.self) { found.append(try Self.operation(row)) }
        return found
    }

    public func operations(connector: String, statuses: Set<OperationStatus>, after: Int64, limit: Int) async throws -> [OutboxOperation] {
        try await read("read operations") { connection in
            try await operations(
                connection,
                """
                SELECT \(unescaped: Self.operationColumns) FROM outbox
                WHERE connector = \(connector) AND status = ANY(\(statuses.map(\.rawValue))) AND position > \(after)
                ORDER BY position LIMIT \(limit)
                """)
        }
    }

    public func operation(id: String) async throws -> OutboxOperation? {
        try await read("read an operation") { connection in
            try await operations(connection, "SELECT \(unescaped: Self.operationColumns) FROM outbox WHERE id = \(id)").first
        }
    }

    public func operationStatuses(_ ids: [String]) async throws -> [String: OperationStatus] {
        guard !ids.isEmpty else { return [:] }
        return try await read("read operation statuses") { connection in
            var found: [String: OperationStatus] = [:]
            let rows = try await connection.query("SELECT id, status FROM outbox WHERE id = ANY(\(ids))", logger: logger)
            for try await (id, status) in rows.decode((String, String).self) { found[id] = OperationStatus(rawValue: status) }
            return found
        }
    }

    // MARK: Completions

    /// Completions need not wait for the disk: redoing an operation after a power loss is idempotent.
    public func complete(_ completions: [OperationCompletion]) async throws {
        guard !completions.isEmpty else { return }
        try await transaction("record operation outcomes", bulk: true) { connection in
            // Where two completions touch the same record and one destroys it, their order matters:
            // they are applied one after the other; otherwise all at once.
            let ids = Array(Set(completions.map(\.operationID)))
            var records: [String: String] = [:]
            let rows = try await connection.query("SELECT id, connector || chr(31) || ref FROM outbox WHERE id = ANY(\(ids))", logger: logger)
            for try await (id, record) in rows.decode((String, String).self) { records[id] = record }
            var touched: [String: Int] = [:]
            var destroyed = Set<String>()
            for completion in completions {
                guard let record = records[completion.operationID] else { continue }
                touched[record, default: 0] += 1
                if case .tombstone = completion.effect { destroyed.insert(record) }
            }
            var audit: [AuditDraft] = []
            if destroyed.contains(where: { touched[$0, default: 0] > 1 }) {
                for completion in completions { audit += try await complete(connection, [completion]) }
            } else {
                audit = try await complete(connection, completions)
            }
            try await appendAudit(connection, audit)
        }
    }

    /// Applies completions inside the caller's transaction (no two of them about the same destroyed
    /// record), in a few multi-row statements; returns their audit entries and those of what they
    /// cancelled, in order.
    private func complete(_ connection: PostgresConnection, _ completions: [OperationCompletion]) async throws -> [AuditDraft] {
        let now = Date().timeIntervalSince1970
        let destroys = completions.map { if case .tombstone = $0.effect { true } else { false } }
        let rows = try await connection.query(
            """
            UPDATE outbox o SET status = u.status, attempts = u.attempts, next_attempt_at = u.next, last_error = u.error,
                receipt = COALESCE(u.receipt, o.receipt), updated_at = \(now), record_id = CASE WHEN u.destroys THEN NULL ELSE o.record_id END
            FROM (SELECT DISTINCT ON (id) * FROM UNNEST(\(completions.map(\.operationID)), \(completions.map(\.status.rawValue)),
                    \(completions.map { Int64($0.attempts) }), \(NullableArray(completions.map { $0.nextAttemptAt?.timeIntervalSince1970 })),
                    \(NullableArray(completions.map(\.error))), \(NullableArray(completions.map(\.receipt))), \(destroys))
                    WITH ORDINALITY AS t(id, status, attempts, next, error, receipt, destroys, n) ORDER BY id, n DESC) u
            WHERE o.id = u.id RETURNING o.id, o.connector, o.ref
            """, logger: logger)
        var found: [String: (connector: String, reference: String)] = [:]
        for try await (id, connector, reference) in rows.decode((String, String, String).self) { found[id] = (connector, reference) }
        if let missing = completions.first(where: { found[$0.operationID] == nil }) {
            throw StoreError(code: "store.unknown_operation", message: "no operation \(missing.operationID)")
        }
        // Destroyed records: their other operations (those still holding the id, and those still to be
        // done: cancelled), the tombstones, and what they had pending.
        var destroyedBy: [(completion: Int, connector: String, reference: String, operation: String, phase: RecordPhase)] = []
        var erased: [(completion: OperationCompletion, connector: String, reference: String)] = []
        for (index, completion) in completions.enumerated() {
            let (connector, reference) = found[completion.operationID]!
            switch completion.effect {
            case .none: break
            case .tombstone(let phase): destroyedBy.append((index, connector, reference, completion.operationID, phase))
            case .fieldsChanged: erased.append((completion, connector, reference))
            }
        }
        var cancelled: [Int: [String]] = [:]
        if !destroyedBy.isEmpty {
            let others = try await connection.query(
                """
                SELECT u.n, o.id, o.status IN ('pending', 'awaiting-approval', 'staged')
                FROM UNNEST(\(destroyedBy.map(\.connector)), \(destroyedBy.map(\.reference)), \(destroyedBy.map(\.operation)))
                    WITH ORDINALITY AS u(connector, ref, id, n)
                JOIN outbox o ON o.connector = u.connector AND o.ref = u.ref AND o.id <> u.id
                WHERE o.record_id IS NOT NULL OR o.status IN ('pending', 'awaiting-approval', 'staged')
                ORDER BY u.n, o.position
                """, logger: logger)
            var withOthers: [(connector: String, reference: String)] = []
            var lastWithOthers: Int64 = 0
            for try await (n, id, pending) in others.decode((Int64, String, Bool).self) {
                let destruction = destroyedBy[Int(n) - 1]
                if n != lastWithOthers { withOthers.append((destruction.connector, destruction.reference)) }
                lastWithOthers = n
                if pending { cancelled[destruction.completion, default: []].append(id) }
            }
            let named = try await recordKeys(connection, references: destroyedBy.map(\.reference))
            let keys = destroyedBy.map { named[$0.reference] ?? 0 }
            try await connection.query(
                """
                UPDATE record_state r SET record_id = NULL, digest = NULL, facts = NULL, dup_lines = NULL, reason = NULL, line = NULL,
                    phase = u.phase, state = u.state, next_due = NULL
                FROM UNNEST(\(keys), \(destroyedBy.map(\.connector)), \(destroyedBy.map(\.reference)), \(destroyedBy.map(\.phase.rawValue)),
                    \(destroyedBy.map { StoreCodec.encode(state: LifecycleState(phase: $0.phase)).buffer })) AS u(key, connector, ref, phase, state)
                WHERE r.key = u.key AND r.record_id IS NOT NULL AND r.connector = u.connector AND r.ref = u.ref
                """, logger: logger)
            try await connection.query("DELETE FROM missing_records WHERE key = ANY(\(keys))", logger: logger)
            // Most destroyed records have no other operation: the outbox is touched only for those that do.
            try await forget(connection, withOthers)
        }
        if !erased.isEmpty { try await recordErasures(connection, erased) }
        var audit: [AuditDraft] = []
        for (index, completion) in completions.enumerated() {
            audit += completion.audit
            guard let ids = cancelled[index] else { continue }
            let (connector, reference) = found[completion.operationID]!
            let at = completion.audit.first?.at ?? Date()
            audit += ids.map {
                AuditDraft(at: at, event: "operation.cancelled", connector: connector, reference: reference, operation: $0,
                           detail: ["reason": "record destroyed"])
            }
        }
        return audit
    }

    /// Fields were rewritten: the records' facts are as the write left them and their digests no
    /// longer hold (the next pull reads them again); a consent value Lethe wrote moves the state's
    /// last-seen copy. A destroyed record (no source id) keeps what it has.
    private func recordErasures(
        _ connection: PostgresConnection, _ erased: [(completion: OperationCompletion, connector: String, reference: String)]
    ) async throws {
        var keys: [Int64] = [], connectors: [String] = [], references: [String] = [], facts: [ByteBuffer?] = []
        var changes: [Int64: [ErasedField]] = [:]
        let named = try await recordKeys(connection, references: erased.map(\.reference))
        for (completion, connector, reference) in erased {
            guard case .fieldsChanged(let fields, let newFacts) = completion.effect, let key = named[reference] else { continue }
            keys.append(key)
            connectors.append(connector)
            references.append(reference)
            facts.append(newFacts.map { StoreCodec.encode(facts: $0).buffer })
            changes[key, default: []] += fields
        }
        guard !keys.isEmpty else { return }
        let rows = try await connection.query(
            """
            UPDATE record_state r SET facts = u.facts, digest = NULL
            FROM (SELECT DISTINCT ON (key) * FROM UNNEST(\(keys), \(connectors), \(references), \(NullableArray(facts)))
                  WITH ORDINALITY AS t(key, connector, ref, facts, n) ORDER BY key, n DESC) u
            WHERE r.key = u.key AND r.connector = u.connector AND r.ref = u.ref AND r.record_id IS NOT NULL
            RETURNING r.key, r.state, r.phase
            """, logger: logger)
        var updatedKeys: [Int64] = [], updatedStates: [ByteBuffer] = []
        for try await (key, bytes, phase) in rows.decode((Int64, Data?, String?).self) {
            guard var state = try bytes.map(StoreCodec.decodeState), let fields = changes[key],
                  fields.contains(where: { state.consentSeen[$0.field] != nil }) else { continue }
            // The phase column is the record's phase (set-based updates write only the column).
            if let phase = phase.flatMap(RecordPhase.init(rawValue:)) { state.phase = phase }
            for change in fields where state.consentSeen[change.field] != nil {
                state.consentSeen[change.field] = ConsentValue.parse(change.value) ?? false
            }
            updatedKeys.append(key)
            updatedStates.append(StoreCodec.encode(state: state).buffer)
        }
        guard !updatedKeys.isEmpty else { return }
        try await connection.query(
            "UPDATE record_state r SET state = u.state FROM UNNEST(\(updatedKeys), \(updatedStates)) AS u(key, state) WHERE r.key = u.key",
            logger: logger)
    }

    // MARK: Approvals

    static let batchColumns = """
        b.id, b.connector, b.status, b.created_at, b.approved_at, b.approved_by, b.rejected_at, b.rejected_by, b.rejection_reason,
        (SELECT COUNT(*) FROM outbox o WHERE o.batch = b.id), (SELECT COUNT(*) FROM outbox o WHERE o.batch = b.id AND o.kind = 'delete'),
        (SELECT COUNT(*) FROM missing_records m WHERE m.batch = b.id)
        """

    func batches(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [ApprovalBatch] {
        var found: [ApprovalBatch] = []
        let rows = try await connection.query(query, logger: logger)
        for try await (id, connector, status, created, approved, approver, rejected, rejecter, reason, operations, deletes, missing)
            in rows.decode((String, String, String, Double, Double?, String?, Double?, String?, String?, Int64, Int64, Int64).self) {
            found.append(ApprovalBatch(
                id: id, connector: connector, status: ApprovalBatch.Status(rawValue: status) ?? .open, createdAt: Date(timeIntervalSince1970: created),
                approvedAt: approved.map(Date.init(timeIntervalSince1970:)), approvedBy: approver, operationCount: Int(operations),
                missingRecords: Int(missing), deletes: Int(deletes), rejectedAt: rejected.map(Date.init(timeIntervalSince1970:)), rejectedBy: rejecter,
                rejectionReason: reason))
        }
        for index in found.indices {
            // For an open batch, the sign-offs given at its present size; for a closed one, all.
            let batch = found[index]
            found[index].signoffs = try await signoffs(
                connection, batch: batch.id, operations: batch.status == .open ? batch.operationCount : nil, missing: batch.missingRecords)
        }
        return found
    }

    public func openApprovalBatch(connector: String) async throws -> ApprovalBatch? {
        try await read("read the open approval batch") { connection in
            try await batches(
                connection,
                """
                SELECT \(unescaped: Self.batchColumns) FROM approval_batches b
                WHERE b.connector = \(connector) AND b.status = 'open' ORDER BY b.created_at LIMIT 1
                """).first
        }
    }

    public func createApprovalBatch(connector: String, at: Date) async throws -> ApprovalBatch {
        try await transaction("create an approval batch") { connection in
            // One batch number at a time per connector, across instances.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\("lethe approval " + connector), 0))", logger: logger)
            let count = try await connection.first(
                "SELECT COUNT(*) FROM approval_batches WHERE connector = \(connector)", Int64.self, logger: logger) ?? 0
            let id = "\(connector)-\(count + 1)"
            try await connection.query(
                "INSERT INTO approval_batches (id, connector, status, created_at) VALUES (\(id), \(connector), 'open', \(at.timeIntervalSince1970))",
                logger: logger)
            try await appendAudit(connection, [AuditDraft(at: at, event: "approval.requested", connector: connector, detail: ["batch": id])])
            return ApprovalBatch(id: id, connector: connector, status: .open, createdAt: at, approvedAt: nil, approvedBy: nil, operationCount: 0)
        }
    }

    public func retryDead(ids: [String]?, by approver: String, at: Date) async throws -> [String] {
        try await transaction("retry dead operations") { connection in
            var dead = try await connection.all("SELECT id FROM outbox WHERE status = 'dead' FOR UPDATE", String.self, logger: logger).sorted()
            if let ids { dead = dead.filter(ids.contains) }
            try await connection.query(
                """
                UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = \(Date().timeIntervalSince1970)
                WHERE id = ANY(\(dead))
                """, logger: logger)
            try await appendAudit(connection, dead.map { AuditDraft(at: at, event: "operation.retried", operation: $0, detail: ["operator": approver]) })
            return dead
        }
    }

    public func approvalBatches() async throws -> [ApprovalBatch] {
        try await read("read the approval batches") { connection in
            try await batches(connection, "SELECT \(unescaped: Self.batchColumns) FROM approval_batches b ORDER BY b.created_at")
        }
    }
}
