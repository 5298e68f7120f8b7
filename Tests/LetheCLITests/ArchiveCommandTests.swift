import Crypto
import Foundation
import RetentionStore
import Testing

@Suite("lethe archive")
struct ArchiveCommandTests {
    /// The embedded default, with its policy archiving before it deletes.
    static func archivingConfig(in harness: CLIHarness) throws -> String {
        let folder = harness.root.appendingPathComponent("config")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("policies"), withIntermediateDirectories: true)
        let repository = CLIHarness.repository.appendingPathComponent("config")
        try FileManager.default.copyItem(
            at: repository.appendingPathComponent("lethe.yaml"), to: folder.appendingPathComponent("lethe.yaml"))
        try FileManager.default.copyItem(
            at: repository.appendingPathComponent("templates"), to: folder.appendingPathComponent("templates"))
        let policy = try String(contentsOf: repository.appendingPathComponent("policies/kr-pipa.yaml"), encoding: .utf8)
        let archiving = policy.replacingOccurrences(of: "  action: delete ", with: "  action: archive-then-delete ")
        #expect(archiving != policy)
        try archiving.write(
            to: folder.appendingPathComponent("policies/kr-pipa.yaml"), atomically: true, encoding: .utf8)
        return folder.appendingPathComponent("lethe.yaml").path
    }

    static func newKey() -> String { Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString() }

    static func keyID(_ key: String) -> String {
        String(SHA256.hash(data: Data(base64Encoded: key)!).map { String(format: "%02x", $0) }.joined().prefix(8))
    }

    /// The sealed lines of the archive: (file, key id, operation id, box).
    static func sealedLines(_ harness: CLIHarness) throws -> [(file: String, kid: String, op: String, box: Data)] {
        let root = harness.state.appendingPathComponent("archive")
        var result: [(String, String, String, Data)] = []
        for connector in try FileManager.default.contentsOfDirectory(atPath: root.path) where !connector.hasPrefix(".")
        {
            let folder = root.appendingPathComponent(connector)
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { continue }
            for file in files.sorted() {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let object = try #require(
                        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
                    result.append(
                        (
                            "\(connector)/\(file)", object["kid"] ?? "", object["op"] ?? "",
                            Data(base64Encoded: object["box"] ?? "") ?? Data()
                        ))
                }
            }
        }
        return result
    }

    @Test(
        "a policy that archives refuses to start without a key: config validate and sync exit 2 and name `encrypt: false`"
    )
    func refusesWithoutKey() async throws {
        let harness = try CLIHarness(variables: ["LETHE_ARCHIVE_GENERATE_KEY": "false"])
        let config = try Self.archivingConfig(in: harness)
        let validate = await harness.run(["config", "validate"], config: config)
        #expect(validate.status == 2)
        #expect(validate.stderr.contains("archive.settings.key"))
        #expect(validate.stderr.contains("encrypt: false"))
        let sync = await harness.run(["sync", "--as-of", "2040-01-01T00:00:00Z"], config: config)
        #expect(sync.status == 2)
        #expect(sync.stderr.contains("encrypt: false"))
        #expect(!FileManager.default.fileExists(atPath: harness.state.appendingPathComponent("archive").path))

        var keyed = harness
        keyed.variables["LETHE_ARCHIVE_KEY"] = Self.newKey()
        #expect(await keyed.run(["config", "validate"], config: config).status == 0)
        // The shipped policy does not archive: its config validates without any key.
        #expect(await harness.run(["config", "validate"]).status == 0)
    }

    @Test("the embedded default generates the archive key in the state folder (0600) and says where, once")
    func generatesKeyFile() async throws {
        let harness = try CLIHarness()
        let config = try Self.archivingConfig(in: harness)
        let first = await harness.run(["sync", "--as-of", "2026-11-29T00:00:00Z"], config: config)
        #expect(first.status != 2, "\(first.stderr)")
        let file = harness.state.appendingPathComponent("archive-key")
        #expect(first.stderr.contains(file.path))
        #expect(first.stderr.contains("back this file up apart from the state folder"))
        let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let key = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Data(base64Encoded: key)?.count == 32)
        #expect(!first.stderr.contains(key) && !first.stdout.contains(key))
        let second = await harness.run(["sync", "--as-of", "2026-11-29T00:00:00Z"], config: config)
        #expect(!second.stderr.contains("generated the archive key"))
        #expect(try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == key)
    }

    @Test(
        "sync seals under the key; rekey moves every entry to the new key; purge removes what outlived keep and audits it"
    )
    func rekeyAndPurge() async throws {
        let old = Self.newKey()
        let new = Self.newKey()
        var harness = try CLIHarness(variables: [
            "LETHE_ARCHIVE_GENERATE_KEY": "false", "LETHE_ARCHIVE_KEY": old, "LETHE_MAX_DELETE_FRACTION": "1",
            "LETHE_MAX_DELETES_PER_RUN": "100000",
        ])
        let config = try Self.archivingConfig(in: harness)
        // The first 60 rows are enough (each archive call is fsynced).
        let rows = try String(contentsOf: harness.csv, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        try (rows.prefix(61).joined(separator: "\n") + "\n").write(to: harness.csv, atomically: true, encoding: .utf8)
        let sync = await harness.run(["sync", "--as-of", "2040-01-01T00:00:00Z", "--json"], config: config)
        #expect(sync.status == 0, "\(sync.stderr)")
        let archived = try #require(sync.json["archived"] as? Int)
        #expect(archived > 20)
        let before = try Self.sealedLines(harness)
        #expect(before.count == archived)
        #expect(before.allSatisfy { $0.kid == Self.keyID(old) && $0.file == "contacts/2040-01.jsonl.enc" })

        harness.variables["LETHE_ARCHIVE_KEY"] = new
        let withoutOld = await harness.run(["archive", "rekey"], config: config)
        #expect(withoutOld.status == 1)
        #expect(withoutOld.stderr.contains(Self.keyID(old)))
        #expect(try Self.sealedLines(harness).map(\.box) == before.map(\.box))

        harness.variables["LETHE_ARCHIVE_PREVIOUS_KEYS"] = old
        let rekey = await harness.run(["archive", "rekey", "--json"], config: config)
        #expect(rekey.status == 0, "\(rekey.stderr)")
        #expect(rekey.json["entries"] as? Int == archived)
        #expect(rekey.json["keyID"] as? String == Self.keyID(new))
        let after = try Self.sealedLines(harness)
        #expect(Set(after.map(\.op)) == Set(before.map(\.op)))
        let newKey = SymmetricKey(data: Data(base64Encoded: new)!)
        for line in after {
            #expect(line.kid == Self.keyID(new))
            let box = try AES.GCM.SealedBox(combined: line.box)
            #expect(throws: Never.self) {
                try AES.GCM.open(box, using: newKey, authenticating: Data("contacts\u{1F}\(line.op)".utf8))
            }
            #expect(throws: (any Error).self) {
                try AES.GCM.open(box, using: newKey, authenticating: Data("hubspot\u{1F}\(line.op)".utf8))
            }
        }
        harness.variables["LETHE_ARCHIVE_PREVIOUS_KEYS"] = nil
        #expect(await harness.run(["archive", "rekey", "--json"], config: config).json["filesRewritten"] as? Int == 0)

        let early = await harness.run(
            ["archive", "purge", "--as-of", "2040-06-01T00:00:00Z", "--json"], config: config)
        #expect(early.status == 0, "\(early.stderr)")
        #expect(early.json["entries"] as? Int == 0)
        let purge = await harness.run(
            ["archive", "purge", "--as-of", "2041-02-01T00:00:00Z", "--json"], config: config)
        #expect(purge.status == 0, "\(purge.stderr)")
        #expect(purge.json["entries"] as? Int == archived)
        #expect(try Self.sealedLines(harness).isEmpty)

        let store = try SQLiteStateStore(path: harness.state.appendingPathComponent("lethe.sqlite"))
        let purged = try await store.auditEntries(after: 0, limit: 100_000).filter {
            $0.draft.event == "archive.purged"
        }
        #expect(purged.count == 1)
        #expect(purged.first?.draft.connector == "contacts")
        #expect(purged.first?.draft.detail["month"] == "2040-01")
        #expect(purged.first?.draft.detail["entries"] == "\(archived)")
        #expect(purged.first?.draft.detail["keep"] == "1y")
        let export = await harness.run(["audit", "export", "--format", "json"], config: config)
        #expect(export.stdout.contains("분리 보관본 파기 (archived copies destroyed)"))
    }
}
