import Foundation
import GRDB
import Testing

/// `lethe sync` against the fake CRMs when the CRM misbehaves: nothing is recorded as destroyed that
/// the source did not confirm per record, nothing is tombstoned from a list that did not end, and a
/// transient outage delays enforcement without ending it.
@Suite(.serialized)
struct DeletionSafetyTests {
    static let asOf = "2026-11-29T09:00:00+09:00"

    /// `due` payment records created in 2019 (due at `asOf`) and `kept` created in 2025.
    static func seed(due: Int, kept: Int) -> [[String: Any]] {
        func contact(_ id: String, created: String) -> [String: Any] {
            ["id": id, "created": created, "updated": "2025-01-01T00:00:00Z", "email": "\(id)@example.com", "firstname": "민준",
             "lastname": "김", "purpose": ["payment"], "marketing_consent": NSNull(), "interests": "", "consent_extended_at": NSNull()]
        }
        return (0..<due).map { contact("d\($0)", created: "2019-03-01T00:00:00Z") } + (0..<kept).map { contact("k\($0)", created: "2025-03-01T00:00:00Z") }
    }

    /// A copy of `config/examples/<provider>.yaml` whose manifest has `edit` applied (the shipped
    /// policies and templates are linked in), so a test can tune retries without touching the repo.
    static func config(_ provider: String, in harness: CLIHarness, edit: (String) -> String = { $0 }) throws -> String {
        let root = harness.root.appendingPathComponent("conf")
        let manager = FileManager.default
        for folder in ["examples", "connectors"] {
            try manager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for folder in ["policies", "templates"] {
            try manager.createSymbolicLink(at: root.appendingPathComponent(folder), withDestinationURL: CLIHarness.repository.appendingPathComponent("config/\(folder)"))
        }
        let manifest = try String(contentsOf: CLIHarness.repository.appendingPathComponent("config/connectors/\(provider).yaml"), encoding: .utf8)
        try edit(manifest).write(to: root.appendingPathComponent("connectors/\(provider).yaml"), atomically: true, encoding: .utf8)
        let example = root.appendingPathComponent("examples/\(provider).yaml")
        try manager.copyItem(at: CLIHarness.repository.appendingPathComponent("config/examples/\(provider).yaml"), to: example)
        return example.path
    }

    /// Few, quick HTTP retries inside a request, so a test's outage is felt at the operation level.
    static func quickRetries(_ manifest: String) -> String {
        manifest.replacingOccurrences(of: "  retries: 8\n", with: "  retries: 1\n")
            .replacingOccurrences(of: "backoff: {initial: 500ms, max: 30s}", with: "backoff: {initial: 10ms, max: 20ms}")
    }

    static func registerRows(_ harness: CLIHarness, config: String) async throws -> [String] {
        let export = harness.root.appendingPathComponent("register-\(UUID().uuidString).csv")
        let exported = await harness.run(["audit", "export", "--output", export.path], config: config)
        #expect(exported.status == 0, "\(exported.stderr)")
        let text = try String(contentsOf: export, encoding: .utf8)
        return Array(text.split(separator: "\r\n").dropFirst().map(String.init))
    }

    @Test func aBatchReadRouteAnswering404DestroysNothingAndRecordsNoDestruction() async throws {
        let fake = try FakeCRMProcess(
            provider: "salesforce", seed: Self.seed(due: 12, kept: 3),
            arguments: ["--token", "test-token", "--missing-route", "GET /services/data/v60.0/composite/sobjects/Contact"])
        defer { fake.stop() }
        var harness = try CLIHarness()
        harness.variables.merge(RESTSyncTests.environment("salesforce", fake: fake, fieldKeys: [:])) { $1 }
        let config = try Self.config("salesforce", in: harness, edit: Self.quickRetries)
        let sync = await harness.run(["sync", "--as-of", Self.asOf, "--json"], config: config)
        #expect(sync.status == 1, "\(sync.stdout)\n\(sync.stderr)")
        #expect(sync.json["deleted"] as? Int == 0, "a whole-request 404 is not 12 confirmed destructions")
        #expect(sync.json["failed"] as? Int == 12, "each delete fails with the request's status")
        #expect(try await fake.records().allSatisfy { $0["deleted"] as? Bool == false })
        let routes = try await fake.stats()["by_route"] as? [String: Int] ?? [:]
        #expect(routes.keys.allSatisfy { !$0.hasPrefix("DELETE") }, "no DELETE was sent: \(routes)")
        #expect(try await Self.registerRows(harness, config: config).isEmpty, "the register names no destruction")
        let status = await harness.run(["status", "--json"], config: config)
        #expect(status.json["deadOperations"] as? Int == 12, "visible dead letters: \(status.stdout)")
    }

    @Test func aRunThatHitsItsDeadlineDuringA429StormLeavesTheDeletesPendingAndTheNextRunFinishesThem() async throws {
        let fake = try FakeCRMProcess(provider: "hubspot", seed: Self.seed(due: 8, kept: 2), arguments: ["--token", "test-token"])
        defer { fake.stop() }
        var harness = try CLIHarness()
        harness.variables.merge(RESTSyncTests.environment("hubspot", fake: fake, fieldKeys: [:])) { $1 }
        harness.variables["LETHE_RETRY_DEADLINE_SECONDS"] = "2"
        let config = try Self.config("hubspot", in: harness, edit: Self.quickRetries)
        // Every re-check (batch read) is rate limited for the whole run.
        try await fake.faults(["fail_routes": ["POST /crm/v3/objects/contacts/batch/read": 429]])
        let stormy = await harness.run(["sync", "--as-of", Self.asOf, "--json"], config: config)
        #expect(stormy.status == 1, "operations left pending are a failure of this run: \(stormy.stderr)")
        #expect(stormy.json["pending"] as? Int == 8, "\(stormy.stdout)")
        #expect(stormy.json["failed"] as? Int == 0, "nothing is dead-lettered by the deadline")
        #expect(stormy.json["deleted"] as? Int == 0)
        #expect(try await fake.records().allSatisfy { $0["deleted"] as? Bool == false })

        try await fake.faults(["fail_routes": [String: Int]()])
        // The next run waits out the provider's reset window (HubSpot's rate-limit headers) within its deadline.
        harness.variables["LETHE_RETRY_DEADLINE_SECONDS"] = "30"
        let calm = await harness.run(["sync", "--as-of", Self.asOf, "--json"], config: config)
        #expect(calm.status == 0, "\(calm.stdout)\n\(calm.stderr)")
        #expect(calm.json["deleted"] as? Int == 8)
        #expect(calm.json["pending"] as? Int == 0)
        let deleted = try await fake.records().filter { $0["deleted"] as? Bool == true }.compactMap { $0["email"] as? String }
        #expect(Set(deleted) == Set((0..<8).map { "d\($0)@example.com" }))
        #expect(try await Self.registerRows(harness, config: config).count == 8, "each destruction once in the register")
    }

    @Test func aListThatComesBackEmptyMakesNoRecordGoneUntilApproved() async throws {
        let fake = try FakeCRMProcess(provider: "hubspot", seed: Self.seed(due: 0, kept: 12), arguments: ["--token", "test-token"])
        defer { fake.stop() }
        var harness = try CLIHarness()
        harness.variables.merge(RESTSyncTests.environment("hubspot", fake: fake, fieldKeys: [:])) { $1 }
        harness.variables["LETHE_MAX_DELETE_FRACTION"] = "0.2"
        let config = CLIHarness.repository.appendingPathComponent("config/examples/hubspot.yaml").path
        #expect(await harness.run(["sync", "--as-of", Self.asOf], config: config).status == 0)
        try await fake.faults(["empty_list": true])
        let empty = await harness.run(["sync", "--as-of", Self.asOf, "--json"], config: config)
        #expect(empty.status == 3, "\(empty.stdout)")
        #expect(empty.json["missingAwaitingApproval"] as? Int == 12)
        #expect(empty.json["gone"] as? Int == 0)
        let records = ((await harness.run(["status", "--json"], config: config)).json["records"] as? [String: [String: Int]])?["hubspot"] ?? [:]
        #expect(records == ["active": 12], "\(records)")
    }

    /// (A list that clamps out-of-range pages is a connector test: the shipped manifests stop at the
    /// providers' own end markers before they would ask past the end.)
    @Test(arguments: ["hubspot", "salesforce", "pipedrive", "pipedrive-v1"])
    func aListThatRepeatsItsCursorFailsThePullAndTombstonesNothing(provider: String) async throws {
        let fake = try FakeCRMProcess(provider: provider, seed: Self.seed(due: 3, kept: 12), arguments: ["--token", "test-token", "--max-page", "5"])
        defer { fake.stop() }
        var harness = try CLIHarness()
        harness.variables.merge(RESTSyncTests.environment(provider, fake: fake, fieldKeys: try await fake.pipedriveFieldKeys())) { $1 }
        let config = CLIHarness.repository.appendingPathComponent("config/examples/\(provider).yaml").path
        let first = await harness.run(["sync", "--as-of", Self.asOf, "--json"], config: config)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.json["deleted"] as? Int == 3)

        try await fake.faults(["repeat_cursor": true])
        let looping = await harness.run(["sync", "--as-of", Self.asOf, "--json"], config: config)
        #expect(looping.status == 1)
        #expect((looping.json["errors"] as? [String])?.first?.contains("the pull stopped") == true, "\(looping.stdout)")
        let status = await harness.run(["status", "--json"], config: config)
        let records = (status.json["records"] as? [String: [String: Int]])?[provider] ?? [:]
        #expect(records["gone"] == nil, "nothing tombstoned: \(records)")
        #expect(records["active"] == 12, "\(records)")
    }
}

