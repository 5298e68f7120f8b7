public import Foundation
import GRDB
public import RetentionCore

extension SQLiteStateStore {
    public func ingest(connector: String, run: Int64, records: [SourceRecord]) async throws {
        let rows = try records.map { record in
            (reference(connector: connector, recordID: record.id), record, try StoreCoding.encode(record))
        }
        let now = Date().timeIntervalSince1970
        try await queue.write { db in
            let lookup = try db.cachedStatement(sql: "SELECT seen_run, line, dup_lines FROM records WHERE connector = ? AND ref = ?")
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO records (connector, ref, record_id, fields, line, phase, state, dup_lines, seen_run, updated_at)
                    VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?)
                    ON CONFLICT(connector, ref) DO UPDATE SET
                        record_id = excluded.record_id, fields = excluded.fields, line = excluded.line,
                        dup_lines = NULL, seen_run = excluded.seen_run, updated_at = excluded.updated_at,
                        phase = CASE WHEN records.phase IN ('deleted', 'gone') THEN NULL ELSE records.phase END,
                        state = CASE WHEN records.phase IN ('deleted', 'gone') THEN NULL ELSE records.state END
                    """
            )
            let markDuplicate = try db.cachedStatement(sql: "UPDATE records SET dup_lines = ? WHERE connector = ? AND ref = ?")
            for (ref, record, json) in rows {
                if let row = try Row.fetchOne(lookup, arguments: [connector, ref]), row["seen_run"] as Int64 == run {
                    var lines = (try StoreCoding.decode([Int].self, row["dup_lines"] as String?)) ?? [(row["line"] as Int?) ?? 0]
                    lines.append(record.line ?? 0)
                    try markDuplicate.execute(arguments: [try StoreCoding.encode(lines), connector, ref])
                    continue
                }
                try upsert.execute(arguments: [connector, ref, record.id, json, record.line, run, now])
            }
        }
    }

    public func markUnseenGone(connector: String, run: Int64, at: Date) async throws -> Int {
        try await queue.write { db in
            let refs = try String.fetchAll(
                db,
                sql: "SELECT ref FROM records WHERE connector = ? AND seen_run <> ? AND record_id IS NOT NULL",
                arguments: [connector, run]
            )
            for ref in refs {
                try Self.tombstone(db, connector: connector, reference: ref, phase: .gone)
                try Self.appendAudit(db, [AuditDraft(at: at, event: "record.gone", connector: connector, reference: ref)])
            }
            return refs.count
        }
    }

    public func liveRecords(connector: String, after cursor: String?, limit: Int) async throws -> [StoredRecord] {
        try await queue.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM records WHERE connector = ? AND record_id IS NOT NULL AND ref > ?
                    ORDER BY ref LIMIT ?
                    """,
                arguments: [connector, cursor ?? "", limit]
            )
            return try rows.map(Self.storedRecord)
        }
    }

    public func record(connector: String, reference: String) async throws -> StoredRecord? {
        try await queue.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM records WHERE connector = ? AND ref = ?", arguments: [connector, reference])
                .map(Self.storedRecord)
        }
    }

    public func states(connector: String, references: [String]) async throws -> [String: LifecycleState] {
        try await queue.read { db in
            var found: [String: LifecycleState] = [:]
            let statement = try db.cachedStatement(sql: "SELECT state FROM records WHERE connector = ? AND ref = ?")
            for reference in Set(references) {
                if let state = try StoreCoding.decode(LifecycleState.self, try String.fetchOne(statement, arguments: [connector, reference])) {
                    found[reference] = state
                }
            }
            return found
        }
    }

    static func storedRecord(_ row: Row) throws -> StoredRecord {
        StoredRecord(
            connector: row["connector"],
            reference: row["ref"],
            recordID: row["record_id"],
            record: try StoreCoding.decode(SourceRecord.self, row["fields"]),
            state: try StoreCoding.decode(LifecycleState.self, row["state"]),
            duplicateLines: try StoreCoding.decode([Int].self, row["dup_lines"]) ?? [],
            seenRun: row["seen_run"]
        )
    }

    /// Keeps only the pseudonymous reference and the phase; cancels what is pending for the record.
    static func tombstone(_ db: Database, connector: String, reference: String, phase: RecordPhase) throws {
        let state = try StoreCoding.encode(LifecycleState(phase: phase))
        try db.execute(
            sql: """
                UPDATE records SET record_id = NULL, fields = NULL, dup_lines = NULL, phase = ?, state = ?, updated_at = ?
                WHERE connector = ? AND ref = ?
                """,
            arguments: [phase.rawValue, state, Date().timeIntervalSince1970, connector, reference]
        )
        try db.execute(
            sql: """
                UPDATE outbox SET status = 'cancelled', record_id = NULL, updated_at = ?
                WHERE connector = ? AND ref = ? AND status IN ('pending', 'awaiting-approval')
                """,
            arguments: [Date().timeIntervalSince1970, connector, reference]
        )
        try db.execute(sql: "UPDATE outbox SET record_id = NULL WHERE connector = ? AND ref = ?", arguments: [connector, reference])
    }
}
