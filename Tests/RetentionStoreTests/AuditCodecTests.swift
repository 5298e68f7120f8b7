import Foundation
import GRDB
import RetentionCore
@testable import RetentionStore
import Testing

/// The audit log is stored compactly and read back exactly: every entry's content and hash are what
/// was appended, before and after a state of the earlier layout is converted.
@Suite struct AuditCodecTests {
    let at = Date(timeIntervalSince1970: 1_795_000_000)
    static let basis = "전자상거래법 시행령 제6조: 소비자의 불만 또는 분쟁처리에 관한 기록 3년"

    func temporaryPath() throws -> (directory: URL, path: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory, directory.appendingPathComponent("lethe.sqlite"))
    }

    /// Drafts covering every way a value is stored: words, timestamps, text that only looks like one,
    /// references in and out of the compact form, Korean and control characters, empty values.
    var drafts: [AuditDraft] {
        [
            AuditDraft(at: at, event: "operation.done", connector: "contacts", reference: "r-4b343ea6882253777bb6", rule: "dispute",
                       operation: "op-82b85b75c2a6e11133cea245",
                       detail: ["kind": "delete", "legalBasis": Self.basis, "expiry": "2026-11-01T17:59:14Z", "receipt": "deleted",
                                "operator": "lethe (automatic)", "policy": "kr-pipa", "rules": "dispute;payment", "fields": "*"]),
            AuditDraft(at: at.addingTimeInterval(0.25), event: "record.quarantined", connector: "contacts", reference: "r-ABCDEF",
                       detail: ["reason": "invalid_date", "line": "17"]),
            AuditDraft(at: at, event: "odd", reference: "r-abc", operation: "op-",
                       detail: ["until": "2026-02-30T00:00:00Z", "cycle": "2026-11-29T00:00:00+09:00", "x": "1899-12-31T23:59:59Z",
                                "late": "9999-12-31T23:59:59Z", "note": "줄\n바꿈\t\"인용\" \\ \u{01}", "empty": ""]),
            AuditDraft(at: at, event: "operation.queued", connector: nil, reference: nil, rule: nil, operation: nil, detail: [:]),
            AuditDraft(at: at, event: "hold.placed", connector: "contacts", reference: "e-00ff", detail: ["reason": "소송 중 (2026가합1234)"]),
        ]
    }

    @Test func everyEntryReadsBackAsAppendedAndVerifies() async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: path)
        try await store.appendAudit(drafts)
        try await store.appendAudit(drafts)
        let entries = try await store.auditEntries(after: 0, limit: 100)
        #expect(entries.map(\.draft) == drafts + drafts)
        var previous = AuditChain.genesis
        for entry in entries {
            #expect(entry.previousHash == previous)
            #expect(entry.hash == AuditChain.hash(previous: previous, seq: entry.seq, draft: entry.draft))
            previous = entry.hash
        }
        #expect(try await store.auditEntries(after: 3, limit: 2).map(\.previousHash) == [entries[2].hash, entries[3].hash])
        let verification = try await store.verifyAudit()
        #expect(verification.ok && verification.entries == 10 && verification.headHash == previous)
    }

    @Test func repeatedWordsAreStoredOnceAndEntriesAreSmall() async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: path)
        let done = (0..<1000).map { index in
            AuditDraft(at: at, event: "operation.done", connector: "contacts", reference: "r-\(String(format: "%020x", index))", rule: "dispute",
                       operation: "op-\(String(format: "%024x", index))",
                       detail: ["kind": "delete", "legalBasis": Self.basis, "expiry": "2026-11-01T17:59:14Z", "receipt": "deleted",
                                "operator": "lethe (automatic)", "policy": "kr-pipa", "rules": "dispute", "fields": "*",
                                "method": "delete-record", "deleteMode": "permanent"])
        }
        try await store.appendAudit(done)
        let (bytes, basisCount) = try await store.queue.read { db in
            (try Int.fetchOne(db, sql: """
                SELECT sum(8 + length(event) + length(connector) + length(ref) + length(rule) + length(operation) + length(detail) + length(hash))
                FROM audit
                """) ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_words WHERE word = ?", arguments: [Self.basis]) ?? 0)
        }
        #expect(basisCount == 1)
        // The same entry as JSON with hex hashes takes about 420 bytes.
        #expect(bytes / done.count < 120, "\(bytes / done.count) bytes an entry")
        #expect(try await store.auditEntries(after: 999, limit: 1).first?.draft == done[999])
    }

    @Test func anEditedOrUnreadableEntryFailsVerification() async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: path)
        try await store.appendAudit(drafts)
        try await store.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update")
            // A word number no word has: the entry cannot be read, and verification says so instead of failing.
            try db.execute(sql: "UPDATE audit SET detail = x'0101ff7f0100' WHERE seq = 2")
        }
        let verification = try await store.verifyAudit()
        #expect(!verification.ok)
        #expect(verification.problem?.hasPrefix("entry 2:") == true)
        #expect(verification.entries == 1)
    }

    @Test func theWordsAreAppendOnly() async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: path)
        try await store.appendAudit(drafts)
        await #expect(throws: (any Error).self) {
            try await store.queue.write { db in try db.execute(sql: "UPDATE audit_words SET word = 'forged' WHERE word = 'delete'") }
        }
        await #expect(throws: (any Error).self) {
            try await store.queue.write { db in try db.execute(sql: "DELETE FROM audit_words") }
        }
    }

    @Test func timestampsAreCompactOnlyWhenTheyReadBackTheSame() {
        #expect(AuditCodec.timestampSeconds("2026-11-01T17:59:14Z") == 1_793_555_954)
        #expect(AuditCodec.timestampSeconds("1970-01-01T00:00:00Z") == 0)
        for text in ["2026-02-30T00:00:00Z", "2026-11-29T00:00:00+09:00", "2026-11-29T00:00:00.5Z", "2026-11-29 00:00:00Z",
                     "2026-13-01T00:00:00Z", "2026-11-29T24:00:00Z", "x026-11-29T00:00:00Z", ""] {
            #expect(AuditCodec.timestampSeconds(text) == nil, "\(text)")
        }
    }

    /// A state of the earlier layout (JSON details, hex hashes, the previous hash in every row) opens
    /// with every entry, hash and the head unchanged; an entry edited before keeps failing.
    @Test(arguments: [false, true])
    func aStateOfTheEarlierLayoutKeepsEveryHash(edited: Bool) async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = try DatabaseQueue(path: path.path)
        let secret = Data([1, 2, 3])
        try await SQLiteMigrations.migrator(
            fingerprints: RecordFingerprints(secret: [1, 2, 3]), operationIDs: OperationIdentifier(secret: secret),
            eventDigests: WebhookEventDigests(secret: secret)
        ).migrate(old, upTo: "v11-consent-applied")
        let drafts = drafts
        let expected = try await old.write { db in
            var expected: [AuditEntry] = []
            var previous = AuditChain.genesis
            for (index, draft) in drafts.enumerated() {
                let seq = Int64(index + 1)
                let hash = AuditChain.hash(previous: previous, seq: seq, draft: draft)
                var detail = AuditChain.detailJSON(draft.detail)
                if edited, seq == 3 { detail = detail.replacingOccurrences(of: "\":\"", with: "\": \"") }
                try db.execute(
                    sql: """
                        INSERT INTO audit (seq, at, event, connector, ref, rule, operation, detail, prev_hash, hash)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [seq, draft.at.timeIntervalSince1970, draft.event, draft.connector, draft.reference, draft.rule,
                                draft.operation, detail, previous, hash])
                expected.append(AuditEntry(seq: seq, draft: draft, previousHash: previous, hash: hash))
                previous = hash
            }
            try db.execute(sql: "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", arguments: [Int64(drafts.count), previous])
            return expected
        }
        try old.close()

        let store = try SQLiteStateStore(path: path)
        let entries = try await store.auditEntries(after: 0, limit: 100)
        #expect(entries.map(\.hash) == expected.map(\.hash))
        #expect(entries.map(\.previousHash) == expected.map(\.previousHash))
        let verification = try await store.verifyAudit()
        if edited {
            #expect(!verification.ok && verification.problem == "entry 3: its detail was edited")
        } else {
            #expect(entries == expected)
            #expect(verification.ok && verification.entries == Int64(drafts.count) && verification.headHash == expected.last?.hash)
            let compact = try await store.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit WHERE typeof(detail) = 'blob'") }
            #expect(compact == drafts.count)
            // The log grows on from the converted entries.
            try await store.appendAudit([AuditDraft(at: at, event: "after")])
            #expect(try await store.verifyAudit().ok)
        }
    }
}
