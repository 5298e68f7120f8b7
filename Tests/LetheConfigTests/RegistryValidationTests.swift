import Foundation
import LetheConfig
import RetentionCore
import Testing

@Suite("validate(registry:)")
struct RegistryValidationTests {
    func load(_ config: String, environment: [String: String] = [:]) throws -> (LetheConfiguration, ConfigFixture) {
        let fixture = try ConfigFixture.withPolicy(config)
        return (try ConfigLoader(environment: environment).load(file: fixture.url()), fixture)
    }

    @Test func validConfigPasses() throws {
        let (configuration, fixture) = try load(
            ConfigFixture.minimalConfig + "\nmail:\n  type: mailer\n  settings: {directory: out}\n")
        defer { fixture.remove() }
        #expect(configuration.validateAll(registry: FakeConnectors.registry).isEmpty)
        try configuration.validate(registry: FakeConnectors.registry)
    }

    @Test func unknownTypeListsKnownTypes() throws {
        let (configuration, fixture) = try load(
            ConfigFixture.minimalConfig.replacingOccurrences(of: "type: fake", with: "type: hubspott"))
        defer { fixture.remove() }
        let error = #expect(throws: ConfigError.self) { try configuration.validate(registry: FakeConnectors.registry) }
        #expect(error?.code == "config.unknown_type")
        #expect(error?.key == "connectors[0].type")
        #expect(error?.location?.line == 6)
        #expect(error?.problem.contains("hubspott") == true)
        #expect(error?.problem.contains("fake, mailer, vault") == true)
    }

    @Test func settingsAreCheckedAgainstTheSpec() throws {
        let config = ConfigFixture.minimalConfig + "\n      batch: many\n      pathh: typo\n"
        let (configuration, fixture) = try load(config)
        defer { fixture.remove() }
        let errors = configuration.validateAll(registry: FakeConnectors.registry)
        #expect(errors.count == 1)
        #expect(errors.first?.code == "config.unknown_key")
        #expect(errors.first?.key == "connectors[0].settings.pathh")
        #expect(errors.first?.location?.line == 11)
    }

    @Test func missingSettingsReportTheRequiredField() throws {
        let config = ConfigFixture.minimalConfig.replacingOccurrences(
            of: "    settings:\n      path: data.csv", with: "")
        let (configuration, fixture) = try load(config)
        defer { fixture.remove() }
        let errors = configuration.validateAll(registry: FakeConnectors.registry)
        #expect(errors.map(\.code) == ["config.missing"])
        #expect(errors.map(\.key) == ["connectors[0].settings.path"])
    }

    @Test func wrongTypedSettingIsReported() throws {
        let config = ConfigFixture.minimalConfig + "\n      batch: many\n"
        let (configuration, fixture) = try load(config)
        defer { fixture.remove() }
        let errors = configuration.validateAll(registry: FakeConnectors.registry)
        #expect(errors.map(\.code) == ["config.type"])
        #expect(errors.map(\.key) == ["connectors[0].settings.batch"])
    }

    @Test func sinksMustPlayTheirRole() throws {
        let config =
            ConfigFixture.minimalConfig
            + "\nmail:\n  type: vault\narchive:\n  type: mailer\n  settings: {directory: a}\n"
        let (configuration, fixture) = try load(config)
        defer { fixture.remove() }
        let errors = configuration.validateAll(registry: FakeConnectors.registry)
        #expect(errors.map(\.code) == ["config.wrong_role", "config.wrong_role"])
        #expect(errors.map(\.key) == ["mail.type", "archive.type"])
        #expect(errors.map(\.location?.line) == [11, 13])
    }

    @Test func aConnectorMustBeASource() throws {
        let (configuration, fixture) = try load(
            ConfigFixture.minimalConfig.replacingOccurrences(of: "type: fake", with: "type: mailer"))
        defer { fixture.remove() }
        let errors = configuration.validateAll(registry: FakeConnectors.registry)
        #expect(errors.map(\.code) == ["config.wrong_role"])
    }

    @Test func unsetVariablesInSettingsAreLeftForTheConnector() throws {
        let config = ConfigFixture.minimalConfig.replacingOccurrences(of: "path: data.csv", with: "path: ${CSV_FILE}")
        let (configuration, fixture) = try load(config)
        defer { fixture.remove() }
        #expect(configuration.validateAll(registry: FakeConnectors.registry).isEmpty)
        let error = #expect(throws: ConfigError.self) { try configuration.connectors[0].settings["path"]?.string() }
        #expect(error?.code == "config.unset_variable")
        #expect(error?.message.contains("CSV_FILE") == true)
    }

    @Test(arguments: [("\"${NOPE}\"", "config.unset_variable"), ("\"${EMPTY:-}\"", "config.empty")])
    func unusableStateDirectoryIsReported(_ value: String, _ code: String) throws {
        let (configuration, fixture) = try load(ConfigFixture.minimalConfig + "\nstate: {directory: \(value)}\n")
        defer { fixture.remove() }
        let errors = configuration.validateAll(registry: FakeConnectors.registry)
        #expect(errors.map(\.code) == [code])
        #expect(errors.map(\.key) == ["state.directory"])
        #expect(errors.map(\.location?.line) == [10])
    }
}
