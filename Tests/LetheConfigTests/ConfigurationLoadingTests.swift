import Foundation
import LetheConfig
import RetentionCore
import Testing

@Suite("Loading lethe.yaml")
struct ConfigurationLoadingTests {
    @Test func minimalConfigLoadsWithDefaults() throws {
        let fixture = try ConfigFixture.withPolicy(ConfigFixture.minimalConfig)
        defer { fixture.remove() }
        let configuration = try ConfigLoader(environment: [:]).load(file: fixture.url())
        #expect(configuration.version == 1)
        #expect(try configuration.stateDirectory.string() == ".lethe")
        #expect(configuration.policies.keys.sorted() == ["test"])
        #expect(configuration.mail == nil)
        #expect(configuration.archive == nil)
        let connector = try #require(configuration.connectors.first)
        #expect(connector.name == "contacts")
        #expect(connector.type == "fake")
        #expect(connector.policy == "test")
        #expect(connector.safety == SafetyLimits(maxDeletesPerRun: 1000, maxDeleteFraction: 0.2))
        #expect(connector.location?.line == 5)
        #expect(try connector.settings["path"]?.string() == "data.csv")
    }

    @Test func unknownKeyNamesFileLineAndKey() throws {
        let config = ConfigFixture.minimalConfig.replacingOccurrences(
            of: "    policy: test\n", with: "    policy: test\n    polcy: typo\n")
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.unknown_key")
        #expect(error.key == "connectors[0].polcy")
        #expect(error.message.contains("\(fixture.url().path):8:") == true)
        #expect(error.message.contains("connectors[0].polcy") == true)
    }

    @Test(arguments: [
        ("extra: 1\n", "extra", 10),
        ("state:\n  dir: x\n", "state.dir", 11),
        ("mail:\n  type: file-mail\n  form: x@y\n", "mail.form", 12),
        ("archive:\n  type: file-archive\n  from: x@y\n", "archive.from", 12),
    ])
    func unknownKeysAtEveryLevel(_ addition: String, _ key: String, _ line: Int) throws {
        let fixture = try ConfigFixture.withPolicy(ConfigFixture.minimalConfig + "\n" + addition)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.unknown_key")
        #expect(error.key == key)
        #expect(error.location?.line == line)
    }

