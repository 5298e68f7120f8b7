import Foundation
import RetentionCore
import RetentionTesting
import Testing

/// `resultForSourceChanges`: a consent change made in the source (the CRM) is reported with the result
/// template (정보통신망법 제50조 제7항), once, and only while the purpose is running.
struct SourceConsentChangeTests {
    static var policy: Policy {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.notice?.resultTemplate = "consent-result"
            rule.notice?.resultForSourceChanges = true
        }
        return policy
    }

    static let now = date("2026-11-29T09:00:00+09:00")

    static func decide(_ record: SourceRecord, previous: LifecycleState?, policy: Policy = Self.policy, held: Bool = false, at now: Date = Self.now) -> Decision {
        policy.evaluate(policy.interpret(record, now: now), previous: previous, held: held, now: now)
    }

    static func results(_ decision: Decision) -> [PlannedOperation] {
        decision.operations.filter { Policy.noticeKind(fields: $0.fields) == .result }
    }

    @Test func aWithdrawalAndARenewedConsentInTheSourceAreEachReportedOnce() throws {
        let consenting = record(id: "c", created: "2025-06-01", purpose: "payment;marketing", consent: "Y", email: "c@example.com")
        let first = Self.decide(consenting, previous: nil)
        #expect(Self.results(first).isEmpty, "the first sighting is not a change")
        #expect(first.state.consentSeen == ["marketing_consent": true])

        var withdrawn = consenting
        withdrawn.fields["marketing_consent"] = "N"
        let second = Self.decide(withdrawn, previous: first.state)
        let result = try #require(Self.results(second).first)
        #expect(Self.results(second).count == 1)
        #expect(result.fields.contains(ErasedField(field: Policy.noticeDecisionField, value: "withdraw")))
        #expect(result.fields.contains(ErasedField(field: Policy.noticeTemplateField, value: "consent-result")))
        #expect(result.cycle == Self.now)
        #expect(Self.results(Self.decide(withdrawn, previous: second.state, at: Self.now.addingTimeInterval(86_400))).isEmpty, "once")

        let renewed = Self.decide(consenting, previous: second.state)
        #expect(Self.results(renewed).first?.fields.contains(ErasedField(field: Policy.noticeDecisionField, value: "consent")) == true)
    }

    @Test func heldExpiredAddresslessAndOptedOutRecordsGetNoResult() {
        let consenting = record(id: "c", created: "2025-06-01", purpose: "payment;marketing", consent: "Y", email: "c@example.com")
        let seen = Self.decide(consenting, previous: nil).state
        var withdrawn = consenting
        withdrawn.fields["marketing_consent"] = "N"
        let held = Self.decide(withdrawn, previous: seen, held: true)
        #expect(held.operations.isEmpty)
        #expect(held.state.consentSeen["marketing_consent"] == false, "a held record's change is absorbed, not reported later")

        let late = Self.now.addingTimeInterval(3 * 365 * 86_400)
        #expect(Self.results(Self.decide(withdrawn, previous: seen, at: late)).isEmpty, "the marketing purpose is over")

        var noAddress = withdrawn
        noAddress.fields["email"] = ""
        #expect(Self.results(Self.decide(noAddress, previous: seen)).isEmpty)

        #expect(Self.decide(withdrawn, previous: seen, policy: .krPIPA).operations.isEmpty, "off in kr-pipa")
        #expect(Self.decide(consenting, previous: nil, policy: .krPIPA).state.consentSeen.isEmpty, "and nothing is tracked")
    }
}
