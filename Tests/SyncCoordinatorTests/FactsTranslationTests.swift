import Foundation
import RetentionCore
import RetentionTesting
import SyncCoordinator
import Testing

/// The facts the state keeps for one policy, read as another policy would have read them.
struct FactsTranslationTests {
    static let records: [SourceRecord] = [
        SourceRecord(id: "1", fields: ["created_at": "2024-01-05", "purpose": "payment;marketing", "marketing_consent": "Y", "interests": "books", "email": "a@example.org"]),
        SourceRecord(id: "2", fields: ["created_at": "2023-03-01", "purpose": "dispute", "marketing_consent": "N"]),
        SourceRecord(id: "3", fields: ["created_at": "2022-07-10", "purpose": "marketing", "consent_extended_at": "2024-07-01", "marketing_consent": "yes", "interests": ""]),
        SourceRecord(id: "4", fields: ["created_at": "", "purpose": "payment"]),
        SourceRecord(id: "5", fields: ["created_at": "2024-02-30", "purpose": "payment"]),
    ]

    /// Rules in another order, other periods, erased fields in another order, a rule dropped.
    static var reordered: Policy {
        var policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.period = Period(years: 5)
            rule.erase.reverse()
        }
        policy.rules.reverse()
        return policy
    }

    @Test func whenTheStateKeepsEveryInputTheTranslationIsWhatReadingTheRecordGives() {
        let current = Policy.krPIPA
        let translation = FactsTranslation(current: current, other: Self.reordered)
        #expect(translation.missing.isEmpty)
        for record in Self.records {
            let kept = current.facts(of: record, layout: translation.currentLayout)
            #expect(translation.translate(kept) == Self.reordered.facts(of: record, layout: translation.otherLayout), "record \(record.id)")
        }
    }

    @Test func aPurposeTheOtherPolicyHasNoRuleForQuarantinesTheRecord() {
        var other = Policy.krPIPA
        other.rules.removeAll { $0.name == "dispute" }
        let translation = FactsTranslation(current: .krPIPA, other: other)
        let dispute = translation.translate(Policy.krPIPA.facts(of: Self.records[1], layout: translation.currentLayout))
        #expect(dispute.quarantine?.code == "unknown_purpose")
        let payment = translation.translate(Policy.krPIPA.facts(of: Self.records[0], layout: translation.currentLayout))
        #expect(payment.quarantine == nil)
    }

    @Test func inputsTheStateDoesNotKeepAreNamedAndReadAsEmpty() {
        let other = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.basis.append("marketing_confirmed_at")
            rule.erase.append(ErasedField(field: "interests", value: "-"))
            rule.endsWithoutConsent = "sms_consent"
        }
        let translation = FactsTranslation(current: .krPIPA, other: other)
        #expect(translation.missing.map(\.field) == ["marketing_confirmed_at", "sms_consent", "interests"])
        #expect(translation.missing.map(\.kind) == ["date", "consent", "erasable"])
        #expect(translation.missing.allSatisfy { $0.neededFor.contains("'marketing'") })
        let record = SourceRecord(id: "1", fields: [
            "created_at": "2024-01-05", "purpose": "marketing", "marketing_confirmed_at": "2025-01-05", "sms_consent": "Y", "interests": "books",
        ])
        let translated = translation.translate(Policy.krPIPA.facts(of: record, layout: translation.currentLayout))
        let position = translation.otherLayout.dateIndex["marketing_confirmed_at"]!
        #expect(translated.dates[position] == nil)
        #expect(translated.consents & (1 << UInt64(translation.otherLayout.consentIndex["sms_consent"]!)) == 0)
    }
}
