public import Foundation
import PostgresNIO
public import RetentionCore
public import RetentionStore

/// The webhook inbox, schedule marks, consent decisions, holds and the status counts.
extension PostgresStateStore {
    public func acceptWebhookEvents(connector: String, events: [WebhookEventDraft], at: Date) async throws -> WebhookAcceptance {
        try await transaction("accept webhook events") { connection in
            let rows = try await connection.query(
                """
                INSERT INTO webhook_events (connector, event_id, record_id, deleted, received_at)
                SELECT \(connector), event_id, record_id, deleted, \(at.timeIntervalSince1970)::double precision
                FROM UNNEST(\(events.map { webhookEventDigests.digest(connector: connector, eventID: $0.eventID) }), \(events.map(\.recordID)),
                    \(events.map(\.deleted))) WITH ORDINALITY AS u(event_id, record_id, deleted, n)
                ORDER BY n
                ON CONFLICT (connector, event_id) DO NOTHING RETURNING seq
                """, logger: logger)
            var accepted = 0
            for try await _ in rows.decode(Int64.self) { accepted += 1 }
            let acceptance = WebhookAcceptance(accepted: accepted, replayed: events.count - accepted)
            if accepted > 0 {
                try await appendAudit(connection, [
                    AuditDraft(at: at, event: "webhook.accepted", connector: connector, detail: [
                        "events": String(accepted), "replayed": String(acceptance.replayed),
                    ])
                ])
            }
            return acceptance
        }
    }

    public func pendingWebhookEvents(connector: String, limit: Int, dueBy: Date) async throws -> [PendingWebhookEvent] {
        try await read("read pending webhook events") { connection in
            var found: [PendingWebhookEvent] = []
            let rows = try await connection.query(
                """
                SELECT seq, event_id, record_id, deleted, received_at, attempts FROM webhook_events
                WHERE connector = \(connector) AND processed_at IS NULL AND dead_at IS NULL
                AND (next_attempt_at IS NULL OR next_attempt_at <= \(dueBy.timeIntervalSince1970)) ORDER BY seq LIMIT \(limit)
                """, logger: logger)
            for try await (seq, eventID, recordID, deleted, received, attempts) in rows.decode((Int64, String, String, Bool, Double, Int64).self) {
                found.append(PendingWebhookEvent(
                    seq: seq, eventID: eventID, recordID: recordID, deleted: deleted, receivedAt: Date(timeIntervalSince1970: received),
                    attempts: Int(attempts)))
            }
            return found
        }
    }

    public func webhookEventCounts(connector: String) async throws -> (pending: Int, dead: Int) {
        try await read("count webhook events") { connection in
            let rows = try await connection.query(
                """
                SELECT COUNT(*) FILTER (WHERE dead_at IS NULL), COUNT(*) FILTER (WHERE dead_at IS NOT NULL)
                FROM webhook_events WHERE connector = \(connector) AND processed_at IS NULL
                """, logger: logger)
            var counts = (pending: 0, dead: 0)
            for try await (pending, dead) in rows.decode((Int64, Int64).self) { counts = (Int(pending), Int(dead)) }
            return counts
        }
    }

    public func finishWebhookEvents(_ seqs: [Int64], at: Date) async throws {
        guard !seqs.isEmpty else { return }
        try await read("finish webhook events") { connection in
            // A processed event keeps only its keyed digest (for replay detection) and its times.
            try await connection.query(
                "UPDATE webhook_events SET processed_at = \(at.timeIntervalSince1970), record_id = '' WHERE seq = ANY(\(seqs))", logger: logger)
        }
    }

    public func purgeWebhookEvents(processedBefore cutoff: Date) async throws -> Int {
        try await read("purge webhook events") { connection in
            Int(try await connection.first(
                """
                WITH purged AS (DELETE FROM webhook_events WHERE processed_at < \(cutoff.timeIntervalSince1970) RETURNING 1)
                SELECT COUNT(*) FROM purged
                """, Int64.self, logger: logger) ?? 0)
        }
    }

    public func failWebhookEvents(_ seqs: [Int64], error: String, retryAt: Date?, at: Date) async throws {
        guard !seqs.isEmpty else { return }
        try await transaction("fail webhook events") { connection in
            try await connection.query(
                """
                UPDATE webhook_events SET attempts = attempts + 1, last_error = \(error), next_attempt_at = \(retryAt?.timeIntervalSince1970),
                    dead_at = \(retryAt == nil ? at.timeIntervalSince1970 : nil)
                WHERE seq = ANY(\(seqs)) AND processed_at IS NULL
                """, logger: logger)
            guard retryAt == nil else { return }
            let connector = try await connection.first("SELECT connector FROM webhook_events WHERE seq = \(seqs[0])", String.self, logger: logger)
            try await appendAudit(connection, [
                AuditDraft(at: at, event: "webhook.dead", connector: connector, detail: ["events": String(seqs.count), "error": error])
            ])
        }
    }

    // MARK: Schedules

