import Crypto
public import Foundation
import NIOCore
import PostgresNIO
import RetentionCore
public import RetentionStore

/// The audit log: the same chain (`AuditChain`) and compact columns (`AuditCodec`) as the SQLite store,
/// appended by one writer at a time — the head row is locked (`FOR UPDATE`) until the transaction ends.
extension PostgresStateStore {
    /// A reference `AuditCodec` cannot encode is kept as this byte and its UTF-8.
    static let textReference: UInt8 = 0xFF

    static func encodeReference(_ value: String?) -> ByteBuffer? {
        guard let value else { return nil }
        return (AuditCodec.referenceBytes(value) ?? Data([textReference] + Array(value.utf8))).buffer
    }

    static func decodeReference(_ value: Data?) throws -> String? {
        guard let value else { return nil }
        if value.first == textReference { return String(decoding: value.dropFirst(), as: UTF8.self) }
        return try AuditCodec.reference(bytes: value)
    }

    public func appendAudit(_ drafts: [AuditDraft]) async throws {
        guard !drafts.isEmpty else { return }
        try await transaction("append to the audit log") { connection in try await appendAudit(connection, drafts) }
    }

    /// The vocabulary as stored.
    func vocabulary(_ connection: PostgresConnection) async throws -> AuditVocabulary {
        var vocabulary = AuditVocabulary()
        for try await (id, word) in try await connection.query("SELECT id, word FROM audit_words", logger: logger).decode((Int64, String).self) {
            vocabulary.add(id: id, word: word)
        }
        return vocabulary
    }

    /// Chains and appends entries inside the caller's transaction, moving the head with them, in one
    /// multi-row statement. The head row stays locked until the transaction ends.
    func appendAudit(_ connection: PostgresConnection, _ drafts: [AuditDraft]) async throws {
        guard !drafts.isEmpty else { return }
        let head = try await connection.query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE", logger: logger)
        var found: (Int64, String)?
        for try await row in head.decode((Int64, String).self) { found = row }
        guard var (seq, previous) = found else { throw StoreError(code: "audit.no_head", message: "the audit head is missing") }
        var link = AuditChain.Link(previous: previous)
        var vocabulary = try await vocabulary(connection)
        var fresh: [String] = []
        var added = Set<String>()
        for draft in drafts {
            for word in AuditCodec.words(of: draft) where vocabulary.id(of: word) == nil && added.insert(word).inserted { fresh.append(word) }
        }
        if !fresh.isEmpty {
            let rows = try await connection.query(
                """
                INSERT INTO audit_words (word) SELECT word FROM UNNEST(\(fresh)) WITH ORDINALITY AS u(word, n) ORDER BY n RETURNING id, word
                """, logger: logger)
            for try await (id, word) in rows.decode((Int64, String).self) { vocabulary.add(id: id, word: word) }
        }
        func id(_ word: String) throws -> Int64 {
            guard let id = vocabulary.id(of: word) else { throw StoreError(code: "audit.no_word", message: "an audit word was not stored") }
            return id
        }
        var seqs: [Int64] = [], ats: [Double] = [], events: [Int64] = [], connectors: [Int64?] = [], references: [ByteBuffer?] = []
        var rules: [Int64?] = [], operations: [ByteBuffer?] = [], details: [ByteBuffer] = [], hashes: [ByteBuffer] = []
        for draft in drafts {
            seq += 1
            let keys = draft.detail.keys.sorted()
            let hash = link.append(seq: seq, draft: draft, keys: keys)
            seqs.append(seq)
            ats.append(draft.at.timeIntervalSince1970)
            events.append(try id(draft.event))
            connectors.append(try draft.connector.map(id))
            references.append(Self.encodeReference(draft.reference))
            rules.append(try draft.rule.map(id))
            operations.append(Self.encodeReference(draft.operation))
            details.append(try AuditCodec.detailBytes(draft.detail, keys: keys, wordID: id).buffer)
            hashes.append(Data(hash).buffer)
        }
        previous = link.previous
        try await connection.query(
            """
            INSERT INTO audit (seq, at, event, connector, ref, rule, operation, detail, hash)
            SELECT * FROM UNNEST(\(seqs), \(ats), \(events), \(NullableArray(connectors)), \(NullableArray(references)), \(NullableArray(rules)),
                \(NullableArray(operations)), \(details), \(hashes))
            """, logger: logger)
        try await connection.query("UPDATE audit_head SET seq = \(seq), hash = \(previous) WHERE id = 1", logger: logger)
    }

    static let auditColumns = "seq, at, event, connector, ref, rule, operation, detail, hash"
    typealias AuditRow = (Int64, Double, Int64, Int64?, Data?, Int64?, Data?, Data, Data)

