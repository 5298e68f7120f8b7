import Foundation
import PostgresStore
import RetentionStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// One crash or fault scenario: a fake HubSpot seeded with a `CrashFixture`, a state folder, a
/// configuration (the shipped HubSpot manifest with its client rate limit lifted, notices to the file
/// outbox, no delete limits), and `lethe sync` run as a child process that can be killed.
final class CrashWorld: @unchecked Sendable {
    let fixture: CrashFixture
    let fake: FakeCRMProcess
    let root: URL
    let state: URL
    let config: URL
    var outbox: URL { state.appendingPathComponent("outbox") }
    var extraVariables: [String: String] = [:]
    /// The PostgreSQL database holding the state, when the configuration's `state.url` names one
    /// (nil: the SQLite state in `state`).
    var storeURL: PostgresStoreURL?

    /// `timeout` is the manifest's HTTP timeout (the shipped 30 s, shorter for stalled answers).
    init(fixture: CrashFixture, fakeArguments: [String] = [], timeout: String = "30s") throws {
        self.fixture = fixture
        fake = try FakeCRMProcess(provider: "hubspot", seed: fixture.contacts.map(\.seed), arguments: ["--token", "test-token", "--max-page", "100"] + fakeArguments)
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-crash-\(UUID().uuidString)")
        state = root.appendingPathComponent("state")
        let folder = root.appendingPathComponent("config")
        config = folder.appendingPathComponent("lethe.yaml")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let repository = CLIHarness.repository
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent("templates"), withDestinationURL: repository.appendingPathComponent("config/templates"))
        var manifest = try String(contentsOf: repository.appendingPathComponent("config/connectors/hubspot.yaml"), encoding: .utf8)
        for (from, to) in [("requests: 90 ", "requests: 100000 "), ("per: 10s", "per: 1s"), ("timeout: 30s", "timeout: \(timeout)")] {
            precondition(manifest.contains(from), "the shipped HubSpot manifest changed: \(from)")
            manifest = manifest.replacingOccurrences(of: from, with: to)
        }
        try manifest.write(to: folder.appendingPathComponent("hubspot.yaml"), atomically: true, encoding: .utf8)
        let yaml = """
            version: 1
            state:
              directory: ${LETHE_STATE_DIR}
            policies:
              - \(repository.appendingPathComponent("config/policies/kr-pipa.yaml").path)
            mail:
              type: file
              from: lethe@localhost
              transports:
                file:
                  directory: ${LETHE_STATE_DIR}/outbox
            connectors:
              - name: hubspot
                type: rest
                policy: kr-pipa
                settings:
                  manifest: hubspot.yaml
                safety:
                  maxDeletesPerRun: 100000
                  maxDeleteFraction: 1

            """
        try yaml.write(to: config, atomically: true, encoding: .utf8)
    }

    deinit {
        fake.stop()
        try? FileManager.default.removeItem(at: root)
    }

    var environment: [String: String] {
        var variables = ProcessInfo.processInfo.environment
        variables.merge([
            "LETHE_STATE_DIR": state.path, "HUBSPOT_BASE_URL": fake.baseURL, "HUBSPOT_TOKEN": "test-token", "USER": "tester",
        ]) { $1 }
        variables.merge(extraVariables) { $1 }
        return variables
    }

    // MARK: Child processes

    /// A started `lethe` process; its output goes to files (no pipe to fill up).
    final class Child: @unchecked Sendable {
        let process = Process()
        let stdout: URL
        let stderr: URL
        let started = Date()

        init(binary: URL, arguments: [String], environment: [String: String], folder: URL) throws {
            let name = UUID().uuidString
            stdout = folder.appendingPathComponent("\(name).out")
            stderr = folder.appendingPathComponent("\(name).err")
            FileManager.default.createFile(atPath: stdout.path, contents: nil)
            FileManager.default.createFile(atPath: stderr.path, contents: nil)
            process.executableURL = binary
            process.arguments = arguments
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: stdout)
            process.standardError = try FileHandle(forWritingTo: stderr)
            try process.run()
        }

        var pid: Int32 { process.processIdentifier }

        /// Waits for the exit (polling: `waitUntilExit` spins off the main thread on Linux; sleeping
        /// the task, not the thread, so other tests keep the cooperative pool); false when it was still
        /// running after `seconds`.
        func wait(seconds: Double) async -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { try? await Task.sleep(nanoseconds: 1_000_000) }
            return !process.isRunning
        }

        func kill() { Glibc.kill(process.processIdentifier, SIGKILL) }

        var killed: Bool { process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL }
        var status: Int32 { process.terminationStatus }
        var output: String { (try? String(contentsOf: stdout, encoding: .utf8)) ?? "" }
        var errors: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }

        /// The last stdout line as a JSON object (`--json`).
        var json: [String: Any] {
            let line = output.split(separator: "\n").last.map(String.init) ?? ""
            return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
    }

    func start(_ arguments: [String]) throws -> Child {
        let binary = try #require(RunDaemonTests.binary, "build the lethe binary first (swift build --build-tests)")
        let logs = root.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        return try Child(binary: binary, arguments: arguments + ["--config", config.path], environment: environment, folder: logs)
    }

    /// `lethe sync --as-of … --json`, started.
    func startSync() throws -> Child {
        try start(["sync", "--as-of", CrashFixture.asOfText, "--json"])
    }

    /// Runs a command to its end (at most 120 s).
    func run(_ arguments: [String]) async throws -> Child {
        let child = try start(arguments)
        if await !child.wait(seconds: 120) {
            child.kill()
            Issue.record("lethe \(arguments.joined(separator: " ")) did not finish within 120 s")
        }
        return child
    }

    // MARK: What the world holds

    /// Files an interrupted write left behind anywhere under the state folder (notices, locks, state).
    func temporaryFiles() -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: state.path)
        var found: [String] = []
        while let path = enumerator?.nextObject() as? String {
            let name = (path as NSString).lastPathComponent
            if name.hasSuffix(".tmp") || name.contains(".lethe-") { found.append(path) }
        }
        return found.sorted()
    }

    /// The outbox's notices: the contact index each is addressed to, by file name.
    func notices() throws -> [String: Int] {
        guard FileManager.default.fileExists(atPath: outbox.path) else { return [:] }
        var found: [String: Int] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: outbox.path) where name.hasSuffix(".eml") && !name.hasPrefix(".") {
            let text = try String(contentsOf: outbox.appendingPathComponent(name), encoding: .utf8)
            let to = text.components(separatedBy: "\r\n").first { $0.hasPrefix("To:") } ?? ""
            let index = to.range(of: #"c[0-9]+@example\.test"#, options: .regularExpression).flatMap { Int(to[$0].dropFirst().prefix { $0.isNumber }) }
            found[name] = index ?? -1
        }
        return found
    }

    /// The references the state gives each HubSpot id (keyed with the installation's secret).
    func references() async throws -> [String: String] {
        if let storeURL {
            let store = try await PostgresStateStore.open(url: storeURL)
            let references = Dictionary(uniqueKeysWithValues: fixture.contacts.map { ($0.hubspotID, store.reference(connector: "hubspot", recordID: $0.hubspotID)) })
            await store.close()
            return references
        }
        let store = try SQLiteStateStore(path: state.appendingPathComponent("lethe.sqlite"))
        return Dictionary(uniqueKeysWithValues: fixture.contacts.map { ($0.hubspotID, store.reference(connector: "hubspot", recordID: $0.hubspotID)) })
    }

    // MARK: The invariants

    /// What must hold once a run finished cleanly, however many runs were killed before it: every due
    /// contact deleted by exactly one effective delete, nothing else deleted; the erasures done and no
    /// other contact written; one notice per contact in the notice window and none for any other;
    /// no temporary file left; the audit chain verifies; the register lists each destruction once.
    func checkInvariants(_ label: String) async throws {
        let records = try await fake.records()
        let byID = Dictionary(uniqueKeysWithValues: records.map { (String(describing: $0["provider_id"]!), $0) })
        var wrong: [String] = []
        for contact in fixture.contacts {
            let record = byID[contact.hubspotID] ?? [:]
            let deletes = record["effective_deletes"] as? Int ?? -1
            let updates = record["updates"] as? Int ?? -1
            switch contact.outcome {
            case .delete:
                if deletes != 1 { wrong.append("\(contact.hubspotID) due: \(deletes) effective deletes") }
            case .erase:
                if deletes != 0 { wrong.append("\(contact.hubspotID) (erase) deleted \(deletes) times") }
                if record["interests"] as? String ?? "" != "" || record["marketing_consent"] as? Bool == true {
                    wrong.append("\(contact.hubspotID) marketing fields not erased")
                }
            case .notice, .keep:
                if deletes != 0 || record["deleted"] as? Bool != false { wrong.append("\(contact.hubspotID) (\(contact.outcome)) deleted") }
                if updates != 0 { wrong.append("\(contact.hubspotID) (\(contact.outcome)) written \(updates) times") }
            }
        }
        #expect(wrong.isEmpty, "\(label): \(wrong.prefix(20))")

        let notices = try notices()
        var perContact: [Int: Int] = [:]
        for index in notices.values { perContact[index, default: 0] += 1 }
        let expected = Set(fixture.contacts.filter { $0.outcome == .notice }.map(\.index))
        #expect(Set(perContact.keys) == expected, "\(label): notices to \(Set(perContact.keys).symmetricDifference(expected).sorted()) are wrong")
        #expect(perContact.values.allSatisfy { $0 == 1 }, "\(label): a contact noticed twice: \(perContact.filter { $0.value > 1 })")

        #expect(temporaryFiles().isEmpty, "\(label): temporary files left: \(temporaryFiles())")

        let verify = try await run(["audit", "verify"])
        #expect(verify.status == 0, "\(label): audit verify: \(verify.output) \(verify.errors)")

        let export = try await run(["audit", "export", "--format", "json"])
        let rows = export.json["register"] as? [[String: Any]] ?? []
        let references = try await references()
        var kinds: [String: [String]] = [:]
        for row in rows {
            let method = row["method"] as? String ?? ""
            kinds[row["reference"] as? String ?? "", default: []].append(method.hasPrefix("원본 레코드 삭제") ? "delete" : method.hasPrefix("선택 항목 삭제") ? "erase" : method)
        }
        var registerWrong: [String] = []
        for contact in fixture.contacts {
            let listed = kinds.removeValue(forKey: references[contact.hubspotID]!) ?? []
            let want: [String] = switch contact.outcome {
            case .delete: ["delete"]
            case .erase: ["erase"]
            case .notice, .keep: []
            }
            if listed != want { registerWrong.append("\(contact.hubspotID): \(listed), want \(want)") }
        }
        #expect(registerWrong.isEmpty && kinds.isEmpty, "\(label): register \(registerWrong.prefix(20)), unknown rows \(kinds.count)")
    }
}
