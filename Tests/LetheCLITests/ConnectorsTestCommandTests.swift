import Foundation
@testable import LetheCLI
import Testing

/// `lethe connectors test` checks a configured connector against its system read-only: access, the
/// full list, the dates as the policy reads them, reads by id — and changes nothing.
@Suite(.serialized) struct ConnectorsTestCommandTests {
    @Test func theExampleCSVPassesWithItsBadDatesCountedAndNothingChanges() async throws {
        let harness = try CLIHarness()
        try FileManager.default.removeItem(at: harness.state)
        let before = try Data(contentsOf: harness.csv)
        let result = await harness.run(["connectors", "test", "--json"])
        #expect(!FileManager.default.fileExists(atPath: harness.state.path), "no state was created")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try #require((result.json["connectors"] as? [[String: Any]])?.first)
        let pulled = await harness.run(["sync", "--dry-run", "--json", "--as-of", "2026-11-29T09:00:00+09:00"]).json["pulled"] as? Int
        #expect(report["records"] as? Int == pulled, "every record the sync reads is listed")
        #expect(report["complete"] as? Bool == true)
        let quarantined = report["quarantined"] as? [String: Int] ?? [:]
        #expect(!quarantined.isEmpty, "the example's bad dates are counted: \(quarantined)")
        let problems = report["problems"] as? [String] ?? []
        #expect(problems.first?.hasPrefix("line ") == true, "by line: \(problems)")
        let checks = (report["checks"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["ok"] as? Bool ?? false) }
        #expect(checks.map(\.0) == ["access", "list", "dates", "read by id", "batch read"])
        #expect(checks.allSatisfy { $0.1 }, "\(checks)")
        #expect(try Data(contentsOf: harness.csv) == before, "the source is unchanged")
        #expect((report["quarantined"] as? [String: Int])?["duplicate_id"] != nil, "ids listed twice are counted")
        #expect(!result.stdout.contains("@example.com"), "no field value in the report")
    }

    @Test func aMissingFileFailsAccessAndTheLimitStopsTheList() async throws {
        var harness = try CLIHarness()
        let text = await harness.run(["connectors", "test", "--limit", "5"])
        #expect(text.status == 0, "\(text.stdout)\(text.stderr)")
        #expect(text.stdout.contains("5 records in") && text.stdout.contains("to the limit of 5"), "\(text.stdout)")
        harness.variables["LETHE_CSV_PATH"] = harness.root.appendingPathComponent("nope.csv").path
        let missing = await harness.run(["connectors", "test"])
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("FAIL access"), "\(missing.stdout)")
    }

    @Test(arguments: ["hubspot", "salesforce", "pipedrive", "pipedrive-v1"])
    func aRESTConnectorIsReadAndNeverWritten(provider: String) async throws {
        let fake = try FakeCRMProcess(provider: provider, seed: RESTSyncTests.seed(), arguments: ["--token", "test-token", "--max-page", "10"])
        defer { fake.stop() }
        var harness = try CLIHarness()
        harness.variables.merge(RESTSyncTests.environment(provider, fake: fake, fieldKeys: try await fake.pipedriveFieldKeys())) { $1 }
        let config = CLIHarness.repository.appendingPathComponent("config/examples/\(provider).yaml").path
        let result = await harness.run(["connectors", "test", "--json"], config: config)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try #require((result.json["connectors"] as? [[String: Any]])?.first)
        #expect(report["records"] as? Int == RESTSyncTests.seed().count)
        #expect((report["pages"] as? Int ?? 0) > 1, "paginated to the end")
        let routes = try await fake.stats()["by_route"] as? [String: Int] ?? [:]
        let writes = routes.keys.filter { ["POST", "PATCH", "PUT", "DELETE"].contains(String($0.split(separator: " ").first ?? "")) }
            .filter { !$0.contains("/search") && !$0.contains("oauth2/token") && !$0.contains("/batch/read") && !$0.contains("composite/sobjects") }
        #expect(writes.isEmpty, "no write reached the CRM: \(writes)")
        #expect(try await fake.records().allSatisfy { $0["deleted"] as? Bool != true })
    }
}
