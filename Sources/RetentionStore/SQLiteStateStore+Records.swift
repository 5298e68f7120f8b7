public import Foundation
import GRDB
import GRDBSQLite
public import RetentionCore

/// `record_state`: one compact row per record, appended in the order records are first read (a slot,
/// the rowid: pages fill up and a sync's writes stay together) and found by the record's 64-bit key
/// through one small unique index. It holds the reference, the source id while the record
/// lives, the row digest, the policy facts (`StoreCodec`), the phase and lifecycle state, the next
/// instant its evaluation may change, its line and quarantine reason — never a field value.
extension SQLiteStateStore {
    static let recordColumns = "key, connector, ref, record_id, digest, facts, state, line, dup_lines, next_due, reappeared, reason, phase"

    /// A record read straight from a statement's current row (columns as `recordColumns`). The
    /// `phase` column is the record's phase (the safety check sets it set-based); the state's copy of
    /// it is read through it.
    static func storedRecord(raw handle: OpaquePointer) throws -> StoredRecord {
        var state = try RawStatement.blob(handle, 6).map { try StoreCodec.decodeState(buffer: $0) }
        if let text = RawStatement.text(handle, 12), let phase = RecordPhase(rawValue: text) { state?.phase = phase }
        return StoredRecord(
            connector: RawStatement.text(handle, 1) ?? "", reference: RawStatement.text(handle, 2) ?? "", key: RawStatement.int64(handle, 0) ?? 0,
            recordID: RawStatement.text(handle, 3),
            facts: try RawStatement.blob(handle, 5).map { try StoreCodec.decodeFacts(buffer: $0) }, state: state,
            line: RawStatement.int64(handle, 7).map(Int.init),
            duplicateLines: try StoreCoding.decode([Int].self, RawStatement.text(handle, 8)) ?? [],
            digest: RawStatement.int64(handle, 4).map { UInt64(bitPattern: $0) },
            nextDue: RawStatement.double(handle, 9).map(Date.init(timeIntervalSince1970:)),
            reappeared: Int(RawStatement.int64(handle, 10) ?? 0), reason: StoreText.reason(RawStatement.text(handle, 11))
        )
    }

    // MARK: Reading

    /// One pass over the table in storage order, reading numbers only (a few hundred nanoseconds a
    /// row), then sorted by key in memory.
    public func knownRecords(connector: String) async throws -> KnownRecords {
        let stored = try await queue.read { db in
            var known = KnownRecords()
            let statement = try db.makeStatement(
                sql: """
                    SELECT key, digest, next_due, record_id IS NOT NULL, phase = 'quarantined', phase = 'deleted', facts IS NOT NULL,
                        dup_lines IS NOT NULL, phase = 'held'
                    FROM record_state WHERE connector = ?
                    """)
            try statement.setArguments([connector])
            let handle = statement.sqliteStatement
            while true {
                let step = sqlite3_step(handle)
                if step == SQLITE_DONE { break }
                guard step == SQLITE_ROW else { throw StoreError(code: "store.read", message: "cannot read the records (\(step))") }
                known.keys.append(sqlite3_column_int64(handle, 0))
                known.digests.append(sqlite3_column_type(handle, 1) == SQLITE_NULL ? 0 : UInt64(bitPattern: sqlite3_column_int64(handle, 1)))
                known.dues.append(sqlite3_column_type(handle, 2) == SQLITE_NULL ? .infinity : sqlite3_column_double(handle, 2))
                var flags: KnownRecords.Flags = []
                if sqlite3_column_int(handle, 3) != 0 { flags.insert(.live) }
                if sqlite3_column_int(handle, 4) != 0 { flags.insert(.quarantined) }
                if sqlite3_column_int(handle, 5) != 0 { flags.insert(.deleted) }
                if sqlite3_column_int(handle, 6) != 0 { flags.insert(.facts) }
                if sqlite3_column_int(handle, 7) != 0 { flags.insert(.duplicated) }
                if sqlite3_column_int(handle, 8) != 0 { flags.insert(.held) }
                known.flags.append(flags)
            }
            return known
        }
        return stored.sortedByKey()
    }

