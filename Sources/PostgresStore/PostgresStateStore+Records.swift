public import Foundation
import NIOCore
import PostgresNIO
public import RetentionCore
public import RetentionStore

/// `record_state`, as in the SQLite store: one compact row per record, found by its 64-bit key.
extension PostgresStateStore {
    static let recordColumns = "key, connector, ref, record_id, digest, facts, state, line, dup_lines, next_due, reappeared, reason, phase"

    /// The columns of `recordColumns`, in order.
    typealias RecordRow = (Int64, String, String, String?, Int64?, Data?, Data?, Int64?, String?, Double?, Int64, String?, String?)

    /// A record from its row. The `phase` column is the record's phase (the safety check sets it
    /// set-based); the state's copy of it is read through it.
    static func storedRecord(_ row: RecordRow) throws -> StoredRecord {
        let (key, connector, reference, recordID, digest, facts, stateBytes, line, duplicates, nextDue, reappeared, reason, phase) = row
        var state = try stateBytes.map(StoreCodec.decodeState)
        if let phase, let value = RecordPhase(rawValue: phase) { state?.phase = value }
        return StoredRecord(
            connector: connector, reference: reference, key: key, recordID: recordID, facts: try facts.map(StoreCodec.decodeFacts),
            state: state, line: line.map(Int.init), duplicateLines: try StoreCoding.decode([Int].self, duplicates) ?? [],
            digest: digest.map { UInt64(bitPattern: $0) }, nextDue: nextDue.map(Date.init(timeIntervalSince1970:)),
            reappeared: Int(reappeared), reason: StoreText.reason(reason))
    }

