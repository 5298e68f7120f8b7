import Foundation
@testable import LetheCLI
import RetentionStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What sits in the state folder (the database, secrets, locks, notices) is its owner's alone, short
/// secrets are refused before anything changes, and an interrupted write leaves nothing behind.
@Suite(.serialized) struct StateFilesSecurityTests {
    static func mode(_ path: String) -> mode_t {
        // The permission bits as lstat gives them (FileManager does not follow a final link); not the
        // C struct itself, which several modules of this target declare.
        let permissions = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber
        return mode_t(permissions?.uint32Value ?? 0) & 0o7777
    }

    /// Every path under `root` with its mode.
    static func modes(under root: URL) -> [(String, mode_t, Bool)] {
        var result: [(String, mode_t, Bool)] = [(root.path, mode(root.path), true)]
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        while let name = enumerator?.nextObject() as? String {
            let path = root.appendingPathComponent(name).path
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            result.append((name, mode(path), isFolder.boolValue))
        }
        return result
    }

    @Test func everyFolderIs0700AndEveryFile0600AfterASyncWhateverTheUmask() async throws {
        let previous = umask(0o002)
        defer { umask(previous) }
        let harness = try CLIHarness(variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        try FileManager.default.removeItem(at: harness.state)
        let result = await harness.run(["sync", "--as-of", "2026-11-29T09:00:00+09:00"])
        #expect(result.status == 0, "\(result.stderr)")
        // An open store has its -wal and -shm files.
        let store = try SQLiteStateStore(path: harness.state.appendingPathComponent("lethe.sqlite"))
        _ = try await store.statusCounts()
        let entries = Self.modes(under: harness.state)
        #expect(entries.contains { $0.0 == "lethe.sqlite-wal" } && entries.contains { $0.0 == "lethe.sqlite-shm" } && entries.contains { $0.0.hasPrefix("outbox/") && $0.0.hasSuffix(".eml") },
                "the state holds the database and notices: \(entries.map(\.0))")
        #expect(entries.contains { $0.0 == "link-secret" })
        for (path, mode, isFolder) in entries {
            #expect(mode == (isFolder ? 0o700 : 0o600), "\(path) is \(String(mode, radix: 8))")
        }
    }

    @Test func looserModesLeftByOtherToolsAreTightenedAtStart() async throws {
        let harness = try CLIHarness()
        #expect(await harness.run(["sync", "--as-of", "2026-11-29T09:00:00+09:00"]).status == 3)
        chmod(harness.state.path, 0o755)
        chmod(harness.state.appendingPathComponent("lethe.sqlite").path, 0o644)
        chmod(harness.state.appendingPathComponent("link-secret").path, 0o644)
        let status = await harness.run(["status"])
        #expect(status.status == 0)
        #expect(status.stderr.contains("restricted to their owner"), "\(status.stderr)")
        #expect(Self.mode(harness.state.path) == 0o700)
        #expect(Self.mode(harness.state.appendingPathComponent("lethe.sqlite").path) == 0o600)
        #expect(Self.mode(harness.state.appendingPathComponent("link-secret").path) == 0o600)
    }

    @Test(arguments: ["LETHE_LINK_SECRET", "LETHE_ADMIN_TOKEN", "LETHE_METRICS_TOKEN"])
    func aShortSecretStopsSyncAndRunBeforeAnythingChanges(variable: String) async throws {
        var harness = try CLIHarness()
        try FileManager.default.removeItem(at: harness.state)
        harness.variables[variable] = "short-secret"
        let sync = await harness.run(["sync", "--as-of", "2026-11-29T09:00:00+09:00"])
        #expect(sync.status == 2)
        #expect(sync.stderr.contains(variable) && sync.stderr.contains("at least 32 bytes"), "\(sync.stderr)")
        #expect(!sync.stderr.contains("short-secret"), "the secret itself is never printed")
        harness.variables["LETHE_HTTP_PORT"] = "0"
        let run = await harness.run(["run"])
        #expect(run.status == 2)
        #expect(!run.stderr.contains("listening on"), "nothing listened: \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: harness.state.path), "nothing was created")
        harness.variables[variable] = String(repeating: "k", count: 32)
        #expect(await harness.run(["sync", "--as-of", "2026-11-29T09:00:00+09:00", "--dry-run"]).status != 2, "32 bytes are enough")
    }

    @Test func leftoversOfAnInterruptedWriteAreRemovedAtTheNextWrite() async throws {
        let harness = try CLIHarness(variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        let outbox = harness.state.appendingPathComponent("outbox")
        try FileManager.default.createDirectory(at: outbox, withIntermediateDirectories: true)
        let csvLeftover = harness.root.appendingPathComponent(".contacts.csv.lethe-\(UUID().uuidString).tmp")
        let mailLeftover = outbox.appendingPathComponent(".op-0123456789abcdef01234567.eml.\(UUID().uuidString).tmp")
        let unrelated = harness.root.appendingPathComponent(".other.csv.lethe-\(UUID().uuidString).tmp")
        for file in [csvLeftover, mailLeftover, unrelated] {
            FileManager.default.createFile(atPath: file.path, contents: Data("id,email\n1,kept@example.com\n".utf8))
        }
        let result = await harness.run(["sync", "--as-of", "2026-11-29T09:00:00+09:00", "-v"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: csvLeftover.path), "the CSV's leftover copy is gone")
        #expect(!FileManager.default.fileExists(atPath: mailLeftover.path), "the mail folder's leftover is gone")
        #expect(FileManager.default.fileExists(atPath: unrelated.path), "another file's temporary copy is not ours")
        #expect(result.stderr.contains("interrupted write-back left beside the file"), "\(result.stderr)")
        #expect(result.stderr.contains("interrupted write left in the mail folder"))
    }
}