    /// An entry as stored.
    static func storedAuditEntry(_ row: AuditRow, previous: String, vocabulary: AuditVocabulary) throws -> AuditEntry {
        let (seq, at, event, connector, reference, rule, operation, detail, hash) = row
        func word(_ id: Int64) throws -> String {
            guard let word = vocabulary.word(id) else { throw StoreError(code: "audit.unreadable", message: "an audit entry names an unknown word \(id)") }
            return word
        }
        return AuditEntry(
            seq: seq,
            draft: AuditDraft(
                at: Date(timeIntervalSince1970: at), event: try word(event), connector: try connector.map(word),
                reference: try decodeReference(reference), rule: try rule.map(word), operation: try decodeReference(operation),
                detail: try AuditCodec.decodeDetail(bytes: [UInt8](detail), vocabulary)),
            previousHash: previous, hash: hash.hexString)
    }

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await read("read the audit log") { connection in
            let vocabulary = try await vocabulary(connection)
            var previous = AuditChain.genesis
            if seq > 0 {
                previous = try await connection.first("SELECT hash FROM audit WHERE seq = \(seq)", Data.self, logger: logger)?.hexString ?? ""
            }
            var entries: [AuditEntry] = []
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.auditColumns) FROM audit WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)", logger: logger)
            for try await row in rows.decode(AuditRow.self) {
                let entry = try Self.storedAuditEntry(row, previous: previous, vocabulary: vocabulary)
                entries.append(entry)
                previous = entry.hash
            }
            return entries
        }
    }

    public func verifyAudit() async throws -> AuditVerification {
        try await read("verify the audit log") { connection in
            // One snapshot for the words, the log and its head.
            try await PostgresTransaction.run(connection, logger: logger) { connection in
                try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
                return try await verifyAudit(connection)
            }
        }
    }

    /// Verifies the log and its head as the caller's transaction sees them.
    func verifyAudit(_ connection: PostgresConnection) async throws -> AuditVerification {
        var verifier = AuditVerifier()
        let vocabulary = try await vocabulary(connection)
        for try await row in try await connection.query("SELECT \(unescaped: Self.auditColumns) FROM audit ORDER BY seq", logger: logger)
            .decode(AuditRow.self) {
            let previous = verifier.previousHash
            if let failure = verifier.check(seq: row.0, read: {
                (try Self.storedAuditEntry(row, previous: previous, vocabulary: vocabulary), true)
            }) {
                return failure
            }
        }
        var head: (seq: Int64, hash: String)?
        for try await row in try await connection.query("SELECT seq, hash FROM audit_head WHERE id = 1", logger: logger).decode((Int64, String).self) {
            head = row
        }
        return verifier.finish(head: head)
    }

    public func auditPublicKey() async throws -> AuditPublicKey {
        try await transaction("read the audit signing key") { connection in AuditPublicKey(try await signingKey(connection).publicKey) }
    }

    /// The installation's audit signing key, created on first use (`lethe_meta.audit_signing_key`: the
    /// raw private key in base64); the insert comes first, so instances creating it at once agree.
    func signingKey(_ connection: PostgresConnection) async throws -> Curve25519.Signing.PrivateKey {
        let fresh = Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString()
        try await connection.query(
            "INSERT INTO lethe_meta (key, value) VALUES ('audit_signing_key', \(fresh)) ON CONFLICT (key) DO NOTHING", logger: logger)
        guard let text = try await connection.first("SELECT value FROM lethe_meta WHERE key = 'audit_signing_key'", String.self, logger: logger) else {
            throw StoreError(code: "audit.no_signing_key", message: "the audit signing key could not be stored")
        }
        guard let raw = Data(base64Encoded: text), let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw StoreError(code: "audit.bad_signing_key", message: "the audit signing key in the state is unreadable")
        }
        return key
    }

    public func appendAuditCheckpoint(at date: Date, unlessCurrent: Bool = false) async throws -> AuditCheckpoint {
        try await transaction("sign an audit checkpoint") { connection in
            let key = try await signingKey(connection)
            var found: (Int64, String)?
            for try await row in try await connection.query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE", logger: logger)
                .decode((Int64, String).self) { found = row }
            guard let (seq, hash) = found else { throw StoreError(code: "audit.no_head", message: "the audit head is missing") }
            if unlessCurrent, let last = try await lastAuditEntry(connection, "SELECT \(unescaped: Self.auditColumns) FROM audit WHERE seq = \(seq)"),
               last.event == AuditCheckpoint.event, let current = AuditCheckpoint(detail: last.detail) {
                return current
            }
            let checkpoint = try AuditCheckpoint.sign(seq: seq, hash: hash, at: date, with: key)
            try await appendAudit(connection, [AuditDraft(at: date, event: AuditCheckpoint.event, detail: checkpoint.detail)])
            return checkpoint
        }
    }

    public func latestAuditCheckpoint() async throws -> AuditCheckpoint? {
        try await read("read the latest audit checkpoint") { connection in
            guard let event = try await connection.first(
                "SELECT id FROM audit_words WHERE word = \(AuditCheckpoint.event)", Int64.self, logger: logger) else { return nil }
            return try await lastAuditEntry(
                connection, "SELECT \(unescaped: Self.auditColumns) FROM audit WHERE event = \(event) ORDER BY seq DESC LIMIT 1"
            ).flatMap { AuditCheckpoint(detail: $0.detail) }
        }
    }

    /// The content of the entry `query` selects (columns as `auditColumns`), if any.
    private func lastAuditEntry(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> AuditDraft? {
        var found: AuditRow?
        for try await row in try await connection.query(query, logger: logger).decode(AuditRow.self) { found = row }
        guard let found else { return nil }
        return try Self.storedAuditEntry(found, previous: "", vocabulary: try await vocabulary(connection)).draft
    }
}