    func records(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [StoredRecord] {
        var found: [StoredRecord] = []
        for try await row in try await connection.query(query, logger: logger).decode(RecordRow.self) {
            found.append(try Self.storedRecord(row))
        }
        return found
    }

    // MARK: Reading

    public func knownRecords(connector: String) async throws -> KnownRecords {
        try await read("read the records") { connection in
            var known = KnownRecords()
            let rows = try await connection.query(
                """
                SELECT key, digest, next_due, record_id IS NOT NULL, phase IS NOT DISTINCT FROM 'quarantined',
                    phase IS NOT DISTINCT FROM 'deleted', facts IS NOT NULL, dup_lines IS NOT NULL, phase IS NOT DISTINCT FROM 'held'
                FROM record_state WHERE connector = \(connector) ORDER BY key
                """, logger: logger)
            for try await (key, digest, due, live, quarantined, deleted, facts, duplicated, held)
                in rows.decode((Int64, Int64?, Double?, Bool, Bool, Bool, Bool, Bool, Bool).self) {
                known.keys.append(key)
                known.digests.append(digest.map { UInt64(bitPattern: $0) } ?? 0)
                known.dues.append(due ?? .infinity)
                var flags: KnownRecords.Flags = []
                if live { flags.insert(.live) }
                if quarantined { flags.insert(.quarantined) }
                if deleted { flags.insert(.deleted) }
                if facts { flags.insert(.facts) }
                if duplicated { flags.insert(.duplicated) }
                if held { flags.insert(.held) }
                known.flags.append(flags)
            }
            return known
        }
    }

    public func records(connector: String, keys: [Int64]) async throws -> [Int64: StoredRecord] {
        guard !keys.isEmpty else { return [:] }
        return try await read("read records") { connection in
            let found = try await records(
                connection, "SELECT \(unescaped: Self.recordColumns) FROM record_state WHERE key = ANY(\(keys)) AND connector = \(connector)")
            return Dictionary(found.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func recordPage(connector: String, after: Int64?, limit: Int) async throws -> [StoredRecord] {
        try await read("read records") { connection in
            try await records(
                connection,
                """
                SELECT \(unescaped: Self.recordColumns) FROM record_state
                WHERE key > \(after ?? Int64.min) AND connector = \(connector) AND record_id IS NOT NULL ORDER BY key LIMIT \(limit)
                """)
        }
    }

    public func records(connector: String, references: [String]) async throws -> [String: StoredRecord] {
        guard !references.isEmpty else { return [:] }
        return try await read("read records") { connection in try await records(connection, connector: connector, references: references) }
    }

    /// The keys these references name: the key each carries or, for a reference of an earlier version,
    /// the one `legacy_refs` holds. Queries match the reference too, so a key that is not its record's finds nothing.
    func recordKeys(_ connection: PostgresConnection, references: some Collection<String>) async throws -> [String: Int64] {
        var keys: [String: Int64] = Dictionary(minimumCapacity: references.count)
        for reference in references { keys[reference] = RecordFingerprints.key(ofReference: reference) }
        guard hasLegacyReferences, !references.isEmpty else { return keys }
        let rows = try await connection.query("SELECT ref, key FROM legacy_refs WHERE ref = ANY(\(Array(Set(references))))", logger: logger)
        for try await (reference, key) in rows.decode((String, Int64).self) { keys[reference] = key }
        return keys
    }

    /// New records that an earlier version knew and destroyed (their tombstones keep the references of
    /// that version, in `legacy_refs`): each tombstone moves to its record's key, as in SQLite, so the
    /// record is written over it and counted as reappeared. Returns the keys moved to.
    private func moveLegacyTombstones(_ connection: PostgresConnection, connector: String, _ upserts: [RecordUpsert]) async throws -> Set<Int64> {
        guard hasLegacyReferences else { return [] }
        var keyByReference: [String: Int64] = [:]
        for upsert in upserts where upsert.isNew && !upsert.recordID.isEmpty {
            keyByReference[legacyReferences.reference(connector: connector, recordID: upsert.recordID)] = upsert.key
        }
        guard !keyByReference.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            SELECT l.ref, l.key FROM legacy_refs l JOIN record_state r ON r.key = l.key
            WHERE l.ref = ANY(\(Array(keyByReference.keys))) AND r.connector = \(connector) AND r.record_id IS NULL
            """, logger: logger)
        var olds: [Int64] = [], news: [Int64] = []
        for try await (reference, old) in rows.decode((String, Int64).self) {
            guard let new = keyByReference[reference], new != old else { continue }
            olds.append(old)
            news.append(new)
        }
        guard !olds.isEmpty else { return [] }
        try await connection.query(
            "UPDATE record_state r SET key = u.new FROM UNNEST(\(olds), \(news)) AS u(old, new) WHERE r.key = u.old", logger: logger)
        try await connection.query(
            "UPDATE legacy_refs l SET key = u.new FROM UNNEST(\(olds), \(news)) AS u(old, new) WHERE l.key = u.old", logger: logger)
        return Set(news)
    }

    /// The records with these references, by the key each reference names (`recordKeys`).
    func records(_ connection: PostgresConnection, connector: String, references: [String]) async throws -> [String: StoredRecord] {
        let wanted = Set(references)
        let keys = Array(try await recordKeys(connection, references: wanted).values)
        guard !keys.isEmpty else { return [:] }
        let found = try await records(
            connection, "SELECT \(unescaped: Self.recordColumns) FROM record_state WHERE key = ANY(\(keys)) AND connector = \(connector)")
        var byReference: [String: StoredRecord] = [:]
        for record in found where wanted.contains(record.reference) { byReference[record.reference] = record }
        return byReference
    }

    public func record(connector: String, reference: String) async throws -> StoredRecord? {
        try await records(connector: connector, references: [reference])[reference]
    }

    public func states(connector: String, references: [String]) async throws -> [String: LifecycleState] {
        guard !references.isEmpty else { return [:] }
        return try await records(connector: connector, references: references).compactMapValues(\.state)
    }

    public func quarantinedRecords(connector: String) async throws -> [QuarantinedRecord] {
        try await read("read the quarantined records") { connection in
            var found: [QuarantinedRecord] = []
            let rows = try await connection.query(
                """
                SELECT ref, line, dup_lines, reason FROM record_state
                WHERE connector = \(connector) AND phase = 'quarantined' AND record_id IS NOT NULL ORDER BY line NULLS FIRST
                """, logger: logger)
            for try await (reference, line, duplicates, reason) in rows.decode((String, Int64?, String?, String?).self) {
                found.append(QuarantinedRecord(
                    reference: reference, line: line.map(Int.init), duplicateLines: try StoreCoding.decode([Int].self, duplicates) ?? [],
                    reason: StoreText.reason(reason) ?? QuarantineReason(code: "quarantined")))
            }
            return found
        }
    }

    public func liveCounts(connector: String) async throws -> (live: Int, valid: Int) {
        try await read("count the records") { connection in
            let rows = try await connection.query(
                """
                SELECT COUNT(*), COUNT(*) FILTER (WHERE phase IS DISTINCT FROM 'quarantined') FROM record_state
                WHERE connector = \(connector) AND record_id IS NOT NULL
                """, logger: logger)
            var counts = (live: 0, valid: 0)
            for try await (live, valid) in rows.decode((Int64, Int64).self) { counts = (Int(live), Int(valid)) }
            return counts
        }
    }

    public func readingFingerprint(connector: String) async throws -> String? {
        try await read("read the reading fingerprint") { connection in
            try await connection.first("SELECT fingerprint FROM readings WHERE connector = \(connector)", String.self, logger: logger)
        }
    }

    public func setReadingFingerprint(connector: String, _ fingerprint: String) async throws {
        try await transaction("write the reading fingerprint") { connection in
            let previous = try await connection.first(
                "SELECT fingerprint FROM readings WHERE connector = \(connector) FOR UPDATE", String.self, logger: logger)
            guard previous != fingerprint else { return }
            try await connection.query(
                """
                INSERT INTO readings (connector, fingerprint) VALUES (\(connector), \(fingerprint))
                ON CONFLICT (connector) DO UPDATE SET fingerprint = excluded.fingerprint
                """, logger: logger)
            // Facts and digests were read under other settings: every row is read again.
            try await connection.query(
                "UPDATE record_state SET digest = NULL, facts = NULL WHERE connector = \(connector) AND record_id IS NOT NULL", logger: logger)
        }
    }

    // MARK: Writing

    @discardableResult
    public func write(connector: String, _ writes: RecordWrites) async throws -> Int {
        guard !writes.isEmpty else { return 0 }
        return try await transaction("write the records", bulk: true) { connection in
            try await write(connection, connector: connector, writes)
        }
    }

    /// What `write(connector:_:)` does, inside the caller's transaction: the records in two multi-row
    /// statements (new, replaced), then the changes, lines, duplicates, operations and audit entries —
    /// the entries in the order the SQLite store appends them.
    func write(_ connection: PostgresConnection, connector: String, _ writes: RecordWrites) async throws -> Int {
        var audit = writes.audit
        var reappeared = 0
        // The rows a replacement overwrites: whether each is a destroyed record's tombstone, and its reference.
        let replacing = writes.upserts.filter { !$0.isNew }.map(\.key)
        var existing: [Int64: (destroyed: Bool, reference: String)] = [:]
        if !replacing.isEmpty {
            let rows = try await connection.query(
                "SELECT key, phase IS NOT DISTINCT FROM 'deleted', ref FROM record_state WHERE key = ANY(\(replacing))", logger: logger)
            for try await (key, destroyed, reference) in rows.decode((Int64, Bool, String).self) { existing[key] = (destroyed, reference) }
        }
        // An earlier version's tombstone of a record read again: the record takes its place.
        let moved = try await moveLegacyTombstones(connection, connector: connector, writes.upserts)
        if !moved.isEmpty {
            let rows = try await connection.query(
                "SELECT key, phase IS NOT DISTINCT FROM 'deleted', ref FROM record_state WHERE key = ANY(\(Array(moved)))", logger: logger)
            for try await (key, destroyed, reference) in rows.decode((Int64, Bool, String).self) { existing[key] = (destroyed, reference) }
        }
        var inserts = RecordColumns(), replacements = RecordColumns()
        var queueing = try await OperationQueue(connection, writes.upserts.flatMap(\.operations) + writes.changes.flatMap(\.operations), logger: logger)
        var seen = Set<Int64>()
        for upsert in writes.upserts {
            if let found = existing[upsert.key], seen.contains(upsert.key) || !upsert.isNew || moved.contains(upsert.key) {
                if found.destroyed && !seen.contains(upsert.key) {
                    reappeared += 1
                    audit.append(AuditDraft(at: writes.at, event: "record.reappeared", connector: connector, reference: found.reference,
                                            detail: ["reason": "seen again after its destruction"]))
                }
                try replacements.append(upsert, reappeared: found.destroyed && !seen.contains(upsert.key))
            } else {
                try inserts.append(upsert, reappeared: false)
                existing[upsert.key] = (false, upsert.reference)
            }
            seen.insert(upsert.key)
            queueing.queue(upsert.operations, audit: &audit)
        }
        try await inserts.insert(connection, connector: connector, logger: logger)
        try await replacements.replace(connection, logger: logger)
        if !writes.changes.isEmpty {
            var keys: [Int64] = [], phases: [String] = [], states: [ByteBuffer] = [], expiries: [Double?] = [], dues: [Double?] = []
            for change in writes.changes {
                keys.append(change.key)
                phases.append(change.state.phase.rawValue)
                states.append(StoreCodec.encode(state: change.state).buffer)
                expiries.append(change.state.finalExpiry?.timeIntervalSince1970)
                dues.append(change.nextDue?.timeIntervalSince1970)
                queueing.queue(change.operations, audit: &audit)
            }
            // The last change of a key wins, as when they are applied one after the other.
            try await connection.query(
                """
                UPDATE record_state r SET phase = u.phase, state = u.state, final_expiry = u.expiry, next_due = u.due
                FROM (SELECT DISTINCT ON (key) * FROM UNNEST(\(keys), \(phases), \(states), \(NullableArray(expiries)), \(NullableArray(dues)))
                      WITH ORDINALITY AS t(key, phase, state, expiry, due, n) ORDER BY key, n DESC) u
                WHERE r.key = u.key
                """, logger: logger)
        }
        try await queueing.write(connection, logger: logger)
        if !writes.lines.isEmpty {
            try await connection.query(
                """
                UPDATE record_state r SET line = u.line
                FROM (SELECT DISTINCT ON (key) * FROM UNNEST(\(writes.lines.map(\.key)), \(writes.lines.map { Int64($0.line) }))
                      WITH ORDINALITY AS t(key, line, n) ORDER BY key, n DESC) u
                WHERE r.key = u.key
                """, logger: logger)
        }
        if !writes.duplicates.isEmpty { try await duplicate(connection, connector: connector, writes.duplicates, at: writes.at, audit: &audit) }
        // Erased fields that hold values again count as a return of the record.
        var counts: [Int64: (reference: String, count: Int64)] = [:]
        let returned = audit.filter { $0.event == "fields.reappeared" }.compactMap(\.reference)
        let returnedKeys = returned.isEmpty ? [:] : try await recordKeys(connection, references: returned)
        for draft in audit where draft.event == "fields.reappeared" {
            if let reference = draft.reference, let key = returnedKeys[reference] {
                counts[key, default: (reference, 0)].count += 1
            }
        }
        if !counts.isEmpty {
            let entries = counts.sorted { $0.key < $1.key }
            try await connection.query(
                """
                UPDATE record_state r SET reappeared = r.reappeared + u.n
                FROM UNNEST(\(entries.map(\.key)), \(entries.map(\.value.reference)), \(entries.map(\.value.count))) AS u(key, ref, n)
                WHERE r.key = u.key AND r.connector = \(connector) AND r.ref = u.ref
                """, logger: logger)
        }
        try await appendAudit(connection, audit)
        return reappeared
    }

    /// Quarantines records whose id was on several rows (their last copy is unreliable): phase,
    /// lines and reason; what they had queued and not done yet is cancelled.
    private func duplicate(
        _ connection: PostgresConnection, connector: String, _ duplicates: [(key: Int64, lines: [Int], wasQuarantined: Bool)], at: Date,
        audit: inout [AuditDraft]
    ) async throws {
        let quarantined = StoreCodec.encode(state: LifecycleState(phase: .quarantined))
        for (key, lines, wasQuarantined) in duplicates {
            let rows = try await connection.query(
                "SELECT ref, phase FROM record_state WHERE key = \(key) AND record_id IS NOT NULL", logger: logger)
            var found: (reference: String, phase: String?)?
            for try await row in rows.decode((String, String?).self) { found = row }
            guard let (reference, phase) = found else { continue }
            let reason = QuarantineReason.duplicateID(lines: lines)
            try await connection.query(
                """
                UPDATE record_state SET phase = 'quarantined', state = \(quarantined), dup_lines = \(try StoreCoding.encode(lines)),
                    reason = \(StoreText.reasonText(reason)), digest = NULL, next_due = NULL
                WHERE key = \(key)
                """, logger: logger)
            if !wasQuarantined, phase != RecordPhase.quarantined.rawValue {
                audit.append(AuditDraft(at: at, event: "record.quarantined", connector: connector, reference: reference, detail: ["reason": reason.code]))
            }
            let pending = try await connection.query(
                """
                SELECT id, status FROM outbox WHERE connector = \(connector) AND ref = \(reference)
                    AND status IN ('pending', 'awaiting-approval', 'staged') ORDER BY position
                """, logger: logger)
            for try await (id, status) in pending.decode((String, String).self) {
                // Staged operations were never published: they simply go.
                if status == OperationStatus.staged.rawValue {
                    try await connection.query("DELETE FROM outbox WHERE id = \(id) AND status = 'staged'", logger: logger)
                    continue
                }
                try await connection.query(
                    "UPDATE outbox SET status = 'cancelled', updated_at = \(Date().timeIntervalSince1970) WHERE id = \(id)", logger: logger)
                audit.append(AuditDraft(at: at, event: "operation.cancelled", connector: connector, reference: reference, operation: id,
                                        detail: ["reason": "the id occurs more than once"]))
            }
        }
    }

    public func tombstone(connector: String, keys: [Int64], phase: RecordPhase, at: Date, via: String) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await transaction("tombstone records") { connection in
            let references = try await tombstone(connection, keys: keys, phase: phase)
            try await appendAudit(connection, references.map {
                AuditDraft(at: at, event: "record.\(phase.rawValue)", connector: connector, reference: $0.reference, detail: ["via": via])
            })
            return references.count
        }
    }

    /// Keeps only the key, the reference and the phase of these live records; their operations forget
    /// the record's id and what was pending for them is cancelled. Returns the records tombstoned, in
    /// the order of `keys`.
    func tombstone(_ connection: PostgresConnection, keys: [Int64], phase: RecordPhase) async throws -> [(connector: String, reference: String)] {
        var unique = Set<Int64>()
        let ordered = keys.filter { unique.insert($0).inserted }
        let state = StoreCodec.encode(state: LifecycleState(phase: phase))
        let rows = try await connection.query(
            """
            UPDATE record_state r SET record_id = NULL, digest = NULL, facts = NULL, dup_lines = NULL, reason = NULL, line = NULL,
                phase = \(phase.rawValue), state = \(state), next_due = NULL
            FROM UNNEST(\(ordered)) WITH ORDINALITY AS u(key, n)
            WHERE r.key = u.key AND r.record_id IS NOT NULL RETURNING u.n, r.connector, r.ref
            """, logger: logger)
        var tombstoned: [(n: Int64, connector: String, reference: String)] = []
        for try await row in rows.decode((Int64, String, String).self) { tombstoned.append(row) }
        tombstoned.sort { $0.n < $1.n }
        guard !tombstoned.isEmpty else { return [] }
        try await forget(connection, tombstoned.map { ($0.connector, $0.reference) })
        try await connection.query("DELETE FROM missing_records WHERE key = ANY(\(ordered))", logger: logger)
        return tombstoned.map { ($0.connector, $0.reference) }
    }

    /// Every operation of these records forgets the record's id; what was still pending is cancelled.
    func forget(_ connection: PostgresConnection, _ records: [(connector: String, reference: String)]) async throws {
        guard !records.isEmpty else { return }
        try await connection.query(
            """
            UPDATE outbox o SET record_id = NULL,
                status = CASE WHEN o.status IN ('pending', 'awaiting-approval', 'staged') THEN 'cancelled' ELSE o.status END,
                updated_at = CASE WHEN o.status IN ('pending', 'awaiting-approval', 'staged') THEN \(Date().timeIntervalSince1970) ELSE o.updated_at END
            FROM (SELECT DISTINCT c, r FROM UNNEST(\(records.map(\.connector)), \(records.map(\.reference))) AS t(c, r)) u
            WHERE o.connector = u.c AND o.ref = u.r
            """, logger: logger)
    }

    // MARK: Disappearances

    public func holdDisappearances(connector: String, keys: [Int64], batch: String, at: Date) async throws {
        guard !keys.isEmpty else { return }
        try await transaction("hold disappearances") { connection in
            try await connection.query(
                """
                INSERT INTO missing_records (key, connector, batch, noticed_at)
                SELECT DISTINCT key, \(connector), \(batch), \(at.timeIntervalSince1970)::double precision FROM UNNEST(\(keys)) AS u(key)
                ON CONFLICT (key) DO UPDATE SET batch = excluded.batch
                WHERE (SELECT status FROM approval_batches WHERE id = missing_records.batch) IS DISTINCT FROM 'approved'
                """, logger: logger)
            try await appendAudit(connection, [
                AuditDraft(at: at, event: "records.missing-held", connector: connector, detail: ["records": String(keys.count), "batch": batch])
            ])
        }
    }

    public func approvedDisappearances(connector: String, stillMissing: [Int64]) async throws -> Set<Int64> {
        try await transaction("read approved disappearances") { connection in
            try await connection.query(
                "DELETE FROM missing_records WHERE connector = \(connector) AND NOT (key = ANY(\(stillMissing)))", logger: logger)
            return Set(try await connection.all(
                """
                SELECT m.key FROM missing_records m JOIN approval_batches b ON b.id = m.batch
                WHERE m.connector = \(connector) AND b.status = 'approved'
                """, Int64.self, logger: logger))
        }
    }
}

/// The columns of records written in one multi-row statement.
struct RecordColumns {
    var keys: [Int64] = [], references: [String] = [], ids: [String] = [], digests: [Int64?] = [], facts: [ByteBuffer?] = []
    var phases: [String] = [], states: [ByteBuffer] = [], dues: [Double?] = [], expiries: [Double?] = [], lines: [Int64?] = []
    var duplicates: [String?] = [], reasons: [String?] = [], reappeared: [Int64] = []

    mutating func append(_ upsert: RecordUpsert, reappeared destroyed: Bool) throws {
        keys.append(upsert.key)
        references.append(upsert.reference)
        ids.append(upsert.recordID)
        digests.append(upsert.digest.map { Int64(bitPattern: $0) })
        let encoded = upsert.encodedForStore
        facts.append(encoded.facts?.buffer)
        phases.append(upsert.state.phase.rawValue)
        states.append(encoded.state.buffer)
        dues.append(upsert.nextDue?.timeIntervalSince1970)
        expiries.append(upsert.state.finalExpiry?.timeIntervalSince1970)
        lines.append(upsert.line.map(Int64.init))
        duplicates.append(upsert.duplicateLines.isEmpty ? nil : try StoreCoding.encode(upsert.duplicateLines))
        reasons.append(StoreText.reasonText(upsert.reason))
        reappeared.append(destroyed ? 1 : 0)
    }

    func insert(_ connection: PostgresConnection, connector: String, logger: Logger) async throws {
        guard !keys.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO record_state (key, connector, ref, record_id, digest, facts, phase, state, next_due, final_expiry, line, dup_lines, reason)
            SELECT key, \(connector), ref, id, digest, facts, phase, state, due, expiry, line, dups, reason
            FROM UNNEST(\(keys), \(references), \(ids), \(NullableArray(digests)), \(NullableArray(facts)), \(phases), \(states),
                \(NullableArray(dues)), \(NullableArray(expiries)), \(NullableArray(lines)), \(NullableArray(duplicates)), \(NullableArray(reasons)))
                WITH ORDINALITY AS u(key, ref, id, digest, facts, phase, state, due, expiry, line, dups, reason, n)
            ORDER BY n
            """, logger: logger)
    }

    /// Replaces rows by key; a key written twice takes its last values, counted once.
    func replace(_ connection: PostgresConnection, logger: Logger) async throws {
        guard !keys.isEmpty else { return }
        try await connection.query(
            """
            UPDATE record_state r SET record_id = u.id, digest = u.digest, facts = u.facts, phase = u.phase, state = u.state,
                next_due = u.due, final_expiry = u.expiry, line = u.line, dup_lines = u.dups, reason = u.reason,
                reappeared = r.reappeared + u.back
            FROM (SELECT DISTINCT ON (key) *, SUM(inc) OVER (PARTITION BY key) AS back FROM UNNEST(\(keys), \(ids), \(NullableArray(digests)),
                    \(NullableArray(facts)), \(phases), \(states), \(NullableArray(dues)), \(NullableArray(expiries)), \(NullableArray(lines)),
                    \(NullableArray(duplicates)), \(NullableArray(reasons)), \(reappeared))
                    WITH ORDINALITY AS t(key, id, digest, facts, phase, state, due, expiry, line, dups, reason, inc, n)
                  ORDER BY key, n DESC) u
            WHERE r.key = u.key
            """, logger: logger)
    }
}
