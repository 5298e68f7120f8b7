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