    public func records(connector: String, keys: [Int64]) async throws -> [Int64: StoredRecord] {
        guard !keys.isEmpty else { return [:] }
        return try await queue.read { db in
            let statement = try RawStatement(db, sql: "SELECT \(Self.recordColumns) FROM record_state WHERE key = ? AND connector = ?")
            var found: [Int64: StoredRecord] = Dictionary(minimumCapacity: keys.count)
            for key in keys where found[key] == nil {
                if let record = try statement.bind(key).bind(connector).first(Self.storedRecord(raw:)) { found[key] = record }
            }
            return found
        }
    }

    public func recordPage(connector: String, after: Int64?, limit: Int) async throws -> [StoredRecord] {
        try await queue.read { db in
            try RawStatement(
                db, sql: "SELECT \(Self.recordColumns) FROM record_state WHERE key > ? AND connector = ? AND record_id IS NOT NULL ORDER BY key LIMIT ?"
            ).bind(after ?? Int64.min).bind(connector).bind(limit).all(Self.storedRecord(raw:))
        }
    }

    public func records(connector: String, references: [String]) async throws -> [String: StoredRecord] {
        guard !references.isEmpty else { return [:] }
        return try await queue.read { db in
            var found: [String: StoredRecord] = Dictionary(minimumCapacity: references.count)
            let byReference = try RawStatement(db, sql: Self.byReference)
            for reference in references where found[reference] == nil {
                if let record = try Self.record(db, connector: connector, reference: reference, using: byReference) { found[reference] = record }
            }
            return found
        }
    }

    public func record(connector: String, reference: String) async throws -> StoredRecord? {
        try await queue.read { db in try Self.record(db, connector: connector, reference: reference) }
    }

    /// By the key the reference carries, else (a reference of an earlier version) through `legacy_refs`.
    static func record(_ db: Database, connector: String, reference: String) throws -> StoredRecord? {
        try record(db, connector: connector, reference: reference, using: RawStatement(db, sql: byReference))
    }

    /// `record(_:connector:reference:)` with the `byReference` statement prepared once for many lookups.
    static func record(_ db: Database, connector: String, reference: String, using byReference: RawStatement) throws -> StoredRecord? {
        if let key = RecordFingerprints.key(ofReference: reference),
            let record = try byReference.bind(key).bind(connector).bind(reference).first(storedRecord(raw:))
        {
            return record
        }
        guard let key = try Int64.fetchOne(db.cachedStatement(sql: "SELECT key FROM legacy_refs WHERE ref = ?"), arguments: [reference]) else {
            return nil
        }
        return try byReference.bind(key).bind(connector).bind(reference).first(storedRecord(raw:))
    }

    static let byReference = "SELECT \(recordColumns) FROM record_state WHERE key = ? AND connector = ? AND ref = ?"

    /// The key of the record with this reference (by the key the reference carries, else `legacy_refs`).
    static func key(_ db: Database, connector: String, reference: String) throws -> Int64? {
        let check = try db.cachedStatement(sql: "SELECT 1 FROM record_state WHERE key = ? AND connector = ? AND ref = ?")
        return try key(db, reference: reference) { try Bool.fetchOne(check, arguments: [$0, connector, reference]) != nil }
    }

    /// The key `reference` names, found by `known` (whether the record with that key has this reference).
    static func key(_ db: Database, reference: String, known: (Int64) throws -> Bool) throws -> Int64? {
        if let key = RecordFingerprints.key(ofReference: reference), try known(key) { return key }
        guard let key = try Int64.fetchOne(db.cachedStatement(sql: "SELECT key FROM legacy_refs WHERE ref = ?"), arguments: [reference]) else {
            return nil
        }
        return try known(key) ? key : nil
    }

    public func states(connector: String, references: [String]) async throws -> [String: LifecycleState] {
        try await queue.read { db in
            var found: [String: LifecycleState] = [:]
            let byReference = try RawStatement(db, sql: Self.byReference)
            for reference in Set(references) {
                if let state = try Self.record(db, connector: connector, reference: reference, using: byReference)?.state { found[reference] = state }
            }
            return found
        }
    }

