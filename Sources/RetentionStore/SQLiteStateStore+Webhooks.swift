public import Foundation
import GRDB
import RetentionCore

extension SQLiteStateStore {
    public func acceptWebhookEvents(connector: String, events: [WebhookEventDraft], at: Date) async throws -> WebhookAcceptance {
        try await queue.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO webhook_events (connector, event_id, record_id, deleted, received_at)
                    VALUES (?, ?, ?, ?, ?) ON CONFLICT (connector, event_id) DO NOTHING
                    """
            )
            var accepted = 0
            for event in events {
                try insert.execute(arguments: [connector, webhookEventDigests.digest(connector: connector, eventID: event.eventID), event.recordID, event.deleted, at.timeIntervalSince1970])
                accepted += db.changesCount
            }
            let acceptance = WebhookAcceptance(accepted: accepted, replayed: events.count - accepted)
            if accepted > 0 {
                try Self.appendAudit(db, [
                    AuditDraft(at: at, event: "webhook.accepted", connector: connector, detail: [
                        "events": String(accepted), "replayed": String(acceptance.replayed),
                    ])
                ])
            }
            return acceptance
        }
    }

    /// The keyed digest under which a provider's event id is kept (`PendingWebhookEvent.eventID`).
    public func webhookEventDigest(connector: String, eventID: String) -> String {
        webhookEventDigests.digest(connector: connector, eventID: eventID)
    }

    public func pendingWebhookEvents(connector: String, limit: Int, dueBy: Date) async throws -> [PendingWebhookEvent] {
        try await queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, event_id, record_id, deleted, received_at, attempts FROM webhook_events
                    WHERE connector = ? AND processed_at IS NULL AND dead_at IS NULL
                    AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY seq LIMIT ?
                    """,
                arguments: [connector, dueBy.timeIntervalSince1970, limit]
            ).map { row in
                PendingWebhookEvent(
                    seq: row[0], eventID: row[1], recordID: row[2], deleted: row[3],
                    receivedAt: Date(timeIntervalSince1970: row[4]), attempts: row[5])
            }
        }
    }

    public func webhookEventCounts(connector: String) async throws -> (pending: Int, dead: Int) {
        try await queue.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FILTER (WHERE dead_at IS NULL), COUNT(*) FILTER (WHERE dead_at IS NOT NULL)
                    FROM webhook_events WHERE connector = ? AND processed_at IS NULL
                    """,
                arguments: [connector])
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }

    public func finishWebhookEvents(_ seqs: [Int64], at: Date) async throws {
        guard !seqs.isEmpty else { return }
        try await queue.write { db in
            // A processed event keeps only its keyed digest (for replay detection) and its times.
            let update = try db.cachedStatement(sql: "UPDATE webhook_events SET processed_at = ?, record_id = '' WHERE seq = ?")
            for seq in seqs { try update.execute(arguments: [at.timeIntervalSince1970, seq]) }
        }
    }

    public func purgeWebhookEvents(processedBefore cutoff: Date) async throws -> Int {
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM webhook_events WHERE processed_at < ?", arguments: [cutoff.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func failWebhookEvents(_ seqs: [Int64], error: String, retryAt: Date?, at: Date) async throws {
        guard !seqs.isEmpty else { return }
        try await queue.write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE webhook_events SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, dead_at = ?
                    WHERE seq = ? AND processed_at IS NULL
                    """)
            for seq in seqs {
                try update.execute(arguments: [error, retryAt?.timeIntervalSince1970, retryAt == nil ? at.timeIntervalSince1970 : nil, seq])
            }
            guard retryAt == nil else { return }
            let connector = try String.fetchOne(db, sql: "SELECT connector FROM webhook_events WHERE seq = ?", arguments: [seqs[0]])
            try Self.appendAudit(db, [
                AuditDraft(at: at, event: "webhook.dead", connector: connector, detail: ["events": String(seqs.count), "error": error])
            ])
        }
    }

    public func scheduleMarks() async throws -> [String: Date] {
        try await queue.read { db in
            var marks: [String: Date] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, started_at FROM schedule_marks") {
                marks[row[0]] = Date(timeIntervalSince1970: row[1])
            }
            return marks
        }
    }

    public func setScheduleMark(_ key: String, startedAt: Date) async throws {
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO schedule_marks (key, started_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET started_at = excluded.started_at",
                arguments: [key, startedAt.timeIntervalSince1970])
        }
    }

    public func recordConsentDecision(
        connector: String, reference: String, rule: String, cycle: Date, action: String, at: Date, change: RecordChange?
    ) async throws -> Bool {
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO consent_decisions (connector, ref, rule, cycle, action, decided_at, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (connector, ref, rule, cycle) DO NOTHING
                    """,
                arguments: [connector, reference, rule, cycle.timeIntervalSince1970, action, at.timeIntervalSince1970, at.timeIntervalSince1970])
            guard db.changesCount > 0 else { return false }
            let audit = AuditDraft(
                at: at, event: "consent.\(action)", connector: connector, reference: reference, rule: rule,
                detail: ["cycle": StoreCoding.timestamp(cycle), "via": "link"])
            var writes = RecordWrites(at: at, audit: [audit])
            if let change { writes.changes = [change] }
            _ = try self.write(db, connector: connector, writes)
            return true
        }
    }

    public func recordPendingConsentDecision(
        connector: String, reference: String, rule: String, cycle: Date, action: String, at: Date
    ) async throws -> Bool {
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO consent_decisions (connector, ref, rule, cycle, action, decided_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (connector, ref, rule, cycle) DO NOTHING
                    """,
                arguments: [connector, reference, rule, cycle.timeIntervalSince1970, action, at.timeIntervalSince1970])
            guard db.changesCount > 0 else { return false }
            try Self.appendAudit(db, [
                AuditDraft(
                    at: at, event: "consent.\(action)", connector: connector, reference: reference, rule: rule,
                    detail: ["cycle": StoreCoding.timestamp(cycle), "via": "link", "applied": "when the connector is free"])
            ])
            return true
        }
    }

    public func pendingConsentDecisions(connector: String) async throws -> [PendingConsentDecision] {
        try await queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT ref, rule, cycle, action, decided_at FROM consent_decisions
                    WHERE connector = ? AND applied_at IS NULL ORDER BY decided_at
                    """,
                arguments: [connector]
            ).map { row in
                PendingConsentDecision(
                    connector: connector, reference: row[0], rule: row[1], cycle: Date(timeIntervalSince1970: row[2]), action: row[3],
                    decidedAt: Date(timeIntervalSince1970: row[4]))
            }
        }
    }

    public func applyConsentDecision(_ decision: PendingConsentDecision, change: RecordChange?, at: Date) async throws -> Bool {
        try await queue.write { db in
            try db.execute(
                sql: """
                    UPDATE consent_decisions SET applied_at = ?
                    WHERE connector = ? AND ref = ? AND rule = ? AND cycle = ? AND applied_at IS NULL
                    """,
                arguments: [at.timeIntervalSince1970, decision.connector, decision.reference, decision.rule, decision.cycle.timeIntervalSince1970])
            guard db.changesCount > 0 else { return false }
            if let change {
                var writes = RecordWrites(at: at)
                writes.changes = [change]
                _ = try self.write(db, connector: decision.connector, writes)
            }
            return true
        }
    }

    public func consentDecision(connector: String, reference: String, rule: String, cycle: Date) async throws -> String? {
        try await queue.read { db in
            try String.fetchOne(
                db, sql: "SELECT action FROM consent_decisions WHERE connector = ? AND ref = ? AND rule = ? AND cycle = ?",
                arguments: [connector, reference, rule, cycle.timeIntervalSince1970])
        }
    }
}
