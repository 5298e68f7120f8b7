import Foundation
import GRDB
@testable import LetheCLI
@testable import RetentionStore
import Testing

@Suite struct AuditCheckpointCommandTests {
    static let smallCSV = "Tests/Fixtures/contacts-small.csv"

    func syncedHarness() async throws -> CLIHarness {
        let harness = try CLIHarness(csvFixture: Self.smallCSV, variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        #expect(await harness.run(["sync", "--as-of", asOf]).status == 0)
        return harness
    }

    func database(_ harness: CLIHarness) throws -> DatabaseQueue {
        try DatabaseQueue(path: harness.state.appendingPathComponent("lethe.sqlite").path)
    }

    /// Writes `lethe audit checkpoint --output` to a file outside the state and returns its path.
    func exportCheckpoint(_ harness: CLIHarness) async throws -> String {
        let path = harness.root.appendingPathComponent("checkpoint.jsonl").path
        let result = await harness.run(["audit", "checkpoint", "--as-of", asOf, "--output", path])
        #expect(result.status == 0)
        return path
    }

    func publicKey(_ harness: CLIHarness) async -> String {
        await harness.run(["audit", "pubkey"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func everySyncPrintsASignedCheckpointThatVerifies() async throws {
        let harness = try CLIHarness(csvFixture: Self.smallCSV, variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        let dry = await harness.run(["sync", "--as-of", asOf, "--dry-run", "--json"])
        #expect(dry.json["checkpoint"] == nil, "a dry run writes nothing, a checkpoint included")
        let sync = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(sync.status == 0)
        let checkpoint = try #require(sync.json["checkpoint"] as? [String: Any])
        let pubkey = await harness.run(["audit", "pubkey", "--json"]).json
        #expect(checkpoint["key"] as? String == pubkey["key"] as? String)
        #expect((checkpoint["seq"] as? Int ?? 0) > 0)
        #expect(checkpoint["at"] as? String == "2026-11-29T00:00:00Z")
        #expect(checkpoint["signature"] is String && checkpoint["hash"] is String)

        let file = harness.root.appendingPathComponent("sync-report.json")
        try Data(sync.stdout.utf8).write(to: file)
        let verify = await harness.run(["audit", "verify", "--checkpoint", file.path, "--pubkey", await publicKey(harness), "--json"])
        #expect(verify.status == 0)
        #expect(verify.json["ok"] as? Bool == true)
        let report = try #require(verify.json["checkpoint"] as? [String: Any])
        #expect(report["ok"] as? Bool == true)
        #expect(report["seq"] as? Int == checkpoint["seq"] as? Int)
        let entries = verify.json["entries"] as? Int ?? 0
        #expect(entries == (checkpoint["seq"] as? Int ?? 0) + 1, "the checkpoint's own entry follows what it covers")
    }

    @Test func checkpointWritesAPrivateFileAndRecordsItself() async throws {
        let harness = try await syncedHarness()
        let path = harness.root.appendingPathComponent("checkpoint.jsonl").path
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: path))
        let written = await harness.run(["audit", "checkpoint", "--as-of", asOf, "--output", path])
        #expect(written.status == 0)
        #expect(written.stdout.isEmpty)
        #expect(written.stderr.contains("wrote the checkpoint"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let fromFile = try #require(try AuditCheckpoint.parse(text).first)
        #expect(text.hasSuffix("\n") && text.split(separator: "\n").count == 1, "the file is replaced, not appended to")
        #expect(try FileManager.default.contentsOfDirectory(atPath: harness.root.path).allSatisfy { !$0.contains(".tmp-") })

        let printed = await harness.run(["audit", "checkpoint", "--as-of", asOf])
        #expect(printed.status == 0)
        let next = try #require(try AuditCheckpoint.parse(printed.stdout).first)
        #expect(next.seq == fromFile.seq + 1, "the first checkpoint's entry is covered by the next")
        #expect(await harness.run(["audit", "verify", "--checkpoint", path]).status == 0)
        let unwritable = await harness.run(["audit", "checkpoint", "--output", harness.root.appendingPathComponent("none/x").path])
        #expect(unwritable.status == 1)
        #expect(unwritable.stderr.contains("cannot write the checkpoint"))
    }

    @Test func pubkeyPrintsTheInstallationKey() async throws {
        let harness = try CLIHarness()
        let text = await publicKey(harness)
        #expect(Data(base64Encoded: text)?.count == 32)
        let json = await harness.run(["audit", "pubkey", "--json"]).json
        #expect(json["publicKey"] as? String == text)
        #expect((json["key"] as? String)?.count == 16)
        #expect(await publicKey(harness) == text, "created once, then kept")
        #expect(await publicKey(try CLIHarness()) != text, "one key per installation")
        let help = await harness.run(["audit", "--help"])
        #expect(help.stdout.contains("checkpoint") && help.stdout.contains("pubkey"))
    }

    enum Tamper: String, CaseIterable {
        /// An entry edited in place.
        case editEntry
        /// The last entries removed and the head moved back to match (the chain alone looks intact).
        case truncate
        /// An entry edited and every hash after it recomputed, head included (the chain alone looks intact).
        case rebuild
    }

    @Test(arguments: Tamper.allCases)
    func verifyWithACheckpointFailsOnAModifiedState(_ tamper: Tamper) async throws {
        let harness = try await syncedHarness()
        let path = try await exportCheckpoint(harness)
        let key = await publicKey(harness)
        #expect(await harness.run(["sync", "--as-of", asOf]).status == 0, "the log may grow after a checkpoint")
        #expect(await harness.run(["audit", "verify", "--checkpoint", path, "--pubkey", key]).status == 0)

        try await database(harness).write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
            let checkpoint = try #require(try AuditCheckpoint.parse(String(contentsOfFile: path, encoding: .utf8)).first)
            switch tamper {
            case .editEntry:
                try db.execute(sql: "UPDATE audit SET event = 'forged' WHERE seq = 2")
            case .truncate:
                try db.execute(sql: "DELETE FROM audit WHERE seq >= ?", arguments: [checkpoint.seq - 1])
                try Self.rebuild(db)
            case .rebuild:
                try db.execute(sql: "UPDATE audit SET detail = '{}' WHERE seq = 1")
                try Self.rebuild(db)
            }
        }
        let plain = await harness.run(["audit", "verify"])
        #expect(plain.status == (tamper == .editEntry ? 1 : 0), "without a checkpoint only an edit in place shows")
        let result = await harness.run(["audit", "verify", "--checkpoint", path, "--pubkey", key, "--json"])
        #expect(result.status == 1)
        #expect(result.json["ok"] as? Bool == false)
        if tamper != .editEntry {
            let report = try #require(result.json["checkpoint"] as? [String: Any])
            #expect(report["ok"] as? Bool == false)
            #expect((report["problem"] as? String)?.isEmpty == false)
        }
        let text = await harness.run(["audit", "verify", "--checkpoint", path])
        #expect(text.status == 1)
        #expect(text.stdout.contains(tamper == .editEntry ? "BROKEN" : "checkpoint FAILED"))
    }

    /// Recomputes every link and hash and the head, as an attacker holding the database would.
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
        case editedSeq, editedSignature, otherInstallationKey, replacedStateKey
    }

    @Test(arguments: Forgery.allCases)
    func aCheckpointWhoseSignatureDoesNotVerifyIsRejected(_ forgery: Forgery) async throws {
        let harness = try await syncedHarness()
        let path = try await exportCheckpoint(harness)
        var checkpoint = try #require(try AuditCheckpoint.parse(String(contentsOfFile: path, encoding: .utf8)).first)
        var key = await publicKey(harness)
        switch forgery {
        case .editedSeq: checkpoint.seq -= 1
        case .editedSignature: checkpoint.signature = Data(repeating: 1, count: 64).base64EncodedString()
        case .otherInstallationKey: key = await publicKey(try CLIHarness())
        case .replacedStateKey:
            // An attacker with the database swaps in a key of their own and signs what they like:
            // the key exported before catches it.
            try await database(harness).write { db in try db.execute(sql: "DELETE FROM meta WHERE key = 'audit_signing_key'") }
            let forged = await harness.run(["audit", "checkpoint", "--as-of", asOf])
            checkpoint = try #require(try AuditCheckpoint.parse(forged.stdout).first)
        }
        try Data((checkpoint.jsonLine + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let result = await harness.run(["audit", "verify", "--checkpoint", path, "--pubkey", key, "--json"])
        #expect(result.status == 1)
        let report = try #require(result.json["checkpoint"] as? [String: Any])
        #expect(report["ok"] as? Bool == false)
        #expect((report["problem"] as? String)?.contains("sign") == true)
    }

    @Test func unreadableCheckpointsAndKeysAreUsageErrors() async throws {
        let harness = try await syncedHarness()
        let path = try await exportCheckpoint(harness)
        let missing = harness.root.appendingPathComponent("missing.jsonl").path
        #expect(await harness.run(["audit", "verify", "--checkpoint", missing]).status == 2)
        let garbage = harness.root.appendingPathComponent("garbage.jsonl")
        try Data("not json\n".utf8).write(to: garbage)
        #expect(await harness.run(["audit", "verify", "--checkpoint", garbage.path]).status == 2)
        #expect(await harness.run(["audit", "verify", "--checkpoint", path, "--pubkey", "bm90IGEga2V5"]).status == 2)
        #expect(await harness.run(["audit", "verify", "--pubkey", await publicKey(harness)]).status == 2)
        let keyFile = harness.root.appendingPathComponent("pubkey.json")
        try Data(await harness.run(["audit", "pubkey", "--json"]).stdout.utf8).write(to: keyFile)
        #expect(await harness.run(["audit", "verify", "--checkpoint", path, "--pubkey", keyFile.path]).status == 0)
    }
}