/// A broken export must not make records "gone": disappearances count against the delete limits,
/// and a CSV with a quote that never closes is refused whole.
@Suite(.serialized)
struct BrokenExportTests {
    static func table(_ harness: CLIHarness, _ sql: String) throws -> String {
        let queue = try DatabaseQueue(path: harness.state.appendingPathComponent("lethe.sqlite").path)
        defer { try? queue.close() }
        return try queue.read { db in try Row.fetchAll(db, sql: sql).map { "\($0)" }.joined(separator: "\n") }
    }

    @Test func aTruncatedCSVTombstonesNothingUntilApproved() async throws {
        var harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let liveBefore = (await harness.run(["status", "--json"])).json["records"] as? [String: [String: Int]] ?? [:]

        // The export is cut after three rows (say a disk filled up while it was written).
        let text = try String(contentsOf: harness.csv, encoding: .utf8)
        let rows = text.components(separatedBy: "\r\n")
        let truncated = rows.prefix(4).joined(separator: "\r\n") + "\r\n"
        try truncated.write(to: harness.csv, atomically: true, encoding: .utf8)
        harness.variables["LETHE_MAX_DELETE_FRACTION"] = "0.2"
        let cut = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(cut.status == 3, "held for approval: \(cut.stdout)")
        let missing = try #require(cut.json["missingAwaitingApproval"] as? Int)
        #expect(missing > 10)
        #expect(cut.json["gone"] as? Int == 0)
        let batch = try #require(cut.json["approvalBatch"] as? String)
        let held = (await harness.run(["status", "--json"])).json["records"] as? [String: [String: Int]] ?? [:]
        #expect(held["contacts"]?["gone"] == nil, "no new gone: \(held)")
        #expect(NSDictionary(dictionary: held) == NSDictionary(dictionary: liveBefore), "every record keeps its phase")
        #expect(try String(contentsOf: harness.csv, encoding: .utf8) == truncated, "the file is not rewritten")
        let text2 = await harness.run(["sync", "--as-of", asOf])
        #expect(text2.stdout.contains("lethe approve \(batch)"), "\(text2.stdout)")

        // The operator checks: the records really went. Approving releases them.
        #expect(await harness.run(["approve", batch, "--by", "dpo"]).status == 0)
        let released = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(released.status == 0, "\(released.stdout)")
        #expect(released.json["gone"] as? Int == missing)
        #expect(released.json["missingAwaitingApproval"] as? Int == 0)
    }

