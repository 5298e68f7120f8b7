import Foundation
import GRDB
import RetentionCore

/// The SQLite schema, as numbered migrations. Never edit a shipped migration: add a new one.
///
/// `record_state` holds one compact row per record (`StoreCodec` bytes for its facts and lifecycle
/// state; `phase`, `next_due` and `final_expiry` repeat parts of the state so that queries can filter
/// on them), stored in the order records are first read and found by their 64-bit key through one
/// unique index. `outbox` is a rowid table on purpose: its ids are hashes, so rows are stored in the
/// order they are queued and executions walk them in that order.
enum SQLiteMigrations {
    /// The migrations; `fingerprints` computes record keys when older states are converted,
    /// `operationIDs` and `eventDigests` the keyed ids that replace unkeyed ones.
    static func migrator(
        fingerprints: RecordFingerprints, operationIDs: OperationIdentifier, eventDigests: WebhookEventDigests
    ) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE runs (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, connector TEXT NOT NULL, as_of REAL NOT NULL,
                        dry_run INTEGER NOT NULL, started_at REAL NOT NULL, finished_at REAL, summary TEXT);
                    CREATE TABLE records (
                        connector TEXT NOT NULL, ref TEXT NOT NULL, record_id TEXT, fields BLOB, line INTEGER,
                        defect TEXT, phase TEXT, state BLOB, final_expiry REAL, dup_lines TEXT,
                        seen_run INTEGER NOT NULL, updated_at REAL NOT NULL,
                        PRIMARY KEY (connector, ref));
                    CREATE INDEX records_phase ON records(connector, phase);
                    CREATE TABLE outbox (
                        id TEXT PRIMARY KEY, connector TEXT NOT NULL, ref TEXT NOT NULL, record_id TEXT,
                        kind TEXT NOT NULL, rule TEXT NOT NULL, cycle REAL NOT NULL, fields BLOB NOT NULL,
                        status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL,
                        last_error TEXT, batch TEXT, receipt TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL);
                    CREATE INDEX outbox_status ON outbox(connector, status);
                    CREATE INDEX outbox_ref ON outbox(connector, ref);
                    CREATE INDEX outbox_batch ON outbox(batch);
                    CREATE TABLE approval_batches (
                        id TEXT PRIMARY KEY, connector TEXT NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL,
                        approved_at REAL, approved_by TEXT);
                    CREATE TABLE holds (
                        connector TEXT NOT NULL, ref TEXT NOT NULL, reason TEXT NOT NULL, created_by TEXT NOT NULL,
                        created_at REAL NOT NULL, PRIMARY KEY (connector, ref));
                    CREATE TABLE watermarks (connector TEXT PRIMARY KEY, value TEXT);
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY, at REAL NOT NULL, event TEXT NOT NULL, connector TEXT, ref TEXT,
                        rule TEXT, operation TEXT, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
                    CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL);
                    INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\(AuditChain.genesis)');
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                    """
            )
        }
        // Webhook intake: record events persisted before the delivery is acknowledged. No bodies:
        // a delivery's personal data (changed property values) is never stored, only which record
        // changed and whether it was deleted. (connector, event_id) is unique: replays change nothing.
        migrator.registerMigration("v2-webhooks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhook_events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, connector TEXT NOT NULL, event_id TEXT NOT NULL,
                        record_id TEXT NOT NULL, deleted INTEGER NOT NULL, received_at REAL NOT NULL, processed_at REAL,
                        UNIQUE (connector, event_id));
                    CREATE INDEX webhook_events_pending ON webhook_events(connector, processed_at, seq);
                    """
            )
        }
        // The daemon's scheduler: when each (connector, kind) last started, so that runs missed
        // during downtime run once on start.
        migrator.registerMigration("v3-schedule") { db in
            try db.execute(sql: "CREATE TABLE schedule_marks (key TEXT PRIMARY KEY, started_at REAL NOT NULL)")
        }
        // One consent decision (extend or decline) per record, rule and cycle: a reused link changes nothing.
        migrator.registerMigration("v4-consent") { db in
            try db.execute(
                sql: """
                    CREATE TABLE consent_decisions (
                        connector TEXT NOT NULL, ref TEXT NOT NULL, rule TEXT NOT NULL, cycle REAL NOT NULL,
                        action TEXT NOT NULL, decided_at REAL NOT NULL, PRIMARY KEY (connector, ref, rule, cycle));
                    """
            )
        }
        // Webhook events whose processing fails are retried with backoff and, after their attempts,
        // dead-lettered (kept and counted, never processed again), so one bad batch cannot block a connector.
        migrator.registerMigration("v5-webhook-attempts") { db in
            try db.execute(
                sql: """
                    ALTER TABLE webhook_events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE webhook_events ADD COLUMN next_attempt_at REAL;
                    ALTER TABLE webhook_events ADD COLUMN dead_at REAL;
                    ALTER TABLE webhook_events ADD COLUMN last_error TEXT;
                    """
            )
        }
        // Records missing from a full pull beyond the safety limits: held in an approval batch instead
        // of being tombstoned (a truncated export must not make most records "gone" without a word).
        migrator.registerMigration("v6-disappearances") { db in
            try db.execute(
                sql: """
                    CREATE TABLE disappearances (
                        connector TEXT NOT NULL, ref TEXT NOT NULL, batch TEXT NOT NULL, noticed_at REAL NOT NULL,
                        PRIMARY KEY (connector, ref));
                    CREATE INDEX disappearances_batch ON disappearances(batch);
                    """
            )
        }
        // How often a record (or its erased fields) came back after Lethe destroyed it: enforced again, counted.
        migrator.registerMigration("v7-reappeared") { db in
            try db.execute(sql: "ALTER TABLE records ADD COLUMN reappeared INTEGER NOT NULL DEFAULT 0")
        }
        // The lean state: one compact row per record, appended in the order records are first read
        // (so pages fill up and stay together) and found by its 64-bit key through one small index,
        // holding policy facts, never field values. The copies of every
        // contact's fields that earlier versions kept are dropped for good (secure_delete, then VACUUM
        // when the store opens). Records of earlier versions keep their references (`legacy_refs`
        // finds them by reference) and are read again from their source at the next full sync.
        migrator.registerMigration("v8-lean-records") { db in
            let keyOf = DatabaseFunction("lethe_record_key", argumentCount: 3, pure: true) { values in
                let connector = String.fromDatabaseValue(values[0]) ?? ""
                if let id = String.fromDatabaseValue(values[1]) { return fingerprints.key(connector: connector, id: id) }
                return SQLiteStateStore.legacyKey(String.fromDatabaseValue(values[2]) ?? "")
            }
            db.add(function: keyOf)
            defer { db.remove(function: keyOf) }
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(
                sql: """
                    CREATE TABLE record_state (
                        slot INTEGER PRIMARY KEY, key INTEGER NOT NULL, connector TEXT NOT NULL, ref TEXT NOT NULL, record_id TEXT,
                        digest INTEGER, facts BLOB, phase TEXT, state BLOB, next_due REAL, final_expiry REAL, line INTEGER,
                        dup_lines TEXT, reason TEXT, reappeared INTEGER NOT NULL DEFAULT 0);
                    CREATE UNIQUE INDEX record_state_key ON record_state(key);
                    INSERT INTO record_state (key, connector, ref, record_id, phase, state, next_due, final_expiry, line, dup_lines, reappeared)
                        SELECT lethe_record_key(connector, record_id, ref), connector, ref, record_id, phase, state,
                            CASE WHEN record_id IS NULL THEN NULL ELSE 0 END, final_expiry, line, dup_lines, reappeared
                        FROM records;
                    CREATE TABLE legacy_refs (ref TEXT PRIMARY KEY, key INTEGER NOT NULL) WITHOUT ROWID;
                    INSERT INTO legacy_refs (ref, key) SELECT ref, key FROM record_state;
                    CREATE TABLE missing_records (
                        key INTEGER PRIMARY KEY, connector TEXT NOT NULL, batch TEXT NOT NULL, noticed_at REAL NOT NULL);
                    INSERT OR IGNORE INTO missing_records (key, connector, batch, noticed_at)
                        SELECT l.key, d.connector, d.batch, d.noticed_at FROM disappearances d JOIN legacy_refs l ON l.ref = d.ref;
                    DROP TABLE disappearances;
                    DROP TABLE records;
                    CREATE TABLE readings (connector TEXT PRIMARY KEY, fingerprint TEXT NOT NULL);
                    """
            )
        }
        // Staged operations name their record's key, so the safety check publishes them set-based.
        migrator.registerMigration("v9-outbox-record-key") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN rkey INTEGER")
        }
        // Ids that outlive a destruction are keyed: operation ids (in the audit log for good) become
        // HMACs under the installation's key, webhook event ids (some embed the record id) keyed
        // digests, and processed webhook events forget their record id. Operations still holding their
        // record's id get the keyed id of the same round; entries already in the audit log keep theirs.
        migrator.registerMigration("v10-keyed-ids") { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, connector, record_id, kind, rule, cycle FROM outbox WHERE record_id IS NOT NULL")
            let rename = try db.makeStatement(sql: "UPDATE outbox SET id = ? WHERE id = ?")
            for row in rows {
                let id: String = row[0], connector: String = row[1], recordID: String = row[2]
                guard let kind = OperationKind(rawValue: row[3]) else { continue }
                let planned = PlannedOperation(kind: kind, rule: row[4], cycle: Date(timeIntervalSince1970: row[5]))
                guard let round = (0..<64).first(where: {
                    OperationIdentifier.unkeyed(connector: connector, recordID: recordID, operation: planned, round: $0) == id
                }) else { continue }
                try rename.execute(arguments: [operationIDs.make(connector: connector, recordID: recordID, operation: planned, round: round), id])
            }
            let events = try Row.fetchAll(db, sql: "SELECT seq, connector, event_id FROM webhook_events")
            let digest = try db.makeStatement(sql: "UPDATE webhook_events SET event_id = ? WHERE seq = ?")
            for event in events {
                let seq: Int64 = event[0], connector: String = event[1], eventID: String = event[2]
                try digest.execute(arguments: [eventDigests.digest(connector: connector, eventID: eventID), seq])
            }
            try db.execute(sql: "UPDATE webhook_events SET record_id = '' WHERE processed_at IS NOT NULL")
        }
        // A consent decision made while a sync held the connector is recorded at once and applied
        // (its operations queued) when the connector is free: `applied_at` is NULL until then.
        migrator.registerMigration("v11-consent-applied") { db in
            try db.execute(
                sql: """
                    ALTER TABLE consent_decisions ADD COLUMN applied_at REAL;
                    UPDATE consent_decisions SET applied_at = decided_at;
                    CREATE INDEX consent_pending ON consent_decisions(connector) WHERE applied_at IS NULL;
                    """
            )
        }
        // The audit log, compact (`AuditCodec`): the words entries repeat stored once in `audit_words`
        // (append-only too), references and hashes as bytes, the previous hash not stored again (it is
        // the previous entry's). Every hash stays what it was — each covers the same canonical text —
        // so the head and the signed checkpoints still hold. A detail that is not what Lethe writes (an
        // edited entry) is kept as it is, for verification to find.
        migrator.registerMigration("v12-compact-audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_words (id INTEGER PRIMARY KEY, word TEXT NOT NULL UNIQUE);
                    CREATE TRIGGER audit_words_no_update BEFORE UPDATE ON audit_words BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                    CREATE TRIGGER audit_words_no_delete BEFORE DELETE ON audit_words BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                    CREATE TABLE audit_compact (
                        seq INTEGER PRIMARY KEY, at REAL NOT NULL, event NOT NULL, connector, ref, rule, operation, detail NOT NULL, hash NOT NULL);
                    """
            )
            var vocabulary = try AuditVocabulary.load(db)
            let insert = try RawStatement(
                db,
                sql: "INSERT INTO audit_compact (seq, at, event, connector, ref, rule, operation, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, at, event, connector, ref, rule, operation, detail, hash FROM audit ORDER BY seq")
            while let row = try rows.next() {
                let text: String = row[7]
                let detail: DatabaseValue
                if let parsed = try? StoreCoding.decoder.decode([String: String].self, from: Data(text.utf8)), AuditChain.detailJSON(parsed) == text {
                    detail = try AuditCodec.encodeDetail(parsed, &vocabulary, db)
                } else {
                    detail = text.databaseValue
                }
                try insert.bind(row[0] as Int64).bind(row[1] as Double)
                    .bind(try AuditCodec.encodeWord(row[2], &vocabulary, db)).bind(try AuditCodec.encodeWord(row[3], &vocabulary, db))
                    .bind(AuditCodec.encodeReference(row[4])).bind(try AuditCodec.encodeWord(row[5], &vocabulary, db))
                    .bind(AuditCodec.encodeReference(row[6])).bind(detail).bind(AuditCodec.encodeHash(row[8]))
                    .run()
            }
            try db.execute(
                sql: """
                    DROP TRIGGER audit_no_update;
                    DROP TRIGGER audit_no_delete;
                    DROP TABLE audit;
                    ALTER TABLE audit_compact RENAME TO audit;
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
                    """
            )
        }
        // Approvals by operator (the four-eyes rule: a large batch needs two different operators) and
        // rejected batches. A sign-off records the batch's size when it was given, so an approval never
        // covers deletes added to the batch after it. Names are operators' (roles or logins), never contacts'.
        migrator.registerMigration("v13-approval-signoffs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE approval_signoffs (
                        batch TEXT NOT NULL, operator TEXT NOT NULL, recorded_as TEXT NOT NULL, signed_at REAL NOT NULL,
                        operations INTEGER NOT NULL, missing INTEGER NOT NULL, PRIMARY KEY (batch, operator));
                    ALTER TABLE approval_batches ADD COLUMN rejected_at REAL;
                    ALTER TABLE approval_batches ADD COLUMN rejected_by TEXT;
                    ALTER TABLE approval_batches ADD COLUMN rejection_reason TEXT;
                    """
            )
        }
        // Operator alerts (`AlertStore`): one mark per event mailed to the operators, claimed before the
        // mail is sent and marked sent after. Keys name events (batch ids, operation ids, connectors) only.
        migrator.registerMigration("v14-alert-marks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alert_marks (
                        key TEXT PRIMARY KEY, state TEXT NOT NULL, claimant TEXT NOT NULL, claimed_at REAL NOT NULL, sent_at REAL);
                    """
            )
        }
        // The request budgets shared by every client of one CRM account (`SharedRateBudget`): one
        // theoretical arrival time per account. Account keys are hosts and credential fingerprints.
        migrator.registerMigration("v15-rate-budgets") { db in
            try db.execute(sql: "CREATE TABLE rate_budgets (account TEXT PRIMARY KEY, tat REAL NOT NULL)")
        }
        // Claims on pending operations (`OutboxClaimStore`): which executor holds one (a random
        // per-process token) and until when, by the operation's position (its outbox rowid). A table
        // of its own: a claim is one small row, not another version of the operation's row.
        migrator.registerMigration("v16-outbox-claims") { db in
            try db.execute(
                sql: """
                    CREATE TABLE outbox_claims (
                        position INTEGER PRIMARY KEY, connector TEXT NOT NULL, claimed_by TEXT NOT NULL, claimed_until REAL NOT NULL);
                    """
            )
        }
        return migrator
    }
}
