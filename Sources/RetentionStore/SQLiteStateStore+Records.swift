public import Foundation
import GRDB
public import RetentionCore

extension SQLiteStateStore {
    @discardableResult
    public func ingest(connector: String, run: Int64, records: [SourceRecord]) async throws -> Int {
        let rows = records.map { record in
            (reference(connector: connector, recordID: record.id), record, StoreCodec.encode(fields: record.fields))
        }
        let now = Date().timeIntervalSince1970
        return try await queue.write { db in
            let lookup = try db.cachedStatement(
                sql: "SELECT seen_run, line, dup_lines, record_id, fields, defect, phase FROM records WHERE connector = ? AND ref = ?"
            )
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO records (connector, ref, record_id, fields, line, defect, phase, state, dup_lines, seen_run, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?)
                    ON CONFLICT(connector, ref) DO UPDATE SET
                        record_id = excluded.record_id, fields = excluded.fields, line = excluded.line,
                        defect = excluded.defect, dup_lines = NULL, seen_run = excluded.seen_run,
                        updated_at = excluded.updated_at,
                        phase = CASE WHEN records.phase IN ('deleted', 'gone') THEN NULL ELSE records.phase END,
                        state = CASE WHEN records.phase IN ('deleted', 'gone') THEN NULL ELSE records.state END,
                        reappeared = records.reappeared + (records.phase IS 'deleted')
                    """
            )
            // What the upsert would do to a live row whose content did not change.
            let markSeen = try db.cachedStatement(sql: "UPDATE records SET seen_run = ?, updated_at = ? WHERE connector = ? AND ref = ?")
            let markDuplicate = try db.cachedStatement(sql: "UPDATE records SET dup_lines = ? WHERE connector = ? AND ref = ?")
            var reappeared: [AuditDraft] = []
            let runAsOf = try Double.fetchOne(db, sql: "SELECT as_of FROM runs WHERE id = ?", arguments: [run]).map(Date.init(timeIntervalSince1970:)) ?? Date()
            for (ref, record, fields) in rows {
                if let row = try Row.fetchOne(lookup, arguments: [connector, ref]) {
                    if row[0] as Int64 == run {
                        var lines = (try StoreCoding.decode([Int].self, row[2] as String?)) ?? [(row[1] as Int?) ?? 0]
                        lines.append(record.line ?? 0)
                        try markDuplicate.execute(arguments: [try StoreCoding.encode(lines), connector, ref])
                        continue
                    }
                    let phase = row[6] as String?
                    if phase == RecordPhase.deleted.rawValue {
                        // Destroyed by Lethe, and back (a restore, a backup, a rewrite that did not stick): a
                        // new generation, evaluated afresh and enforced again.
                        reappeared.append(AuditDraft(at: runAsOf, event: "record.reappeared", connector: connector, reference: ref,
                                                     detail: ["reason": "seen again after its destruction"]))
                    }
                    if row[2] as String? == nil, row[3] as String? == record.id, row[1] as Int? == record.line,
                        row[5] as String? == record.defect, phase != RecordPhase.deleted.rawValue, phase != RecordPhase.gone.rawValue,
                        row[4] as Data? == fields
                    {
                        try markSeen.execute(arguments: [run, now, connector, ref])
                        continue
                    }
                }
                try upsert.execute(arguments: [connector, ref, record.id, fields, record.line, record.defect, run, now])
            }
            try Self.appendAudit(db, reappeared)
            return reappeared.count
        }
    }

    public func unseenReferences(connector: String, run: Int64) async throws -> [String] {
        try await queue.read { db in
            try String.fetchAll(
                db, sql: "SELECT ref FROM records WHERE connector = ? AND seen_run <> ? AND record_id IS NOT NULL", arguments: [connector, run])
        }
    }

    public func markGone(connector: String, references: [String], at: Date, via: String) async throws -> Int {
        guard !references.isEmpty else { return 0 }
        return try await queue.write { db in
            let live = try db.cachedStatement(sql: "SELECT 1 FROM records WHERE connector = ? AND ref = ? AND record_id IS NOT NULL")
            let forget = try db.cachedStatement(sql: "DELETE FROM disappearances WHERE connector = ? AND ref = ?")
            var gone: [String] = []
            for ref in references where try Row.fetchOne(live, arguments: [connector, ref]) != nil {
                try Self.tombstone(db, connector: connector, reference: ref, phase: .gone)
                try forget.execute(arguments: [connector, ref])
                gone.append(ref)
            }
            try Self.appendAudit(db, gone.map { AuditDraft(at: at, event: "record.gone", connector: connector, reference: $0, detail: ["via": via]) })
            return gone.count
        }
    }

    public func holdDisappearances(connector: String, references: [String], batch: String, at: Date) async throws {
        guard !references.isEmpty else { return }
        try await queue.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO disappearances (connector, ref, batch, noticed_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (connector, ref) DO UPDATE SET batch = excluded.batch
                    WHERE (SELECT status FROM approval_batches WHERE id = disappearances.batch) IS NOT 'approved'
                    """)
            for ref in references { try insert.execute(arguments: [connector, ref, batch, at.timeIntervalSince1970]) }
            try Self.appendAudit(db, [
                AuditDraft(at: at, event: "records.missing-held", connector: connector, detail: ["records": String(references.count), "batch": batch])
            ])
        }
    }

    public func approvedDisappearances(connector: String, seenIn run: Int64) async throws -> Set<String> {
        try await queue.write { db in
            try db.execute(
                sql: """
                    DELETE FROM disappearances WHERE connector = ?
                    AND ref IN (SELECT ref FROM records WHERE connector = ? AND seen_run = ?)
                    """,
                arguments: [connector, connector, run])
            return Set(try String.fetchAll(
                db,
                sql: """
                    SELECT d.ref FROM disappearances d JOIN approval_batches b ON b.id = d.batch
                    WHERE d.connector = ? AND b.status = 'approved'
                    """,
                arguments: [connector]))
        }
    }

    public func liveRecords(connector: String, after cursor: String?, limit: Int) async throws -> [StoredRecord] {
        try await queue.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT \(Self.storedRecordColumns) FROM records
                    WHERE connector = ? AND record_id IS NOT NULL AND ref > ? ORDER BY ref LIMIT ?
                    """
            )
            var records: [StoredRecord] = []
            records.reserveCapacity(limit)
            let rows = try Row.fetchCursor(statement, arguments: [connector, cursor ?? "", limit])
            while let row = try rows.next() {
                records.append(try Self.storedRecord(row, connector: connector))
            }
            return records
        }
    }

    /// In rowid (arrival) order: the rows of one page sit together on disk, so evaluating a page and
    /// committing its changes touches few pages. The cursor is the last rowid.
    public func liveRecordPage(connector: String, after cursor: String?, limit: Int) async throws -> LiveRecordPage {
        try await queue.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT rowid, \(Self.storedRecordColumns) FROM records
                    WHERE rowid > ? AND connector = ? AND record_id IS NOT NULL ORDER BY rowid LIMIT ?
                    """
            )
            var records: [StoredRecord] = []
            records.reserveCapacity(limit)
            var last: Int64?
            let rows = try Row.fetchCursor(statement, arguments: [cursor.flatMap { Int64($0) } ?? 0, connector, limit])
            while let row = try rows.next() {
                last = row[0]
                records.append(try Self.storedRecord(row, connector: connector, offset: 1))
            }
            return LiveRecordPage(records: records, next: last.map { String($0) })
        }
    }

    public func record(connector: String, reference: String) async throws -> StoredRecord? {
        try await queue.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT \(Self.storedRecordColumns) FROM records WHERE connector = ? AND ref = ?"
            )
            return try Row.fetchOne(statement, arguments: [connector, reference]).map { try Self.storedRecord($0, connector: connector) }
        }
    }

    public func states(connector: String, references: [String]) async throws -> [String: LifecycleState] {
        try await queue.read { db in
            var found: [String: LifecycleState] = [:]
            let statement = try db.cachedStatement(sql: "SELECT state FROM records WHERE connector = ? AND ref = ?")
            for reference in Set(references) {
                if let data = try Data.fetchOne(statement, arguments: [connector, reference]) {
                    found[reference] = try StoreCodec.decodeState(data)
                }
            }
            return found
        }
    }

    /// The columns `storedRecord` reads, in its order.
    static let storedRecordColumns = "ref, record_id, fields, line, defect, state, dup_lines, seen_run"

    /// Reads `storedRecordColumns`, starting at column `offset`.
    static func storedRecord(_ row: Row, connector: String, offset: Int = 0) throws -> StoredRecord {
        let recordID: String? = row[offset + 1]
        var record: SourceRecord?
        if let fields = row[offset + 2] as Data? {
            record = SourceRecord(
                id: recordID ?? "", fields: try StoreCodec.decodeFields(fields), line: row[offset + 3], defect: row[offset + 4]
            )
        }
        return StoredRecord(
            connector: connector,
            reference: row[offset],
            recordID: recordID,
            record: record,
            state: try (row[offset + 5] as Data?).map(StoreCodec.decodeState),
            duplicateLines: try StoreCoding.decode([Int].self, row[offset + 6]) ?? [],
            seenRun: row[offset + 7]
        )
    }

    /// Keeps only the pseudonymous reference and the phase; cancels what is pending for the record.
    static func tombstone(_ db: Database, connector: String, reference: String, phase: RecordPhase) throws {
        let now = Date().timeIntervalSince1970
        try db.cachedStatement(
            sql: """
                UPDATE records SET record_id = NULL, fields = NULL, defect = NULL, dup_lines = NULL, phase = ?, state = ?,
                    updated_at = ? WHERE connector = ? AND ref = ?
                """
        ).execute(arguments: [phase.rawValue, StoreCodec.encode(state: LifecycleState(phase: phase)), now, connector, reference])
        // Every operation of the record forgets its id; what was still pending is cancelled.
        try db.cachedStatement(
            sql: """
                UPDATE outbox SET record_id = NULL,
                    status = CASE WHEN status IN ('pending', 'awaiting-approval') THEN 'cancelled' ELSE status END,
                    updated_at = CASE WHEN status IN ('pending', 'awaiting-approval') THEN ? ELSE updated_at END
                WHERE connector = ? AND ref = ?
                """
        ).execute(arguments: [now, connector, reference])
    }
}