    @Test func aStrayQuoteRefusesTheFileAndChangesNothing() async throws {
        let harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        // Rows without quotes of their own, so one stray quote runs to the end of the file.
        var lines = try String(contentsOf: harness.csv, encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.contains("\"") }
        try lines.joined(separator: "\r\n").write(to: harness.csv, atomically: true, encoding: .utf8)
        #expect(await harness.run(["sync", "--as-of", asOf]).status == 0)
        lines[4] = lines[4].replacingOccurrences(of: ",", with: ",\"", options: [], range: lines[4].range(of: ","))
        let broken = lines.joined(separator: "\r\n")
        try broken.write(to: harness.csv, atomically: true, encoding: .utf8)
        let records = try Self.table(harness, "SELECT ref, phase, state, next_due FROM record_state ORDER BY key")
        let outbox = try Self.table(harness, "SELECT id, status FROM outbox ORDER BY id")
        let sync = await harness.run(["sync", "--as-of", "2027-06-01T09:00:00+09:00", "--json"])
        #expect(sync.status == 1)
        let error = (sync.json["errors"] as? [String])?.first ?? ""
        #expect(error.contains("line 5") && error.contains("never closes"), "\(error)")
        #expect(try Self.table(harness, "SELECT ref, phase, state, next_due FROM record_state ORDER BY key") == records, "nothing tombstoned")
        #expect(try Self.table(harness, "SELECT id, status FROM outbox ORDER BY id") == outbox, "nothing queued or cancelled")
        #expect(try String(contentsOf: harness.csv, encoding: .utf8) == broken, "the file untouched")
    }
}

