import Foundation
import LetheConfig
import RetentionCore
import Testing

/// The opt-in rule keys: endsWithoutConsent, notice.quietHours, notice.decline.
struct OptInRuleConfigTests {
    static func policy(_ marketing: String) throws -> Policy {
        let yaml = """
            policy:
              name: t
              rules:
                - purpose: payment
                  period: 5y
                - purpose: marketing
                  period: 2y
            \(marketing)
            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("policy-\(UUID().uuidString).yaml")
        try Data(yaml.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try ConfigLoader(environment: [:]).loadPolicy(file: url)
    }

    @Test func theKeysDecode() throws {
        let policy = try Self.policy("""
                  endsWithoutConsent: marketing_consent
                  notice: {lead: 30d, template: t, requiresConsent: marketing_consent, quietHours: "21:00-08:00", decline: immediately}
            """)
        let rule = try #require(policy.rule(named: "marketing"))
        #expect(rule.endsWithoutConsent == "marketing_consent")
        #expect(rule.notice?.quietHours == QuietHours(start: 21 * 60, end: 8 * 60))
        #expect(rule.notice?.declineImmediately == true)
    }

    @Test func mistakesNameTheLineAndKey() throws {
        #expect(throws: ConfigError.self) {
            try Self.policy("      notice: {lead: 30d, template: t, quietHours: \"21-8\"}")
        }
        do {
            _ = try Self.policy("      notice: {lead: 30d, template: t, requiresConsent: marketing_consent, decline: immediately}")
            Issue.record("decline: immediately without endsWithoutConsent must be refused")
        } catch let error as ConfigError {
            #expect(error.code == "config.decline")
            #expect(error.location?.line != nil)
        }
    }
}

/// `reconfirm:` (정보통신망법 제50조 제8항) and the shipped example policy that switches it on.
struct ReconfirmConfigTests {
    @Test func theBlockDecodesWithItsDefaults() throws {
        let policy = try OptInRuleConfigTests.policy("""
                  basis: [created_at, consent_extended_at]
                  notice: {lead: 30d, template: t, requiresConsent: ad_consent}
                  reconfirm: {every: 2y, lead: 30d, template: marketing-reconfirm, confirmedAt: confirmed_at, quietHours: "21:00-08:00"}
            """)
        let reconfirm = try #require(policy.rule(named: "marketing")?.reconfirm)
        #expect(reconfirm.every == Period(years: 2))
        #expect(reconfirm.lead == Period(days: 30))
        #expect(reconfirm.consentField == "ad_consent", "the notice's consent field by default")
        #expect(reconfirm.basisFields(ruleBasis: ["created_at", "consent_extended_at"]) == ["created_at", "consent_extended_at", "confirmed_at"])
        #expect(reconfirm.quietHours == QuietHours(start: 21 * 60, end: 8 * 60))
        let plain = try OptInRuleConfigTests.policy("      reconfirm: {every: 2y, lead: 30d, template: r}")
        #expect(plain.rule(named: "marketing")?.reconfirm?.consentField == "marketing_consent", "else the policy's consent field")
    }

    @Test(arguments: [
        ("      reconfirm: {every: 30d, lead: 30d, template: r}", "config.reconfirm"),
        ("      reconfirm: {every: 2y, lead: 30d}", "config.missing"),
        ("      reconfirm: {every: 2y, lead: 30d, template: ../r}", "config.invalid_template"),
        ("      reconfirm: {every: 2y, lead: 30d, template: r, evrey: 1y}", "config.unknown_key"),
        ("      reconfirm: {every: 0d, lead: 30d, template: r}", "config.period"),
        ("      reconfirm: {every: 2y, lead: 30d, template: r, resultForSourceChanges: true}", "config.result_template"),
        ("      reconfirm: {every: 2y, lead: 30d, template: r, resultTemplate: x, resultForSourceChanges: maybe}", "config.type"),
    ])
    func mistakesNameTheLineAndKey(_ yaml: String, _ code: String) throws {
        do {
            _ = try OptInRuleConfigTests.policy(yaml)
            Issue.record("\(yaml) must be refused")
        } catch let error as ConfigError {
            #expect(error.code == code, "\(error)")
            #expect(error.location?.line == 8, "\(error)")
            #expect(error.key.contains("reconfirm"), "\(error)")
        }
    }

    @Test func theShippedExamplePolicyLoads() throws {
        let file = ShippedConfigTests.configFolder.appendingPathComponent("policies/kr-marketing-5y.yaml")
        let policy = try ConfigLoader(environment: [:]).loadPolicy(file: file)
        #expect(policy.name == "kr-marketing-5y")
        let marketing = try #require(policy.rule(named: "marketing"))
        #expect(marketing.period == Period(years: 5))
        #expect(marketing.endsWithoutConsent == "marketing_consent")
        #expect(marketing.notice?.resultTemplate == "consent-result")
        #expect(marketing.notice?.resultForSourceChanges == true)
        let reconfirm = try #require(marketing.reconfirm)
        #expect(reconfirm == {
            var rule = ReconfirmRule(every: Period(years: 2), lead: Period(days: 30), template: "marketing-reconfirm", consentField: "marketing_consent",
                                     basis: ["created_at", "consent_extended_at", "marketing_confirmed_at"], confirmedAtField: "marketing_confirmed_at")
            rule.resultTemplate = "marketing-reconfirm-result"
            return rule
        }())
        for template in ["marketing-reconfirm.ko.txt", "marketing-reconfirm.en.txt", "marketing-reconfirm.ko.html", "marketing-reconfirm.en.html",
                         "marketing-reconfirm-result.ko.txt", "marketing-reconfirm-result.en.txt", "consent-result.ko.txt"] {
            #expect(FileManager.default.fileExists(atPath: ShippedConfigTests.configFolder.appendingPathComponent("templates/\(template)").path), "\(template)")
        }
        #expect(try ConfigLoader(environment: [:]).loadPolicy(file: ShippedConfigTests.configFolder.appendingPathComponent("policies/kr-pipa.yaml")).rules
            .allSatisfy { $0.reconfirm == nil }, "kr-pipa stays as specified")
    }
}