    public func quarantinedRecords(connector: String) async throws -> [QuarantinedRecord] {
        try await queue.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT ref, line, dup_lines, reason FROM record_state
                    WHERE connector = ? AND phase = 'quarantined' AND record_id IS NOT NULL ORDER BY line
                    """,
                arguments: [connector]
            ).map { row in
                QuarantinedRecord(
                    reference: row[0], line: row[1], duplicateLines: try StoreCoding.decode([Int].self, row[2]) ?? [],
                    reason: StoreText.reason(row[3]) ?? QuarantineReason(code: "quarantined"))
            }
        }
    }

    public func liveCounts(connector: String) async throws -> (live: Int, valid: Int) {
        try await queue.read { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*), COUNT(*) FILTER (WHERE phase IS NOT 'quarantined') FROM record_state
                    WHERE connector = ? AND record_id IS NOT NULL
                    """,
                arguments: [connector])
            return (row?[0] ?? 0, row?[1] ?? 0)
        }
    }

    public func readingFingerprint(connector: String) async throws -> String? {
        try await queue.read { db in
            try String.fetchOne(db, sql: "SELECT fingerprint FROM readings WHERE connector = ?", arguments: [connector])
        }
    }

    public func setReadingFingerprint(connector: String, _ fingerprint: String) async throws {
        try await queue.write { db in
            let previous = try String.fetchOne(db, sql: "SELECT fingerprint FROM readings WHERE connector = ?", arguments: [connector])
            guard previous != fingerprint else { return }
            try db.execute(
                sql: "INSERT INTO readings (connector, fingerprint) VALUES (?, ?) ON CONFLICT (connector) DO UPDATE SET fingerprint = excluded.fingerprint",
                arguments: [connector, fingerprint])
            // Facts and digests were read under other settings: every row is read again.
            try db.execute(sql: "UPDATE record_state SET digest = NULL, facts = NULL WHERE connector = ? AND record_id IS NOT NULL", arguments: [connector])
        }
    }

    // MARK: Writing

    @discardableResult
    public func write(connector: String, _ writes: RecordWrites) async throws -> Int {
        guard !writes.isEmpty else { return 0 }
        return try await bulk { db in try self.write(db, connector: connector, writes) }
    }

    /// A transaction of a sync's bulk writes, committed without waiting for the disk
    /// (`synchronous = NORMAL`: safe from a crash of the process, not yet from a power loss). Nothing
    /// is acted on before `makeDurable()` has put it on disk.
    func bulk<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            defer { try? db.execute(sql: "PRAGMA synchronous = FULL") }
            var result: T?
            try db.inTransaction {
                result = try body(db)
                return .commit
            }
            guard let result else { throw StoreError(code: "store.write", message: "the transaction returned nothing") }
            return result
        }
    }

    public func makeDurable() async throws {
        // A commit under `synchronous = FULL` syncs the write-ahead log, and with it every commit before.
        try await queue.write { db in
            try db.execute(sql: "UPDATE meta SET value = value WHERE key = 'pseudonym_secret'")
        }
    }

    func write(_ db: Database, connector: String, _ writes: RecordWrites) throws -> Int {
        var audit = writes.audit
        var reappeared = 0
        let insert = try RawStatement(
            db,
            sql: """
                INSERT INTO record_state (key, connector, ref, record_id, digest, facts, phase, state, next_due, final_expiry, line, dup_lines, reason)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let previousPhase = try RawStatement(db, sql: "SELECT phase = 'deleted', ref FROM record_state WHERE key = ?")
        let replace = try RawStatement(
            db,
            sql: """
                UPDATE record_state SET record_id = ?, digest = ?, facts = ?, phase = ?, state = ?, next_due = ?, final_expiry = ?,
                    line = ?, dup_lines = ?, reason = ?, reappeared = reappeared + ?
                WHERE key = ?
                """)
        var queueing: RawStatement?
        for upsert in writes.upserts {
            let (facts, state) = upsert.encodedForStore
            let digest = upsert.digest.map { Int64(bitPattern: $0) }
            let duplicates = upsert.duplicateLines.isEmpty ? nil : try StoreCoding.encode(upsert.duplicateLines)
            var existing: (destroyed: Bool, reference: String)?
            if !upsert.isNew {
                existing = try Self.phaseAndReference(previousPhase, key: upsert.key)
            } else if hasLegacyReferences, let legacy = try legacyTombstone(db, connector: connector, recordID: upsert.recordID) {
                // An earlier version's tombstone of this record: the record takes its place.
                try db.execute(sql: "UPDATE record_state SET key = ? WHERE key = ?", arguments: [upsert.key, legacy])
                try db.execute(sql: "UPDATE legacy_refs SET key = ? WHERE key = ?", arguments: [upsert.key, legacy])
                existing = try Self.phaseAndReference(previousPhase, key: upsert.key)
            }
            if let existing {
                if existing.destroyed {
                    reappeared += 1
                    audit.append(AuditDraft(at: writes.at, event: "record.reappeared",
                                            connector: connector, reference: existing.reference, detail: ["reason": "seen again after its destruction"]))
                }
                try replace.bind(upsert.recordID).bind(digest).bind(facts).bind(upsert.state.phase.rawValue).bind(state)
                    .bind(upsert.nextDue?.timeIntervalSince1970).bind(upsert.state.finalExpiry?.timeIntervalSince1970).bind(upsert.line)
                    .bind(duplicates).bind(StoreText.reasonText(upsert.reason)).bind(existing.destroyed ? 1 : 0).bind(upsert.key)
                    .run()
            } else {
                try insert.bind(upsert.key).bind(connector).bind(upsert.reference).bind(upsert.recordID).bind(digest).bind(facts)
                    .bind(upsert.state.phase.rawValue).bind(state).bind(upsert.nextDue?.timeIntervalSince1970)
                    .bind(upsert.state.finalExpiry?.timeIntervalSince1970).bind(upsert.line).bind(duplicates).bind(StoreText.reasonText(upsert.reason))
                    .run()
            }
            if !upsert.operations.isEmpty {
                if queueing == nil { queueing = try Self.queueStatement(db) }
                try Self.queue(db, upsert.operations, audit: &audit, using: queueing)
            }
        }
        let update = try db.cachedStatement(
            sql: "UPDATE record_state SET phase = ?, state = ?, final_expiry = ?, next_due = ? WHERE key = ?")
        for change in writes.changes {
            try update.execute(arguments: [
                change.state.phase.rawValue, StoreCodec.encode(state: change.state), change.state.finalExpiry?.timeIntervalSince1970,
                change.nextDue?.timeIntervalSince1970, change.key,
            ])
            if !change.operations.isEmpty { try Self.queue(db, change.operations, audit: &audit) }
        }
        let moved = try db.cachedStatement(sql: "UPDATE record_state SET line = ? WHERE key = ?")
        for (key, line) in writes.lines { try moved.execute(arguments: [line, key]) }
        if !writes.duplicates.isEmpty { try duplicate(db, connector: connector, writes.duplicates, at: writes.at, audit: &audit) }
        // By key (the reference carries it): `ref` has no index.
        let counted = try db.cachedStatement(sql: "UPDATE record_state SET reappeared = reappeared + 1 WHERE key = ?")
        for draft in audit where draft.event == "fields.reappeared" {
            if let reference = draft.reference, let key = try Self.key(db, connector: connector, reference: reference) {
                try counted.execute(arguments: [key])
            }
        }
        try Self.appendAudit(db, audit)
        return reappeared
    }

    /// Quarantines records whose id was on several rows (their last copy is unreliable): phase,
    /// lines and reason; what they had queued and not done yet is cancelled.
    private func duplicate(
        _ db: Database, connector: String, _ duplicates: [(key: Int64, lines: [Int], wasQuarantined: Bool)], at: Date, audit: inout [AuditDraft]
    ) throws {
        let read = try db.cachedStatement(sql: "SELECT ref, phase FROM record_state WHERE key = ? AND record_id IS NOT NULL")
        let update = try db.cachedStatement(
            sql: "UPDATE record_state SET phase = 'quarantined', state = ?, dup_lines = ?, reason = ?, digest = NULL, next_due = NULL WHERE key = ?")
        let pending = try db.cachedStatement(
            sql: "SELECT id, status FROM outbox WHERE connector = ? AND ref = ? AND status IN ('pending', 'awaiting-approval', 'staged')")
        let cancel = try db.cachedStatement(sql: "UPDATE outbox SET status = 'cancelled', updated_at = ? WHERE id = ?")
        let unstage = try db.cachedStatement(sql: "DELETE FROM outbox WHERE id = ? AND status = 'staged'")
        for (key, lines, wasQuarantined) in duplicates {
            guard let row = try Row.fetchOne(read, arguments: [key]) else { continue }
            let reference: String = row[0]
            let reason = QuarantineReason.duplicateID(lines: lines)
            try update.execute(arguments: [
                StoreCodec.encode(state: LifecycleState(phase: .quarantined)), try StoreCoding.encode(lines), StoreText.reasonText(reason), key,
            ])
            if !wasQuarantined, row[1] as String? != RecordPhase.quarantined.rawValue {
                audit.append(AuditDraft(at: at, event: "record.quarantined", connector: connector, reference: reference, detail: ["reason": reason.code]))
            }
            for operation in try Row.fetchAll(pending, arguments: [connector, reference]) {
                let id: String = operation[0]
                // Staged operations were never published: they simply go.
                if operation[1] as String == OperationStatus.staged.rawValue {
                    try unstage.execute(arguments: [id])
                    continue
                }
                try cancel.execute(arguments: [Date().timeIntervalSince1970, id])
                audit.append(AuditDraft(at: at, event: "operation.cancelled", connector: connector, reference: reference, operation: id,
                                        detail: ["reason": "the id occurs more than once"]))
            }
        }
    }

    /// Whether the record with `key` is a tombstone of a destroyed record, and its reference; nil when
    /// there is no such record.
    private static func phaseAndReference(_ statement: RawStatement, key: Int64) throws -> (destroyed: Bool, reference: String)? {
        try statement.bind(key).first { handle in
            (sqlite3_column_int(handle, 0) != 0, String(cString: sqlite3_column_text(handle, 1)))
        }
    }

    /// The key of an earlier version's `deleted` tombstone of this record, if there is one.
    private func legacyTombstone(_ db: Database, connector: String, recordID: String) throws -> Int64? {
        let reference = legacyReference(connector: connector, recordID: recordID)
        guard let key = try Int64.fetchOne(db.cachedStatement(sql: "SELECT key FROM legacy_refs WHERE ref = ?"), arguments: [reference]) else {
            return nil
        }
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT record_id, phase FROM record_state WHERE key = ?"), arguments: [key])
        return row.map { $0[0] as String? == nil } == true ? key : nil
    }

    public func tombstone(connector: String, keys: [Int64], phase: RecordPhase, at: Date, via: String) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await queue.write { db in
            var audit: [AuditDraft] = []
            var count = 0
            let statements = try TombstoneStatements(db)
            for key in keys {
                guard let reference = try Self.tombstone(db, key: key, phase: phase, using: statements) else { continue }
                count += 1
                audit.append(AuditDraft(at: at, event: "record.\(phase.rawValue)", connector: connector, reference: reference, detail: ["via": via]))
            }
            try Self.appendAudit(db, audit)
            return count
        }
    }

    /// The statements a tombstone runs, prepared once for many records of one transaction.
    final class TombstoneStatements {
        let record: RawStatement
        /// The same, for the record with this key, connector and reference only.
        let matching: RawStatement
        let outbox: RawStatement
        let missing: RawStatement
        /// Whether any record is held as missing (most states have none: no delete to run then).
        let anyMissing: Bool

        init(_ db: Database) throws {
            record = try RawStatement(
                db,
                sql: """
                    UPDATE record_state SET record_id = NULL, digest = NULL, facts = NULL, dup_lines = NULL, reason = NULL, line = NULL,
                        phase = ?, state = ?, next_due = NULL
                    WHERE key = ? AND record_id IS NOT NULL RETURNING connector, ref
                    """)
            matching = try RawStatement(
                db,
                sql: """
                    UPDATE record_state SET record_id = NULL, digest = NULL, facts = NULL, dup_lines = NULL, reason = NULL, line = NULL,
                        phase = ?, state = ?, next_due = NULL
                    WHERE key = ? AND record_id IS NOT NULL AND connector = ? AND ref = ?
                    """)
            outbox = try RawStatement(
                db,
                sql: """
                    UPDATE outbox SET record_id = NULL,
                        status = CASE WHEN status IN ('pending', 'awaiting-approval', 'staged') THEN 'cancelled' ELSE status END,
                        updated_at = CASE WHEN status IN ('pending', 'awaiting-approval', 'staged') THEN ? ELSE updated_at END
                    WHERE connector = ? AND ref = ?
                    """)
            missing = try RawStatement(db, sql: "DELETE FROM missing_records WHERE key = ?")
            anyMissing = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM missing_records)") ?? true
        }

        /// Tombstones the live record with this reference when the key it carries finds it (one
        /// statement); false when it does not (a legacy reference, or no live record).
        func tombstone(connector: String, reference: String, phase: RecordPhase) throws -> Bool {
            guard let key = RecordFingerprints.key(ofReference: reference) else { return false }
            let changed = try matching.bind(phase.rawValue).bind(StoreCodec.encode(state: LifecycleState(phase: phase))).bind(key)
                .bind(connector).bind(reference).run()
            guard changed > 0 else { return false }
            if anyMissing { try missing.bind(key).run() }
            return true
        }

        /// Every operation of the record forgets its id; what was still pending is cancelled.
        func forget(connector: String, reference: String) throws {
            try outbox.bind(Date().timeIntervalSince1970).bind(connector).bind(reference).run()
        }
    }

    /// Keeps only the key, the reference and the phase of a live record; with `operations`, its
    /// operations forget its id and what is pending for it is cancelled. Returns its reference, nil
    /// when it was not live.
    @discardableResult
    static func tombstone(
        _ db: Database, key: Int64, phase: RecordPhase, using prepared: TombstoneStatements? = nil, operations: Bool = true
    ) throws -> String? {
        let statements = try prepared ?? TombstoneStatements(db)
        let found = try statements.record.bind(phase.rawValue).bind(StoreCodec.encode(state: LifecycleState(phase: phase))).bind(key)
            .first { handle in (RawStatement.text(handle, 0) ?? "", RawStatement.text(handle, 1) ?? "") }
        guard let (connector, reference) = found else { return nil }
        if operations { try statements.forget(connector: connector, reference: reference) }
        if statements.anyMissing { try statements.missing.bind(key).run() }
        return reference
    }

    // MARK: Disappearances

    public func holdDisappearances(connector: String, keys: [Int64], batch: String, at: Date) async throws {
        guard !keys.isEmpty else { return }
        try await queue.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO missing_records (key, connector, batch, noticed_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (key) DO UPDATE SET batch = excluded.batch
                    WHERE (SELECT status FROM approval_batches WHERE id = missing_records.batch) IS NOT 'approved'
                    """)
            for key in keys { try insert.execute(arguments: [key, connector, batch, at.timeIntervalSince1970]) }
            try Self.appendAudit(db, [
                AuditDraft(at: at, event: "records.missing-held", connector: connector, detail: ["records": String(keys.count), "batch": batch])
            ])
        }
    }

    public func approvedDisappearances(connector: String, stillMissing: [Int64]) async throws -> Set<Int64> {
        try await queue.write { db in
            let missing = Set(stillMissing)
            let held = try Int64.fetchAll(db, sql: "SELECT key FROM missing_records WHERE connector = ?", arguments: [connector])
            let forget = try db.cachedStatement(sql: "DELETE FROM missing_records WHERE key = ?")
            for key in held where !missing.contains(key) { try forget.execute(arguments: [key]) }
            return Set(try Int64.fetchAll(
                db,
                sql: """
                    SELECT m.key FROM missing_records m JOIN approval_batches b ON b.id = m.batch
                    WHERE m.connector = ? AND b.status = 'approved'
                    """,
                arguments: [connector]))
        }
    }
}