/// A record that comes back after its destruction (a CRM's recycle bin, a CSV restored from a backup, a
/// rewrite that did not stick) is a new generation: due again, destroyed again, and flagged.
@Suite(.serialized)
struct ReappearanceTests {
    @Test func aCSVRestoredFromABackupIsEnforcedAgainAndTheRegisterShowsBothDestructions() async throws {
        let harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        let backup = try Data(contentsOf: harness.csv)
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let deleted = try #require(first.json["deleted"] as? Int)
        let erased = try #require(first.json["fieldsErased"] as? Int)
        #expect(deleted > 0 && erased > 0)
        let registerFirst = try await DeletionSafetyTests.registerRows(harness, config: CLIHarness.repository.appendingPathComponent("config/lethe.yaml").path)

        try backup.write(to: harness.csv)
        let again = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(again.status == 0, "re-enforcing is not a failure: \(again.stderr)")
        #expect(again.json["deleted"] as? Int == deleted, "every restored record is deleted again")
        #expect(again.json["fieldsErased"] as? Int == erased, "every restored field is erased again")
        #expect(again.json["noticesSent"] as? Int == 0, "no second notice for a cycle already noticed")
        #expect(again.json["reappeared"] as? Int == deleted + erased)
        #expect(try Data(contentsOf: harness.csv) != backup)

        let register = try await DeletionSafetyTests.registerRows(harness, config: CLIHarness.repository.appendingPathComponent("config/lethe.yaml").path)
        #expect(register.count == 2 * registerFirst.count, "both destructions are in the register")
        let marked = register.filter { $0.contains("seen again after its destruction") }
        #expect(marked.count == deleted + erased, "the second destruction of each is marked")
        #expect(register.prefix(registerFirst.count).allSatisfy { !$0.contains("seen again") })

        let status = await harness.run(["status", "--json"])
        #expect((status.json["reappeared"] as? [String: Int])?["contacts"] == deleted + erased, "\(status.stdout)")
        let text = await harness.run(["status"])
        #expect(text.stdout.contains("reappeared after destruction (enforced again): \(deleted + erased)"))
        #expect(await harness.run(["audit", "verify"]).status == 0)
    }

    @Test func aContactRestoredFromTheRecycleBinIsDeletedAgain() async throws {
        let fake = try FakeCRMProcess(provider: "hubspot", seed: DeletionSafetyTests.seed(due: 2, kept: 1), arguments: ["--token", "test-token"])
        defer { fake.stop() }
        var harness = try CLIHarness()
        harness.variables.merge(RESTSyncTests.environment("hubspot", fake: fake, fieldKeys: [:])) { $1 }
        let config = CLIHarness.repository.appendingPathComponent("config/examples/hubspot.yaml").path
        let first = await harness.run(["sync", "--as-of", DeletionSafetyTests.asOf, "--json"], config: config)
        #expect(first.json["deleted"] as? Int == 2, "\(first.stdout)")
        let restored = try #require(try await fake.records().first { $0["email"] as? String == "d0@example.com" })
        #expect(restored["deleted"] as? Bool == true)
        _ = try await fake.call("PUT", "/_fake/records/\(restored["provider_id"]!)", ["deleted": false])

        let second = await harness.run(["sync", "--as-of", DeletionSafetyTests.asOf, "--json"], config: config)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.json["deleted"] as? Int == 1)
        #expect(second.json["reappeared"] as? Int == 1)
        #expect(try await fake.records().first { $0["email"] as? String == "d0@example.com" }?["deleted"] as? Bool == true)
        let register = try await DeletionSafetyTests.registerRows(harness, config: config)
        #expect(register.count == 3)
        #expect(register.filter { $0.contains("seen again after its destruction") }.count == 1)
        let third = await harness.run(["sync", "--as-of", DeletionSafetyTests.asOf, "--json"], config: config)
        #expect(third.json["deleted"] as? Int == 0 && third.json["reappeared"] as? Int == 0, "once is enough: \(third.stdout)")
    }
}
