import RetentionTesting
import Foundation
import RetentionCore
import Testing
import WebhookIntake

struct WebhookConfigTests {
    static func configError(_ yaml: TestYAML) -> ConfigError? {
        #expect(throws: ConfigError.self) { try WebhookConfiguration(config: yaml.node(file: "lethe.yaml", keyPath: "webhook")) }
    }

    @Test func hubspotV3WithDefaults() throws {
        let config = try WebhookConfiguration(config: TestYAML(dictionaryLiteral: ("scheme", "hubspot-v3"), ("secret", "s")).node(keyPath: "webhook"))
        #expect(config.authentication.schemeName == "hubspot-v3")
        #expect(config.events.formatName == "hubspot")
        let delivery = HubSpotSignatureTests.v3Request()
        let yaml: TestYAML = ["scheme": "hubspot-v3", "secret": .scalar(hubspotDocSecret), "maxAge": "1m"]
        let verifier = try WebhookAuthentication(config: yaml.node(keyPath: "webhook"))
        #expect(verifier.verify(delivery, now: date(ms: 1_564_113_600_000 + 59_000)) == .accepted)
        #expect(verifier.verify(delivery, now: date(ms: 1_564_113_600_000 + 61_000)) == .rejected(.staleTimestamp))
    }

    @Test func everySchemeDecodes() throws {
        let cases: [(TestYAML, String)] = [
            (["scheme": "hubspot-v2", "secret": "s"], "hubspot-v2"),
            (["scheme": "hubspot-v1", "secret": "s"], "hubspot-v1"),
            (["scheme": "hmac-sha256", "secret": "s", "header": "X-Sig", "encoding": "base64", "prefix": "sha256=",
              "timestampHeader": "X-Ts", "timestampUnit": "milliseconds", "maxAge": "90s", "format": "generic", "id": "id"],
             "hmac-sha256"),
            (["scheme": "shared-secret", "secret": "s", "header": "X-Token", "format": "generic", "id": "id"], "shared-secret"),
            (["scheme": "basic", "username": "u", "password": "p", "format": "pipedrive", "object": "person"], "basic"),
        ]
        for (yaml, name) in cases {
            #expect(try WebhookConfiguration(config: yaml.node(keyPath: "webhook")).authentication.schemeName == name)
        }
    }

    @Test func configuredGenericHMACVerifies() throws {
        let yaml: TestYAML = [
            "scheme": "hmac-sha256", "secret": "generic-secret", "header": "X-Signature", "encoding": "base64",
            "timestampHeader": "X-Timestamp", "maxAge": "300",
        ]
        let auth = try WebhookAuthentication(config: yaml.node(keyPath: "webhook"))
        let delivery = request(
            headers: [("X-Signature", GenericSchemeTests.base64OfTimestamped), ("X-Timestamp", "1700000000")],
            body: GenericSchemeTests.body)
        #expect(auth.verify(delivery, now: GenericSchemeTests.now) == .accepted)
    }

    @Test func unknownKeyNamesItsLine() throws {
        let error = try #require(Self.configError(["scheme": "hubspot-v3", "secret": "s", "sekret": "x"]))
        #expect(error.code == "config.unknown_key")
        #expect(error.location == SourceLocation(file: "lethe.yaml", line: 4))
        #expect(error.key == "webhook.sekret")
        #expect(error.message.hasPrefix("lethe.yaml:4: webhook.sekret: unknown key"))
    }

    @Test func missingSchemeAndUnknownScheme() throws {
        let missing = try #require(Self.configError(["secret": "s"]))
        #expect(missing.code == "config.missing")
        #expect(missing.key == "webhook.scheme")
        #expect(missing.location?.line == 1)
        let unknown = try #require(Self.configError(["secret": "s", "scheme": "hubspot-v4"]))
        #expect(unknown.code == "config.invalid")
        #expect(unknown.location?.line == 3)
        #expect(unknown.message.contains("hubspot-v3"))
    }