    public func scheduleMarks() async throws -> [String: Date] {
        try await read("read the schedule marks") { connection in
            var marks: [String: Date] = [:]
            for try await (key, started) in try await connection.query("SELECT key, started_at FROM schedule_marks", logger: logger)
                .decode((String, Double).self) {
                marks[key] = Date(timeIntervalSince1970: started)
            }
            return marks
        }
    }

    public func setScheduleMark(_ key: String, startedAt: Date) async throws {
        try await read("write a schedule mark") { connection in
            try await connection.query(
                """
                INSERT INTO schedule_marks (key, started_at) VALUES (\(key), \(startedAt.timeIntervalSince1970))
                ON CONFLICT (key) DO UPDATE SET started_at = excluded.started_at
                """, logger: logger)
        }
    }

    // MARK: Consent

    public func recordConsentDecision(
        connector: String, reference: String, rule: String, cycle: Date, action: String, at: Date, change: RecordChange?
    ) async throws -> Bool {
        try await transaction("record a consent decision") { connection in
            let inserted = try await connection.first(
                """
                INSERT INTO consent_decisions (connector, ref, rule, cycle, action, decided_at, applied_at)
                VALUES (\(connector), \(reference), \(rule), \(cycle.timeIntervalSince1970), \(action), \(at.timeIntervalSince1970), \(at.timeIntervalSince1970))
                ON CONFLICT (connector, ref, rule, cycle) DO NOTHING RETURNING 1
                """, Int32.self, logger: logger)
            guard inserted != nil else { return false }
            let audit = AuditDraft(
                at: at, event: "consent.\(action)", connector: connector, reference: reference, rule: rule,
                detail: ["cycle": StoreCoding.timestamp(cycle), "via": "link"])
            var writes = RecordWrites(at: at, audit: [audit])
            if let change { writes.changes = [change] }
            _ = try await write(connection, connector: connector, writes)
            return true
        }
    }

    public func recordPendingConsentDecision(
        connector: String, reference: String, rule: String, cycle: Date, action: String, at: Date
    ) async throws -> Bool {
        try await transaction("record a consent decision") { connection in
            let inserted = try await connection.first(
                """
                INSERT INTO consent_decisions (connector, ref, rule, cycle, action, decided_at)
                VALUES (\(connector), \(reference), \(rule), \(cycle.timeIntervalSince1970), \(action), \(at.timeIntervalSince1970))
                ON CONFLICT (connector, ref, rule, cycle) DO NOTHING RETURNING 1
                """, Int32.self, logger: logger)
            guard inserted != nil else { return false }
            try await appendAudit(connection, [
                AuditDraft(
                    at: at, event: "consent.\(action)", connector: connector, reference: reference, rule: rule,
                    detail: ["cycle": StoreCoding.timestamp(cycle), "via": "link", "applied": "when the connector is free"])
            ])
            return true
        }
    }

    public func pendingConsentDecisions(connector: String) async throws -> [PendingConsentDecision] {
        try await read("read pending consent decisions") { connection in
            var found: [PendingConsentDecision] = []
            let rows = try await connection.query(
                """
                SELECT ref, rule, cycle, action, decided_at FROM consent_decisions
                WHERE connector = \(connector) AND applied_at IS NULL ORDER BY decided_at
                """, logger: logger)
            for try await (reference, rule, cycle, action, decided) in rows.decode((String, String, Double, String, Double).self) {
                found.append(PendingConsentDecision(
                    connector: connector, reference: reference, rule: rule, cycle: Date(timeIntervalSince1970: cycle), action: action,
                    decidedAt: Date(timeIntervalSince1970: decided)))
            }
            return found
        }
    }

    public func applyConsentDecision(_ decision: PendingConsentDecision, change: RecordChange?, at: Date) async throws -> Bool {
        try await transaction("apply a consent decision") { connection in
            let applied = try await connection.first(
                """
                UPDATE consent_decisions SET applied_at = \(at.timeIntervalSince1970)
                WHERE connector = \(decision.connector) AND ref = \(decision.reference) AND rule = \(decision.rule)
                    AND cycle = \(decision.cycle.timeIntervalSince1970) AND applied_at IS NULL
                RETURNING 1
                """, Int32.self, logger: logger)
            guard applied != nil else { return false }
            if let change {
                var writes = RecordWrites(at: at)
                writes.changes = [change]
                _ = try await write(connection, connector: decision.connector, writes)
            }
            return true
        }
    }

    public func consentDecision(connector: String, reference: String, rule: String, cycle: Date) async throws -> String? {
        try await read("read a consent decision") { connection in
            try await connection.first(
                """
                SELECT action FROM consent_decisions
                WHERE connector = \(connector) AND ref = \(reference) AND rule = \(rule) AND cycle = \(cycle.timeIntervalSince1970)
                """, String.self, logger: logger)
        }
    }

    // MARK: Holds

