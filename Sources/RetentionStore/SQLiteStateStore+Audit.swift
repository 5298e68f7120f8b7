import Crypto
public import Foundation
import GRDB
public import RetentionCore

extension SQLiteStateStore {
    public func appendAudit(_ drafts: [AuditDraft]) async throws {
        try await queue.write { db in try Self.appendAudit(db, drafts) }
    }

    /// Chains and appends entries inside the caller's transaction, moving the head with them.
    static func appendAudit(_ db: Database, _ drafts: [AuditDraft]) throws {
        guard !drafts.isEmpty else { return }
        guard let head = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit_head WHERE id = 1")) else {
            throw StoreError(code: "audit.no_head", message: "the audit head is missing")
        }
        var seq: Int64 = head["seq"]
        var previous: String = head["hash"]
        let insert = try RawStatement(
            db,
            sql: """
                INSERT INTO audit (seq, at, event, connector, ref, rule, operation, detail, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        for draft in drafts {
            seq += 1
            let detail = AuditChain.detailJSON(draft.detail)
            let hash = AuditChain.hash(previous: previous, seq: seq, draft: draft, detailJSON: detail)
            try insert.bind(seq).bind(draft.at.timeIntervalSince1970).bind(draft.event).bind(draft.connector).bind(draft.reference)
                .bind(draft.rule).bind(draft.operation).bind(detail).bind(previous).bind(hash)
                .run()
            previous = hash
        }
        try db.cachedStatement(sql: "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1").execute(arguments: [seq, previous])
    }

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
                .map(Self.auditEntry)
        }
    }

    static func auditEntry(_ row: Row) throws -> AuditEntry {
        let detailText: String = row["detail"]
        let detail = (try? StoreCoding.decoder.decode([String: String].self, from: Data(detailText.utf8))) ?? ["_unreadable": detailText]
        return AuditEntry(
            seq: row["seq"],
            draft: AuditDraft(
                at: Date(timeIntervalSince1970: row["at"]), event: row["event"], connector: row["connector"],
                reference: row["ref"], rule: row["rule"], operation: row["operation"], detail: detail
            ),
            previousHash: row["prev_hash"],
            hash: row["hash"]
        )
    }

    public func auditPublicKey() async throws -> AuditPublicKey {
        if let stored = try await queue.read({ db in try Self.storedSigningKey(db).map { AuditPublicKey($0.publicKey) } }) { return stored }
        return try await queue.write { db in AuditPublicKey(try Self.signingKey(db).publicKey) }
    }

    public func appendAuditCheckpoint(at date: Date, unlessCurrent: Bool = false) async throws -> AuditCheckpoint {
        try await queue.write { db in
            let key = try Self.signingKey(db)
            guard let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1") else {
                throw StoreError(code: "audit.no_head", message: "the audit head is missing")
            }
            if unlessCurrent,
                let last = try Row.fetchOne(db, sql: "SELECT event, detail FROM audit WHERE seq = ?", arguments: [head["seq"] as Int64]),
                last["event"] == AuditCheckpoint.event,
                let current = Self.checkpoint(detail: last["detail"])
            {
                return current
            }
            let checkpoint = try AuditCheckpoint.sign(seq: head["seq"], hash: head["hash"], at: date, with: key)
            try Self.appendAudit(db, [AuditDraft(at: date, event: AuditCheckpoint.event, detail: checkpoint.detail)])
            return checkpoint
        }
    }

    public func latestAuditCheckpoint() async throws -> AuditCheckpoint? {
        try await queue.read { db in
            let detail = try String.fetchOne(
                db, sql: "SELECT detail FROM audit WHERE event = ? ORDER BY seq DESC LIMIT 1", arguments: [AuditCheckpoint.event])
            return detail.flatMap(Self.checkpoint(detail:))
        }
    }

    /// The checkpoint an `audit.checkpoint` entry's stored detail records.
    static func checkpoint(detail: String) -> AuditCheckpoint? {
        guard let fields = try? StoreCoding.decoder.decode([String: String].self, from: Data(detail.utf8)) else { return nil }
        return AuditCheckpoint(detail: fields)
    }

    /// The installation's audit signing key, created on first use (`meta.audit_signing_key`: the raw
    /// private key in base64). Inside a write transaction: the insert comes first, so two processes
    /// creating it at once agree on the one stored.
    static func signingKey(_ db: Database) throws -> Curve25519.Signing.PrivateKey {
        try db.execute(
            sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('audit_signing_key', ?)",
            arguments: [Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString()]
        )
        guard let key = try storedSigningKey(db) else {
            throw StoreError(code: "audit.no_signing_key", message: "the audit signing key could not be stored")
        }
        return key
    }

    static func storedSigningKey(_ db: Database) throws -> Curve25519.Signing.PrivateKey? {
        guard let text = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'audit_signing_key'") else { return nil }
        guard let raw = Data(base64Encoded: text), let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw StoreError(code: "audit.bad_signing_key", message: "the audit signing key in the state is unreadable")
        }
        return key
    }

    public func verifyAudit() async throws -> AuditVerification {
        try await queue.read { db in
            var expectedSeq: Int64 = 0
            var previous = AuditChain.genesis
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
            while let row = try cursor.next() {
                expectedSeq += 1
                let entry = try Self.auditEntry(row)
                let detailText: String = row["detail"]
                func failure(_ problem: String) -> AuditVerification {
                    AuditVerification(ok: false, entries: expectedSeq - 1, headHash: previous, problem: "entry \(entry.seq): \(problem)")
                }
                if entry.seq != expectedSeq { return failure("expected entry \(expectedSeq): entries were removed or inserted") }
                if entry.previousHash != previous { return failure("its link to the previous entry is broken") }
                if AuditChain.detailJSON(entry.draft.detail) != detailText {
                    return failure("its detail was edited")
                }
                if AuditChain.hash(previous: previous, seq: entry.seq, draft: entry.draft) != entry.hash {
                    return failure("its content does not match its hash (edited)")
                }
                previous = entry.hash
            }
            guard let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1") else {
                return AuditVerification(ok: false, entries: expectedSeq, headHash: previous, problem: "the audit head is missing")
            }
            let headSeq: Int64 = head["seq"]
            let headHash: String = head["hash"]
            if headSeq != expectedSeq || headHash != previous {
                return AuditVerification(
                    ok: false, entries: expectedSeq, headHash: previous,
                    problem: "the head records \(headSeq) entries but the log has \(expectedSeq): entries at the end were removed or added"
                )
            }
            return AuditVerification(ok: true, entries: expectedSeq, headHash: previous, problem: nil)
        }
    }
}
