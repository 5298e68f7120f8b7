import Crypto
public import Foundation
import GRDB
import RetentionCore

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
        var link = AuditChain.Link(previous: head["hash"])
        var vocabulary = try AuditVocabulary.load(db)
        let insert = try RawStatement(
            db,
            sql: "INSERT INTO audit (seq, at, event, connector, ref, rule, operation, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        for draft in drafts {
            seq += 1
            let keys = draft.detail.keys.sorted()
            let hash = link.append(seq: seq, draft: draft, keys: keys)
            try insert.bind(seq).bind(draft.at.timeIntervalSince1970)
                .bind(try AuditCodec.encodeWord(draft.event, &vocabulary, db))
                .bind(try AuditCodec.encodeWord(draft.connector, &vocabulary, db))
                .bind(AuditCodec.encodeReference(draft.reference))
                .bind(try AuditCodec.encodeWord(draft.rule, &vocabulary, db))
                .bind(AuditCodec.encodeReference(draft.operation))
                .bind(try AuditCodec.encodeDetail(draft.detail, keys: keys, &vocabulary, db))
                .bind(Data(hash).databaseValue)
                .run()
        }
        try db.cachedStatement(sql: "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1").execute(arguments: [seq, link.previous])
    }

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await queue.read { db in
            let vocabulary = try AuditVocabulary.load(db)
            var previous = try seq <= 0 ? AuditChain.genesis
                : (DatabaseValue.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [seq]).map(AuditCodec.decodeHash) ?? "")
            var entries: [AuditEntry] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT \(Self.auditColumns) FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
            while let row = try rows.next() {
                let stored = try Self.storedAuditEntry(row, previous: previous, vocabulary: vocabulary)
                entries.append(stored.entry)
                previous = stored.entry.hash
            }
            return entries
        }
    }

    static let auditColumns = "seq, at, event, connector, ref, rule, operation, detail, hash"

    /// An entry as stored (columns in `auditColumns` order), and whether its detail is stored as Lethe writes it.
    static func storedAuditEntry(_ row: Row, previous: String, vocabulary: AuditVocabulary) throws -> (entry: AuditEntry, canonicalDetail: Bool) {
        let detail = try AuditCodec.decodeDetail(row[7], vocabulary)
        let entry = AuditEntry(
            seq: row[0],
            draft: AuditDraft(
                at: Date(timeIntervalSince1970: row[1]), event: try AuditCodec.decodeWord(row[2], vocabulary) ?? "",
                connector: try AuditCodec.decodeWord(row[3], vocabulary), reference: try AuditCodec.decodeReference(row[4]),
                rule: try AuditCodec.decodeWord(row[5], vocabulary), operation: try AuditCodec.decodeReference(row[6]),
                detail: detail.detail
            ),
            previousHash: previous,
            hash: AuditCodec.decodeHash(row[8])
        )
        return (entry, detail.canonical)
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
                let last = try Self.lastAuditEntry(db, where: "seq = \(head["seq"] as Int64)"),
                last.event == AuditCheckpoint.event,
                let current = AuditCheckpoint(detail: last.detail)
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
            let event = try Int64.fetchOne(db, sql: "SELECT id FROM audit_words WHERE word = ?", arguments: [AuditCheckpoint.event])
            guard let event else { return nil }
            return try Self.lastAuditEntry(db, where: "event = \(event)").flatMap { AuditCheckpoint(detail: $0.detail) }
        }
    }

    /// The content of the last entry that matches `condition` (SQL over the stored columns).
    static func lastAuditEntry(_ db: Database, where condition: String) throws -> AuditDraft? {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(auditColumns) FROM audit WHERE \(condition) ORDER BY seq DESC LIMIT 1") else {
            return nil
        }
        return try storedAuditEntry(row, previous: "", vocabulary: AuditVocabulary.load(db)).entry.draft
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
            var verifier = AuditVerifier()
            let vocabulary = try AuditVocabulary.load(db)
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(Self.auditColumns) FROM audit ORDER BY seq")
            while let row = try cursor.next() {
                let previous = verifier.previousHash
                if let failure = verifier.check(seq: row[0], read: { try Self.storedAuditEntry(row, previous: previous, vocabulary: vocabulary) }) {
                    return failure
                }
            }
            let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_head WHERE id = 1").map { (seq: $0[0] as Int64, hash: $0[1] as String) }
            return verifier.finish(head: head)
        }
    }
}