    public func addHold(connector: String, reference: String, reason: String, by holder: String, at: Date) async throws -> Bool {
        try await transaction("add a hold") { connection in
            let added = try await connection.first(
                """
                INSERT INTO holds (connector, ref, reason, created_by, created_at)
                VALUES (\(connector), \(reference), \(reason), \(holder), \(at.timeIntervalSince1970))
                ON CONFLICT (connector, ref) DO NOTHING RETURNING 1
                """, Int32.self, logger: logger)
            guard added != nil else { return false }
            try await makeDue(connection, connector: connector, reference: reference)
            try await appendAudit(connection, [
                AuditDraft(at: at, event: "hold.added", connector: connector, reference: reference, detail: ["operator": holder, "reason": reason])
            ])
            return true
        }
    }

    public func removeHold(connector: String, reference: String, reason: String, by holder: String, at: Date) async throws -> Bool {
        try await transaction("remove a hold") { connection in
            let removed = try await connection.first(
                "DELETE FROM holds WHERE connector = \(connector) AND ref = \(reference) RETURNING 1", Int32.self, logger: logger)
            guard removed != nil else { return false }
            try await makeDue(connection, connector: connector, reference: reference)
            try await appendAudit(connection, [
                AuditDraft(at: at, event: "hold.removed", connector: connector, reference: reference, detail: StoreText.holdRemoved(by: holder, reason: reason))
            ])
            return true
        }
    }

    /// A hold placed or lifted changes the record's decision: it is evaluated at the next sync.
    private func makeDue(_ connection: PostgresConnection, connector: String, reference: String) async throws {
        guard let key = try await recordKeys(connection, references: [reference])[reference] else { return }
        try await connection.query(
            """
            UPDATE record_state SET next_due = 0
            WHERE key = \(key) AND connector = \(connector) AND ref = \(reference) AND record_id IS NOT NULL
            """, logger: logger)
    }

    public func holds(connector: String?) async throws -> [Hold] {
        try await read("read the holds") { connection in
            var found: [Hold] = []
            let rows = try await connection.query(
                """
                SELECT connector, ref, reason, created_by, created_at FROM holds
                WHERE \(connector)::text IS NULL OR connector = \(connector) ORDER BY connector COLLATE "C", created_at
                """, logger: logger)
            for try await (connector, reference, reason, holder, created) in rows.decode((String, String, String, String, Double).self) {
                found.append(Hold(connector: connector, reference: reference, reason: reason, createdBy: holder, createdAt: Date(timeIntervalSince1970: created)))
            }
            return found
        }
    }

    public func heldReferences(connector: String) async throws -> Set<String> {
        try await read("read the holds") { connection in
            Set(try await connection.all("SELECT ref FROM holds WHERE connector = \(connector)", String.self, logger: logger))
        }
    }

    // MARK: Status

    public func statusCounts() async throws -> StoreStatus {
        try await read("count the state") { connection in
            try await PostgresTransaction.run(connection, logger: logger) { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                var records: [String: [String: Int]] = [:]
                for try await (connector, phase, count) in try await connection.query(
                    "SELECT connector, COALESCE(phase, 'new'), COUNT(*) FROM record_state GROUP BY 1, 2", logger: logger
                ).decode((String, String, Int64).self) {
                    records[connector, default: [:]][phase] = Int(count)
                }
                var operations: [String: [String: Int]] = [:]
                for try await (connector, kind, status, count) in try await connection.query(
                    "SELECT connector, kind, status, COUNT(*) FROM outbox GROUP BY 1, 2, 3", logger: logger
                ).decode((String, String, String, Int64).self) {
                    operations[connector, default: [:]]["\(kind)/\(status)"] = Int(count)
                }
                let batches = try await batches(connection, "SELECT \(unescaped: Self.batchColumns) FROM approval_batches b WHERE b.status = 'open'")
                var reappeared: [String: Int] = [:]
                for try await (connector, count) in try await connection.query(
                    "SELECT connector, SUM(reappeared)::bigint FROM record_state WHERE reappeared > 0 GROUP BY 1", logger: logger
                ).decode((String, Int64).self) {
                    reappeared[connector] = Int(count)
                }
                let holds = try await connection.first("SELECT COUNT(*) FROM holds", Int64.self, logger: logger) ?? 0
                let entries = try await connection.first("SELECT seq FROM audit_head WHERE id = 1", Int64.self, logger: logger) ?? 0
                return StoreStatus(
                    records: records, operations: operations, openBatches: batches, holds: Int(holds), auditEntries: entries, reappeared: reappeared)
            }
        }
    }

    public func overdueCount(connector: String, expiredBefore cutoff: Date) async throws -> Int {
        try await read("count overdue destructions") { connection in
            Int(try await connection.first(
                """
                SELECT COUNT(*) FROM record_state WHERE connector = \(connector) AND record_id IS NOT NULL
                AND phase IN ('active', 'expiring', 'awaiting-approval') AND final_expiry < \(cutoff.timeIntervalSince1970)
                """, Int64.self, logger: logger) ?? 0)
        }
    }
}
