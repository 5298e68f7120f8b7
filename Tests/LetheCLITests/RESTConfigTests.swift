import Foundation
import Testing

/// `lethe config validate` and `lethe connectors list` with REST manifests.
struct RESTConfigTests {
    static let environment = [
        "HUBSPOT_TOKEN": "hs-secret", "SALESFORCE_INSTANCE_URL": "https://example.my.salesforce.com",
        "SALESFORCE_ACCESS_TOKEN": "sf-secret", "PIPEDRIVE_API_TOKEN": "pd-secret",
        "PIPEDRIVE_FIELD_PURPOSE": "cc35be25ec2b9702c1f883bcb1e5ee7255aa8a58",
        "PIPEDRIVE_FIELD_MARKETING_CONSENT": "52628b6bab956f26190a1ecae501b7f385363913",
        "PIPEDRIVE_FIELD_INTERESTS": "48263d97b2f52983e656de70bc08b46fd8f7b792",
        "PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT": "a6c2db92912f8dce6b72e679c5db94311e54d081",
    ]

    /// A copy of config/ (examples, connectors, policies) in a temporary folder, so a test can break a manifest.
    static func copyOfConfig() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for folder in ["examples", "connectors", "policies", "templates"] {
            try FileManager.default.copyItem(
                at: CLIHarness.repository.appendingPathComponent("config/\(folder)"), to: root.appendingPathComponent(folder))
        }
        return root
    }

    @Test(arguments: ["hubspot", "salesforce", "pipedrive", "pipedrive-v1"])
    func shippedExamplesValidate(provider: String) async throws {
        let harness = try CLIHarness(variables: Self.environment)
        let config = CLIHarness.repository.appendingPathComponent("config/examples/\(provider).yaml").path
        let result = await harness.run(["config", "validate"], config: config)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("OK (connectors: \(provider)"))
    }

    @Test func aManifestMistakeNamesTheManifestFileLineAndKey() async throws {
        let root = try Self.copyOfConfig()
        let manifest = root.appendingPathComponent("connectors/hubspot.yaml")
        var text = try String(contentsOf: manifest, encoding: .utf8)
        text = text.replacingOccurrences(of: "pagination: {type: cursor, next: paging.next.after}\n\n# Changes", with: "pagination: {type: cursr, next: paging.next.after}\n\n# Changes")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        let line = text.components(separatedBy: "\n").firstIndex { $0.contains("type: cursr") }! + 1
        let harness = try CLIHarness(variables: Self.environment)
        let result = await harness.run(["config", "validate"], config: root.appendingPathComponent("examples/hubspot.yaml").path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("hubspot.yaml:\(line)"), "\(result.stderr)")
        #expect(result.stderr.contains("list.pagination.type"), "\(result.stderr)")
    }

    @Test func anUnknownManifestKeyAndAnUnsetTokenAreReported() async throws {
        let root = try Self.copyOfConfig()
        let manifest = root.appendingPathComponent("connectors/pipedrive.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8).replacingOccurrences(of: "absentWhen:", with: "absentIf:")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        let config = root.appendingPathComponent("examples/pipedrive.yaml").path
        let unknown = await (try CLIHarness(variables: Self.environment)).run(["config", "validate"], config: config)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("pipedrive.yaml:") && unknown.stderr.contains("absentIf"), "\(unknown.stderr)")

        var environment = Self.environment
        environment["HUBSPOT_TOKEN"] = nil
        let unset = await (try CLIHarness(variables: environment)).run(
            ["config", "validate"], config: CLIHarness.repository.appendingPathComponent("config/examples/hubspot.yaml").path)
        #expect(unset.status == 2)
        #expect(unset.stderr.contains("HUBSPOT_TOKEN"), "\(unset.stderr)")
        #expect(!unset.stderr.contains("secret"))
    }

    @Test func aMissingManifestFileIsAConfigError() async throws {
        let root = try Self.copyOfConfig()
        try FileManager.default.removeItem(at: root.appendingPathComponent("connectors/salesforce.yaml"))
        let result = await (try CLIHarness(variables: Self.environment)).run(
            ["config", "validate"], config: root.appendingPathComponent("examples/salesforce.yaml").path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("salesforce.yaml") && result.stderr.contains("manifest"), "\(result.stderr)")
    }

    @Test func connectorsListShowsTheManifests() async throws {
        let harness = try CLIHarness(variables: Self.environment)
        let result = await harness.run(["connectors", "list"], config: CLIHarness.repository.appendingPathComponent("config/examples/hubspot.yaml").path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("rest [source, write-back]"))
        #expect(result.stdout.contains("hubspot: type rest, policy kr-pipa, manifest ../connectors/hubspot.yaml"))
        for name in ["hubspot", "salesforce", "pipedrive", "pipedrive-v1"] {
            #expect(result.stdout.contains("config/connectors/\(name).yaml: \(name): "), "\(result.stdout)")
        }
    }
}

/// `lethe config validate` refuses a policy that writes a field its source cannot hold: each such write
/// would otherwise end as a dead-lettered operation at the first expiry.
struct WritableFieldsConfigTests {
    @Test func aManifestWithoutAnUpdateFieldThePolicyWritesIsRefused() async throws {
        let root = try RESTConfigTests.copyOfConfig()
        let manifest = root.appendingPathComponent("connectors/hubspot.yaml")
        let text = try String(contentsOf: manifest, encoding: .utf8)
            .replacingOccurrences(of: "    consent_extended_at: {name: lethe_consent_extended_at, format: iso8601}\n", with: "")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        let result = await (try CLIHarness(variables: RESTConfigTests.environment)).run(
            ["config", "validate"], config: root.appendingPathComponent("examples/hubspot.yaml").path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("config.unwritable_field") || result.stderr.contains("connectors[0].policy"), "\(result.stderr)")
        #expect(result.stderr.contains("'consent_extended_at'") && result.stderr.contains("update.fields"), "\(result.stderr)")
        #expect(!result.stderr.contains("'interests'"), "only the missing field is named")
    }

    @Test func aCSVWithoutAColumnThePolicyWritesIsRefusedAndAMissingFileIsNotJudged() async throws {
        let harness = try CLIHarness()
        let lines = try String(contentsOf: harness.csv, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        // Drop the last column (consent_extended_at) from every line of the example (its last cells are empty or plain dates).
        let cut = lines.map { line -> String in
            guard let comma = line.lastIndex(of: ",") else { return String(line) }
            return String(line[..<comma])
        }
        try cut.joined(separator: "\n").write(to: harness.csv, atomically: true, encoding: .utf8)
        let result = await harness.run(["config", "validate"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("lethe.yaml:") && result.stderr.contains("'consent_extended_at'") && result.stderr.contains("add the column"), "\(result.stderr)")

        let sync = await harness.run(["sync", "--dry-run", "--as-of", "2026-11-29T09:00:00+09:00"])
        #expect(sync.stderr.contains("cannot write") && sync.stderr.contains("field=consent_extended_at"), "a sync warns too: \(sync.stderr)")

        try FileManager.default.removeItem(at: harness.csv)
        let missing = await harness.run(["config", "validate"])
        #expect(missing.status == 0, "a file that does not exist yet is not judged: \(missing.stderr)")
    }

    @Test func theShippedConfigsWriteOnlyWhatTheirSourcesHold() async throws {
        let harness = try CLIHarness()
        #expect(await harness.run(["config", "validate"]).status == 0)
    }
}
