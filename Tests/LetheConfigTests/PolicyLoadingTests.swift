import Foundation
import LetheConfig
import RetentionCore
import Testing

@Suite("Policy files")
struct PolicyLoadingTests {
    func loadPolicy(_ yaml: String) throws -> Policy {
        let fixture = try ConfigFixture(["p.yaml": yaml])
        defer { fixture.remove() }
        return try ConfigLoader(environment: [:]).loadPolicy(file: fixture.url("p.yaml"))
    }

    func policyError(_ yaml: String) throws -> ConfigError? {
        let fixture = try ConfigFixture(["p.yaml": yaml])
        defer { fixture.remove() }
        do {
            _ = try ConfigLoader(environment: [:]).loadPolicy(file: fixture.url("p.yaml"))
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultsApplyWhenKeysAreLeftOut() throws {
        let policy = try loadPolicy("policy:\n  name: minimal\n  rules:\n    - purpose: payment\n      period: 5y\n")
        #expect(
            policy
                == Policy(
                    name: "minimal", zone: TimeZone(identifier: "Asia/Seoul")!,
                    rules: [RetentionRule(name: "payment", period: Period(years: 5))]))
    }

    @Test func everyKeyIsRead() throws {
        let yaml = """
            policy:
              name: custom
              zone: Europe/Berlin
              destroyWithin: 2w
              action: archive-then-delete
              purposeSeparator: "|"
              fields: {createdAt: signup, purposes: uses, email: mail, name: full_name, consent: optin, locale: lang}
              rules:
                - purpose: newsletter
                  period: 1y6m
                  basis: [signup, renewed]
                  erase: {topics: none, optin: ~}
                  notice: {lead: 14d, template: renew}
                  legalBasis: consent
            """
        let policy = try loadPolicy(yaml)
        let expected = Policy(
            name: "custom", zone: TimeZone(identifier: "Europe/Berlin")!, destroyWithin: Period(days: 14),
            fields: PolicyFields(
                createdAt: "signup", purposes: "uses", email: "mail", name: "full_name", consent: "optin",
                locale: "lang"),
            purposeSeparator: "|",
            rules: [
                RetentionRule(
                    name: "newsletter", period: Period(years: 1, months: 6), basis: ["signup", "renewed"],
                    erase: [ErasedField(field: "topics", value: "none"), ErasedField(field: "optin", value: "")],
                    notice: NoticeRule(
                        lead: Period(days: 14), requiresConsentField: nil, template: "renew",
                        extension: Period(years: 1, months: 6)),
                    legalBasis: "consent"
                )
            ],
            action: .archiveThenDelete
        )
        #expect(policy == expected)
    }

    @Test func basisDefaultsToTheCollectionDateField() throws {
        let policy = try loadPolicy(
            "policy:\n  name: p\n  fields: {createdAt: joined}\n  rules:\n    - {purpose: payment, period: 5y}\n")
        #expect(policy.rules.first?.basis == ["joined"])
    }

    /// Each case: a rule body (or policy lines) that is wrong, the key and code expected, and the line.
    @Test(arguments: [
        ("  zone: Mars/Olympus\n", "policy.zone", "config.zone", 3),
        ("  destroyWithin: soon\n", "policy.destroyWithin", "config.period", 3),
        ("  action: shred\n", "policy.action", "config.choice", 3),
        ("  purposeSeparator: \"\"\n", "policy.purposeSeparator", "config.empty", 3),
        ("  colour: red\n", "policy.colour", "config.unknown_key", 3),
        ("  fields: {created: x}\n", "policy.fields.created", "config.unknown_key", 3),
    ])
    func policyLevelErrors(_ line: String, _ key: String, _ code: String, _ lineNumber: Int) throws {
        let yaml = "policy:\n  name: p\n" + line + "  rules:\n    - purpose: payment\n      period: 5y\n"
        let error = try #require(try policyError(yaml))
        #expect(error.code == code)
        #expect(error.key == key)
        #expect(error.location?.line == lineNumber)
        #expect(error.location?.file.hasSuffix("p.yaml") == true)
    }

    @Test(arguments: [
        ("period: 5y", "policy.rules[0].purpose", "config.missing"),
        ("purpose: \"\"\n      period: 5y", "policy.rules[0].purpose", "config.empty"),
        ("purpose: \"a;b\"\n      period: 5y", "policy.rules[0].purpose", "config.invalid_purpose"),
        ("purpose: payment", "policy.rules[0].period", "config.missing"),
        ("purpose: payment\n      period: 5 years", "policy.rules[0].period", "config.period"),
        ("purpose: payment\n      period: 0d", "policy.rules[0].period", "config.period"),
        ("purpose: payment\n      period: 5y\n      basis: []", "policy.rules[0].basis", "config.empty"),
        ("purpose: payment\n      period: 5y\n      basis: created_at", "policy.rules[0].basis", "config.type"),
        ("purpose: payment\n      period: 5y\n      erase: [interests]", "policy.rules[0].erase", "config.type"),
        ("purpose: payment\n      period: 5y\n      match: x", "policy.rules[0].match", "config.unknown_key"),
        ("purpose: m\n      period: 2y\n      notice: {template: t}", "policy.rules[0].notice.lead", "config.missing"),
        (
            "purpose: m\n      period: 2y\n      notice: {lead: 30d}", "policy.rules[0].notice.template",
            "config.missing"
        ),
        (
            "purpose: m\n      period: 2y\n      notice: {lead: 0d, template: t}", "policy.rules[0].notice.lead",
            "config.period"
        ),
        (
            "purpose: m\n      period: 2y\n      notice: {lead: 30d, template: ../x}",
            "policy.rules[0].notice.template", "config.invalid_template"
        ),
        (
            "purpose: m\n      period: 2y\n      notice: {lead: 30d, template: t, extension: forever}",
            "policy.rules[0].notice.extension", "config.period"
        ),
        (
            "purpose: m\n      period: 2y\n      notice: {lead: 30d, template: t, requiresConsent: \"\"}",
            "policy.rules[0].notice.requiresConsent", "config.empty"
        ),
        (
            "purpose: m\n      period: 2y\n      notice: {lead: 30d, template: t, channel: sms}",
            "policy.rules[0].notice.channel", "config.unknown_key"
        ),
    ])
    func ruleErrors(_ body: String, _ key: String, _ code: String) throws {
        let yaml = "policy:\n  name: p\n  rules:\n    - " + body + "\n"
        let error = try #require(try policyError(yaml))
        #expect(error.code == code)
        #expect(error.key == key)
        #expect((error.location?.line ?? 0) >= 4)
    }

    @Test func duplicatePurposesAreRejected() throws {
        let yaml =
            "policy:\n  name: p\n  rules:\n    - {purpose: payment, period: 5y}\n    - {purpose: payment, period: 3y}\n"
        let error = try #require(try policyError(yaml))
        #expect(error.code == "config.duplicate_purpose")
        #expect(error.key == "policy.rules[1].purpose")
        #expect(error.location?.line == 5)
        #expect(error.problem.contains("p.yaml:4"))
    }

    @Test(arguments: [
        ("policy:\n  name: p\n  rules: []\n", "policy.rules", "config.empty"),
        ("policy:\n  name: p\n", "policy.rules", "config.missing"),
        ("policy:\n  rules: [{purpose: a, period: 1y}]\n", "policy.name", "config.missing"),
        ("name: p\n", "name", "config.unknown_key"),
        ("policies: []\npolicy: {name: p, rules: [{purpose: a, period: 1y}]}\n", "policies", "config.unknown_key"),
    ])
    func fileLevelErrors(_ yaml: String, _ key: String, _ code: String) throws {
        let error = try #require(try policyError(yaml))
        #expect(error.code == code)
        #expect(error.key == key)
    }

    @Test func policyErrorsSurfaceThroughTheMainConfig() throws {
        let fixture = try ConfigFixture([
            "lethe.yaml": ConfigFixture.minimalConfig,
            "policies/test.yaml": "policy:\n  name: test\n  rules:\n    - purpose: payment\n      period: five years\n",
        ])
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.period")
        #expect(error.location?.file == fixture.url("policies/test.yaml").path)
        #expect(error.location?.line == 5)
        #expect(error.message.contains("policy.rules[0].period"))
        let all = ConfigLoader(environment: [:]).diagnose(file: fixture.url(), registry: FakeConnectors.registry)
        #expect(all.map(\.code) == ["config.period"], "no cascading unknown_policy error")
    }
}
