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

    @Test(arguments: ["hubspot", "salesforce", "pipedrive"])
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
        for name in ["hubspot", "salesforce", "pipedrive"] {
            #expect(result.stdout.contains("config/connectors/\(name).yaml: \(name): "), "\(result.stdout)")
        }
    }
}
