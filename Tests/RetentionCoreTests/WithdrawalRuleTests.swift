import Foundation
import RetentionCore
import RetentionTesting
import Testing

/// The opt-in `endsWithoutConsent` rule: consent withdrawn before expiry ends the purpose at once.
struct WithdrawalRuleTests {
    static var policy: Policy {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.endsWithoutConsent = "marketing_consent"
        }
        return policy
    }

    static let now = date("2026-11-29T09:00:00+09:00")

    @Test func withdrawnConsentErasesTheMarketingFieldsNowAndTheSameOperationEveryRun() {
        let withdrawn = record(id: "w", created: "2026-01-10", purpose: "payment;marketing", consent: "N", interests: "golf")
        let first = Self.policy.evaluate(Self.policy.interpret(withdrawn, now: Self.now), previous: nil, held: false, now: Self.now)
        let erase = first.operations.filter { $0.kind == .eraseFields }
        #expect(erase.count == 1)
        #expect(erase.first?.cycle == date("2026-01-10"), "the expiry is the start of the period: stable across runs")
        let later = Self.now.addingTimeInterval(86_400)
        let second = Self.policy.evaluate(Self.policy.interpret(withdrawn, now: later), previous: nil, held: false, now: later)
        #expect(second.operations.filter { $0.kind == .eraseFields }.map(\.cycle) == erase.map(\.cycle))
    }

    @Test func marketingOnlyRecordsAreDeletedWhenConsentIsWithdrawn() {
        let withdrawn = record(id: "w", created: "2026-01-10", purpose: "marketing", consent: "N")
        let decision = Self.policy.evaluate(Self.policy.interpret(withdrawn, now: Self.now), previous: nil, held: false, now: Self.now)
        #expect(decision.operations.contains { $0.kind == .delete })
    }

    @Test func consentingRecordsAndTheShippedPolicyAreUnchanged() {
        let consenting = record(id: "c", created: "2026-01-10", purpose: "payment;marketing", consent: "Y")
        let decision = Self.policy.evaluate(Self.policy.interpret(consenting, now: Self.now), previous: nil, held: false, now: Self.now)
        #expect(decision.operations.isEmpty)
        let withdrawn = record(id: "w", created: "2026-01-10", purpose: "payment;marketing", consent: "N")
        let shipped = Policy.krPIPA.evaluate(Policy.krPIPA.interpret(withdrawn, now: Self.now), previous: nil, held: false, now: Self.now)
        #expect(shipped.operations.isEmpty, "kr-pipa keeps the opt-in rule off")
    }
}
