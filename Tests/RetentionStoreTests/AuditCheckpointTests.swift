import Foundation
import GRDB
import RetentionCore
@testable import RetentionStore
import Testing

@Suite struct AuditCheckpointTests {
    let directory: URL
    let store: SQLiteStateStore
    let at = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-checkpoint-\(UUID().uuidString)")
        store = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
    }

    func appendEntries(_ range: ClosedRange<Int>) async throws {
        try await store.appendAudit(range.map { AuditDraft(at: at, event: "e\($0)", reference: "r-\($0)", detail: ["n": String($0)]) })
    }

    @Test func aCheckpointSignsTheHeadAndIsRecordedInTheChain() async throws {
        try await appendEntries(1...3)
        let head = try await store.verifyAudit()
        let checkpoint = try await store.appendAuditCheckpoint(at: at)
        let key = try await store.auditPublicKey()
        #expect(checkpoint.seq == 3)
        #expect(checkpoint.hash == head.headHash)
        #expect(checkpoint.at == "2027-01-15T08:00:00Z")
        #expect(checkpoint.key == key.id && key.id.count == 16)
        #expect(checkpoint.isSigned(by: key))
        #expect(checkpoint.signedText == "lethe-audit-checkpoint v1\nseq 3\nhash \(head.headHash)\nat 2027-01-15T08:00:00Z")
        let entry = try #require(try await store.auditEntries(after: 3, limit: 10).first)
        #expect(entry.seq == 4 && entry.draft.event == "audit.checkpoint")
        #expect(entry.draft.detail == ["seq": "3", "hash": head.headHash, "at": checkpoint.at, "key": key.id, "signature": checkpoint.signature])
        #expect(try await store.latestAuditCheckpoint() == checkpoint)
        #expect(try await store.verifyAudit().ok)
        #expect(try AuditCheckpoint.parse(checkpoint.jsonLine) == [checkpoint])
    }

    @Test func theSigningKeyIsPerInstallationAndKeptInTheState() async throws {
        #expect(try await store.latestAuditCheckpoint() == nil)
        let key = try await store.auditPublicKey()
        #expect(key.raw.count == 32)
        #expect(AuditPublicKey(base64: key.base64) == key)
        let reopened = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
        #expect(try await reopened.auditPublicKey() == key)
        let stored = try await store.queue.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'audit_signing_key'")
        }
        #expect(stored.flatMap { Data(base64Encoded: $0) }?.count == 32)
        let elsewhere = try SQLiteStateStore(path: directory.appendingPathComponent("other.sqlite"))
        #expect(try await elsewhere.auditPublicKey() != key)
        #expect(AuditPublicKey(base64: "not a key") == nil)
        #expect(AuditPublicKey(base64: Data(count: 31).base64EncodedString()) == nil)
    }

    @Test func anUntouchedChainPassesItsCheckpointsAndMayGrowAfterThem() async throws {
        let empty = try await store.appendAuditCheckpoint(at: at)
        #expect(empty.seq == 0 && empty.hash == AuditChain.genesis)
        try await appendEntries(2...4)
        let first = try await store.appendAuditCheckpoint(at: at)
        try await appendEntries(6...8)
        let second = try await store.appendAuditCheckpoint(at: at.addingTimeInterval(60))
        try await appendEntries(10...11)
        let result = try await store.verifyAudit(against: [empty, first, second])
        #expect(result.ok)
        #expect(result.problem == nil)
        #expect(result.checkpoint == second)
        let withKey = try await store.verifyAudit(against: [second], publicKey: try await store.auditPublicKey())
        #expect(withKey.ok)
    }

    @Test func aCheckpointUnlessCurrentReusesOneThatStillCoversTheHead() async throws {
        try await appendEntries(1...2)
        let first = try await store.appendAuditCheckpoint(at: at, unlessCurrent: true)
        #expect(try await store.appendAuditCheckpoint(at: at.addingTimeInterval(60), unlessCurrent: true) == first)
        #expect(try await store.verifyAudit().entries == 3)
        let forced = try await store.appendAuditCheckpoint(at: at.addingTimeInterval(60))
        #expect(forced.seq == 3)
        try await appendEntries(5...5)
        let next = try await store.appendAuditCheckpoint(at: at.addingTimeInterval(120), unlessCurrent: true)
        #expect(next.seq == 5)
        #expect(try await store.verifyAudit(against: [first, forced, next]).ok)
    }

    enum Tamper: String, CaseIterable {
        /// An entry before the checkpoint edited in place (its hash left as it was).
        case editEntry
        /// The last entries removed, the head moved back to match.
        case truncate
        /// An entry edited and every hash after it recomputed, head included: consistent by itself.
        case rebuildConsistently
        /// Entries removed from the end and the chain extended again to the same length, consistently.
        case truncateAndRegrow
    }

    @Test(arguments: Tamper.allCases)
    func aTamperedStateFailsTheCheckpoint(_ tamper: Tamper) async throws {
        try await appendEntries(1...4)
        let checkpoint = try await store.appendAuditCheckpoint(at: at)
        try await appendEntries(6...6)
        try await store.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
            switch tamper {
            case .editEntry:
                try db.execute(sql: "UPDATE audit SET event = 'forged' WHERE seq = 2")
            case .truncate:
                try db.execute(sql: "DELETE FROM audit WHERE seq >= 4")
                try Self.rebuild(db)
            case .rebuildConsistently:
                try db.execute(sql: "UPDATE audit SET detail = '{\"n\":\"9\"}' WHERE seq = 2")
                try Self.rebuild(db)
            case .truncateAndRegrow:
                try db.execute(sql: "DELETE FROM audit WHERE seq >= 3")
                for seq in 3...6 {
                    try db.execute(
                        sql: "INSERT INTO audit (seq, at, event, detail, hash) VALUES (?, ?, 'quiet', '{}', '')",
                        arguments: [seq, at.timeIntervalSince1970])
                }
                try Self.rebuild(db)
            }
        }
        let result = try await store.verifyAudit(against: [checkpoint])
        #expect(!result.ok)
        switch tamper {
        case .editEntry:
            #expect(!result.chain.ok, "the chain alone already shows an edit in place")
        case .truncate:
            #expect(result.chain.ok, "consistent without the checkpoint")
            #expect(result.problem?.contains("no entry 4") == true)
        case .rebuildConsistently, .truncateAndRegrow:
            #expect(result.chain.ok, "consistent without the checkpoint")
            #expect(result.problem?.contains("rewritten") == true)
        }
    }

    @Test func aCheckpointVouchesForTheEntriesBeforeItOnly() async throws {
        try await appendEntries(1...4)
        let checkpoint = try await store.appendAuditCheckpoint(at: at)
        try await appendEntries(6...6)
        try await store.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
            try db.execute(sql: "DELETE FROM audit WHERE seq >= 5")
            try Self.rebuild(db)
        }
        // Entries 1-4 are intact: the checkpoint entry and those after it are a later checkpoint's to vouch for.
        #expect(try await store.verifyAudit(against: [checkpoint]).ok)
    }

    /// Recomputes every link and hash and the head, as an attacker with the database (but not an
    /// outside checkpoint) would.
    static func rebuild(_ db: Database) throws {
        var previous = AuditChain.genesis
        var seq: Int64 = 0
        let vocabulary = try AuditVocabulary.load(db)
        for row in try Row.fetchAll(db, sql: "SELECT \(SQLiteStateStore.auditColumns) FROM audit ORDER BY seq") {
            let entry = try SQLiteStateStore.storedAuditEntry(row, previous: previous, vocabulary: vocabulary).entry
            seq = entry.seq
            let hash = AuditChain.hash(previous: previous, seq: seq, draft: entry.draft)
            try db.execute(sql: "UPDATE audit SET hash = ? WHERE seq = ?", arguments: [hash, seq])
            previous = hash
        }
        try db.execute(sql: "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", arguments: [seq, previous])
    }

    enum Forgery: String, CaseIterable {
        case otherSeq, otherHash, otherTime, badSignature, notBase64, otherInstallation, replacedStateKey
    }

    @Test(arguments: Forgery.allCases)
    func aCheckpointWhoseSignatureDoesNotVerifyIsRejected(_ forgery: Forgery) async throws {
        try await appendEntries(1...3)
        var checkpoint = try await store.appendAuditCheckpoint(at: at)
        let original = try await store.auditPublicKey()
        var pinned: AuditPublicKey?
        switch forgery {
        case .otherSeq: checkpoint.seq = 2
        case .otherHash: checkpoint.hash = String(repeating: "a", count: 64)
        case .otherTime: checkpoint.at = "2030-01-01T00:00:00Z"
        case .badSignature: checkpoint.signature = Data(repeating: 7, count: 64).base64EncodedString()
        case .notBase64: checkpoint.signature = "%%%"
        case .otherInstallation:
            let other = try SQLiteStateStore(path: directory.appendingPathComponent("other.sqlite"))
            try await other.appendAudit((1...3).map { AuditDraft(at: at, event: "e\($0)", reference: "r-\($0)", detail: ["n": String($0)]) })
            checkpoint = try await other.appendAuditCheckpoint(at: at)
        case .replacedStateKey:
            // An attacker with the database replaces the key and signs a checkpoint of their own; the
            // key exported before (pinned) exposes it.
            try await store.queue.write { db in try db.execute(sql: "DELETE FROM meta WHERE key = 'audit_signing_key'") }
            checkpoint = try await store.appendAuditCheckpoint(at: at)
            pinned = original
        }
        let result = try await store.verifyAudit(against: [checkpoint], publicKey: pinned)
        #expect(result.chain.ok)
        #expect(!result.ok)
        #expect(result.problem?.contains("signature") == true || result.problem?.contains("signed by key") == true)
    }

    @Test func checkpointFilesAreReadLineByLine() throws {
        let checkpoint = AuditCheckpoint(seq: 3, hash: "h", at: "2027-01-15T08:00:00Z", key: "k", signature: "s")
        let later = AuditCheckpoint(seq: 9, hash: "h9", at: "2027-01-16T08:00:00Z", key: "k", signature: "s9")
        let syncReport = #"{"pulled":1,"checkpoint":"# + later.jsonLine + "}"
        #expect(try AuditCheckpoint.parse(checkpoint.jsonLine + "\n\n" + syncReport + "\n") == [checkpoint, later])
        #expect(throws: (any Error).self) { try AuditCheckpoint.parse("") }
        #expect(throws: (any Error).self) { try AuditCheckpoint.parse(checkpoint.jsonLine + "\n{\"seq\": 1}") }
    }
}