    @Test func unknownSafetyKey() throws {
        let config = ConfigFixture.minimalConfig + "\n    safety:\n      maxDeletes: 5\n"
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.key == "connectors[0].safety.maxDeletes")
        #expect(error.location?.line == 11)
    }

    @Test(arguments: [
        ("version: one\npolicies: [policies/test.yaml]\nconnectors: []\n", "version", "config.type", 1),
        ("version: 2\npolicies: [policies/test.yaml]\nconnectors: []\n", "version", "config.version", 1),
        ("version: 1\npolicies: [policies/test.yaml]\nconnectors: {name: a}\n", "connectors", "config.type", 3),
        ("version: 1\npolicies: policies/test.yaml\nconnectors: []\n", "policies", "config.type", 2),
        ("version: 1\npolicies: [[policies/test.yaml]]\nconnectors: []\n", "policies[0]", "config.type", 2),
        (
            "version: 1\npolicies: [policies/test.yaml]\nconnectors:\n  - name: [a]\n    type: fake\n    policy: test\n",
            "connectors[0].name", "config.type", 4
        ),
        ("version: 1\npolicies: [policies/test.yaml]\nconnectors:\n  - a\n", "connectors[0]", "config.type", 4),
        ("version: 1\npolicies: [policies/test.yaml]\nconnectors: []\nmail: file-mail\n", "mail", "config.type", 4),
    ])
    func typeErrors(_ config: String, _ key: String, _ code: String, _ line: Int) throws {
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == code)
        #expect(error.key == key)
        #expect(error.location?.line == line)
    }

    @Test(arguments: [
        ("  - type: fake\n    policy: test\n", "name"),
        ("  - name: a\n    policy: test\n", "type"),
        ("  - name: a\n    type: fake\n", "policy"),
        ("  - name: a\n    type:\n    policy: test\n", "type"),
    ])
    func missingRequiredConnectorKeys(_ connector: String, _ key: String) throws {
        let fixture = try ConfigFixture.withPolicy(
            "version: 1\npolicies: [policies/test.yaml]\nconnectors:\n" + connector)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.missing")
        #expect(error.key == "connectors[0].\(key)")
        #expect(error.location?.file == fixture.url().path)
        #expect(error.location?.line ?? 0 >= 4)
    }

    @Test func missingTopLevelKeys() throws {
        let fixture = try ConfigFixture(["lethe.yaml": "version: 1\n"])
        defer { fixture.remove() }
        let errors = ConfigLoader(environment: [:]).diagnose(file: fixture.url(), registry: ConnectorRegistry([]))
        #expect(errors.map(\.key) == ["policies", "connectors"])
        #expect(errors.allSatisfy { $0.code == "config.missing" && $0.location?.line == 1 })
    }

    @Test func unknownPolicy() throws {
        let config = ConfigFixture.minimalConfig.replacingOccurrences(of: "policy: test", with: "policy: us-ccpa")
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.unknown_policy")
        #expect(error.key == "connectors[0].policy")
        #expect(error.location?.line == 7)
        #expect(error.problem.contains("us-ccpa") && error.problem.contains("test"))
    }

    @Test func duplicateConnectorNames() throws {
        let config = ConfigFixture.minimalConfig + "\n  - name: contacts\n    type: fake\n    policy: test\n"
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.duplicate_connector")
        #expect(error.key == "connectors[1].name")
        #expect(error.location?.line == 10)
        #expect(error.problem.contains("\(fixture.url().path):5"))
    }

    @Test(arguments: ["con tacts", "a/b", "", "räksmörgås"])
    func invalidConnectorNames(_ name: String) throws {
        let config = ConfigFixture.minimalConfig.replacingOccurrences(of: "name: contacts", with: "name: \"\(name)\"")
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == (name.isEmpty ? "config.empty" : "config.invalid_name"))
        #expect(error.key == "connectors[0].name")
    }

    @Test func duplicatePolicyNames() throws {
        let config = ConfigFixture.minimalConfig.replacingOccurrences(
            of: "  - policies/test.yaml", with: "  - policies/test.yaml\n  - policies/copy.yaml")
        let fixture = try ConfigFixture([
            "lethe.yaml": config, "policies/test.yaml": ConfigFixture.testPolicy,
            "policies/copy.yaml": ConfigFixture.testPolicy,
        ])
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.duplicate_policy")
        #expect(error.key == "policies[1]")
        #expect(error.location?.line == 4)
    }

    @Test func missingPolicyFileNamesTheListEntry() throws {
        let fixture = try ConfigFixture(["lethe.yaml": ConfigFixture.minimalConfig])
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.not_found")
        #expect(error.key == "policies[0]")
        #expect(error.location == SourceLocation(file: fixture.url().path, line: 3, column: 5))
    }

    @Test(arguments: [
        ("-1", "0.2", "connectors[0].safety.maxDeletesPerRun", "config.range"),
        ("10", "1.5", "connectors[0].safety.maxDeleteFraction", "config.range"),
        ("10", "-0.1", "connectors[0].safety.maxDeleteFraction", "config.range"),
        ("ten", "0.2", "connectors[0].safety.maxDeletesPerRun", "config.type"),
        ("10", "half", "connectors[0].safety.maxDeleteFraction", "config.type"),
    ])
    func safetyLimitsAreValidated(_ count: String, _ fraction: String, _ key: String, _ code: String) throws {
        let config =
            ConfigFixture.minimalConfig
            + "\n    safety:\n      maxDeletesPerRun: \(count)\n      maxDeleteFraction: \(fraction)\n"
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == code)
        #expect(error.key == key)
    }

    @Test func safetyLimitsAreRead() throws {
        let config =
            ConfigFixture.minimalConfig + "\n    safety:\n      maxDeletesPerRun: 0\n      maxDeleteFraction: 1\n"
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let configuration = try ConfigLoader(environment: [:]).load(file: fixture.url())
        #expect(configuration.connectors.first?.safety == SafetyLimits(maxDeletesPerRun: 0, maxDeleteFraction: 1))
    }

    @Test func unsetStateDirectoryIsKeptUnreadUntilUsed() throws {
        let config = ConfigFixture.minimalConfig + "\nstate:\n  directory: ${STATE_HOME}/lethe\n"
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let configuration = try ConfigLoader(environment: [:]).load(file: fixture.url())
        let error = #expect(throws: ConfigError.self) { try configuration.stateDirectory.string() }
        #expect(error?.key == "state.directory")
        #expect(error?.location?.line == 11)
        let set = try ConfigLoader(environment: ["STATE_HOME": "/var"]).load(file: fixture.url())
        #expect(try set.stateDirectory.string() == "/var/lethe")
    }

    @Test func diagnoseCollectsEveryError() throws {
        let config = """
            version: 1
            bogus: true
            policies:
              - policies/test.yaml
            connectors:
              - name: a
                type: fake
                policy: nope
              - name: b
                type: fake
                policy: test
                safety: {maxDeletesPerRun: x}
            """
        let fixture = try ConfigFixture.withPolicy(config)
        defer { fixture.remove() }
        let errors = ConfigLoader(environment: [:]).diagnose(file: fixture.url(), registry: ConnectorRegistry([]))
        #expect(
            errors.map(\.code) == [
                "config.unknown_key", "config.unknown_policy", "config.type", "config.unknown_type",
                "config.unknown_type",
            ])
        #expect(errors.map(\.location?.line) == [2, 8, 12, 7, 10])
    }
}