    @Test func keyOfAnotherSchemeIsRejected() throws {
        let error = try #require(Self.configError(["scheme": "basic", "username": "u", "password": "p", "header": "X"]))
        #expect(error.code == "config.unused_key")
        #expect(error.location?.line == 5)
        #expect(error.key == "webhook.header")
    }

    @Test func secretsNeverAppearInErrors() throws {
        let empty = try #require(Self.configError(["scheme": "shared-secret", "header": "X-Token", "secret": ""]))
        #expect(empty.code == "config.empty_secret")
        #expect(empty.location?.line == 4)
        let unset = try #require(Self.configError(["scheme": "hubspot-v3", "secret": .unresolved("HUBSPOT_WEBHOOK_SECRET")]))
        #expect(unset.code == "config.unset_variable")
        #expect(unset.message.contains("HUBSPOT_WEBHOOK_SECRET"))
        // A real secret next to a bad key: the error names the key, not the secret.
        let other = try #require(Self.configError(["scheme": "hubspot-v3", "secret": "hunter2-very-secret", "maxAge": "soon"]))
        #expect(other.location?.line == 4)
        #expect(!other.message.contains("hunter2"))
        let basic = try #require(Self.configError(["scheme": "basic", "username": "u"]))
        #expect(basic.key == "webhook.password")
    }

    @Test(arguments: ["0", "2d", "90000", "-5", "5 min", "m"])
    func badMaxAge(text: String) throws {
        let error = try #require(Self.configError(["scheme": "hubspot-v3", "secret": "s", "maxAge": .scalar(text)]))
        #expect(error.code == "config.invalid")
        #expect(error.key == "webhook.maxAge")
        #expect(error.location?.line == 4)
    }

    @Test func hmacOptionsAreChecked() throws {
        let noHeader = try #require(Self.configError(["scheme": "hmac-sha256", "secret": "s", "format": "generic", "id": "id"]))
        #expect(noHeader.key == "webhook.header")
        let encoding = try #require(Self.configError(["scheme": "hmac-sha256", "secret": "s", "header": "X", "encoding": "b64"]))
        #expect(encoding.code == "config.invalid")
        #expect(encoding.location?.line == 5)
        let orphan = try #require(Self.configError(["scheme": "hmac-sha256", "secret": "s", "header": "X", "maxAge": "60"]))
        #expect(orphan.code == "config.unused_key")
        #expect(orphan.key == "webhook.maxAge")
    }

    @Test func formatIsRequiredOutsideHubSpot() throws {
        let error = try #require(Self.configError(["scheme": "basic", "username": "u", "password": "p"]))
        #expect(error.code == "config.missing")
        #expect(error.key == "webhook.format")
    }

    @Test func genericMappingErrors() throws {
        let noID = try #require(Self.configError(["scheme": "shared-secret", "header": "X", "secret": "s", "format": "generic"]))
        #expect(noID.key == "webhook.id")
        let badPath = try #require(Self.configError([
            "scheme": "shared-secret", "header": "X", "secret": "s", "format": "generic", "id": "a..b",
        ]))
        #expect(badPath.code == "config.path")
        #expect(badPath.location?.line == 6)
        let deletedWithoutType = try #require(Self.configError([
            "scheme": "shared-secret", "header": "X", "secret": "s", "format": "generic", "id": "id",
            "deleted": ["gone"],
        ]))
        #expect(deletedWithoutType.key == "webhook.deleted")
        #expect(deletedWithoutType.location?.line == 7)
        let wrongFormatKey = try #require(Self.configError([
            "scheme": "hubspot-v3", "secret": "s", "format": "hubspot", "id": "id",
        ]))
        #expect(wrongFormatKey.code == "config.unused_key")
        #expect(wrongFormatKey.location?.line == 5)
        let badFormat = try #require(Self.configError(["scheme": "hubspot-v3", "secret": "s", "format": "salesforce"]))
        #expect(badFormat.code == "config.invalid")
        #expect(badFormat.location?.line == 4)
    }
}
