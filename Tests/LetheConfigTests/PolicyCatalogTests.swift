import Foundation
import LetheConfig
import RetentionCore
import Testing

/// The policy files a comparison may name, and policies read from text.
@Suite("Policy catalog")
struct PolicyCatalogTests {
    static func policy(_ name: String, period: String = "5y") -> String {
        "policy:\n  name: \(name)\n  rules:\n    - purpose: payment\n      period: \(period)\n"
    }

    @Test func theListedFilesTheirFoldersAndPoliciesBesideTheConfigurationAreOffered() throws {
        let fixture = try ConfigFixture([
            "conf/lethe.yaml": "", "conf/policies/a.yaml": Self.policy("a"), "conf/policies/b.yml": Self.policy("b"), "conf/policies/notes.txt": "x",
            "conf/policies/.hidden.yaml": Self.policy("h"), "shared/c.yaml": Self.policy("c"), "shared/d.yaml": Self.policy("d", period: "3y"),
            "secret.yaml": Self.policy("s"),
        ])
        defer { fixture.remove() }
        let catalog = PolicyCatalog(configuration: fixture.url("conf/lethe.yaml"), listed: ["../shared/c.yaml", "policies/a.yaml"], loader: ConfigLoader(environment: [:]))
        #expect(catalog.names() == ["../shared/c.yaml", "policies/a.yaml", "../shared/d.yaml", "policies/b.yml"])
        #expect(try catalog.load("../shared/d.yaml").name == "d")
        #expect(try catalog.load("../shared/d.yaml").rules.first?.period == Period(years: 3))
        for name in ["../secret.yaml", "policies/notes.txt", "policies/.hidden.yaml", "/etc/passwd", "policies/missing.yaml"] {
            #expect(throws: ConfigError.self, "\(name)") { try catalog.load(name) }
        }
    }

    @Test func theCatalogReadsThePoliciesListOfALoadedConfiguration() throws {
        let fixture = try ConfigFixture([
            "lethe.yaml": "version: 1\npolicies:\n  - policies/test.yaml\nconnectors: []\n", "policies/test.yaml": ConfigFixture.testPolicy,
            "policies/other.yaml": Self.policy("other"),
        ])
        defer { fixture.remove() }
        let loader = ConfigLoader(environment: [:])
        let catalog = try PolicyCatalog(configuration: loader.load(file: fixture.url()), loader: loader)
        #expect(catalog.listed == ["policies/test.yaml"])
        #expect(catalog.names() == ["policies/test.yaml", "policies/other.yaml"])
    }

    @Test func aPastedPolicyLoadsLikeAFileAndItsErrorsNameTheLineAndKey() throws {
        #expect(try PolicyCatalog.parse(Self.policy("pasted-one")).name == "pasted-one")
        do {
            _ = try PolicyCatalog.parse("policy:\n  name: x\n  rules:\n    - purpose: payment\n      period: 5y\n      keep: forever\n")
            Issue.record("an unknown key loads")
        } catch {
            #expect(error.message.hasPrefix("pasted:6: policy.rules[0].keep"), "\(error.message)")
        }
        // The environment is not read for pasted text: `${VAR}` takes its default or stays unset.
        let policy = try PolicyCatalog.parse("policy:\n  name: ${HOME:-fallback}\n  rules:\n    - purpose: payment\n      period: 5y\n")
        #expect(policy.name == "fallback")
    }
}
