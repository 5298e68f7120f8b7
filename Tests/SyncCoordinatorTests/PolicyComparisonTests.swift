import Foundation
import RetentionCore
import RetentionTesting
import SyncCoordinator
import Testing

/// One record's outcome under the current policy and another, within a horizon.
struct PolicyComparisonTests {
    static let now = ISO8601DateFormatter().date(from: "2026-11-29T00:00:00Z")!

    static func change(
        _ fields: [String: String], current: Policy = .krPIPA, other: Policy, horizon: Period = Period(days: 90)
    ) -> PolicyComparison.RecordChange {
        let comparison = PolicyComparison(current: current, other: other, now: now, horizon: horizon)
        let facts = current.facts(of: SourceRecord(id: "1", fields: fields), layout: comparison.translation.currentLayout)
        return comparison.change(facts: facts, previous: nil, held: false)
    }

    static let dispute = ["created_at": "2024-01-10", "purpose": "dispute"]
    static let marketing = [
        "created_at": "2025-01-20", "purpose": "payment;marketing", "marketing_consent": "Y", "interests": "books", "email": "a@example.org",
    ]

    @Test func deletionsSoonerLaterNewAndNever() {
        let sooner = Self.change(Self.dispute, other: Policy.krPIPA.modifying(rule: "dispute") { $0.period = Period(years: 2) })
        #expect(sooner.change == .deletedSooner)
        #expect(sooner.other == Self.now, "2 years are over already: deleted now")
        #expect(sooner.days == 41, "instead of 2027-01-10")
        let later = Self.change(Self.dispute, other: Policy.krPIPA.modifying(rule: "dispute") { $0.period = Period(years: 4) })
        #expect(later.change == .deletedLater)
        #expect(later.days == 365, "2027-01-10 to 2028-01-10")
        var withoutDispute = Policy.krPIPA
        withoutDispute.rules.removeAll { $0.name == "dispute" }
        #expect(Self.change(Self.dispute, other: withoutDispute).change == .noLongerDeleted, "an unknown purpose quarantines")
        let forever = Policy.krPIPA.modifying(rule: "dispute") { $0.period = Period(years: 500) }
        #expect(Self.change(Self.dispute, current: forever, other: .krPIPA).change == .newlyDeleted)
        let beyond = Self.change(Self.dispute, other: Policy.krPIPA.modifying(rule: "dispute") { $0.period = Period(years: 4) }, horizon: Period(days: 30))
        #expect(beyond.change == .same, "both deletions after the horizon")
    }

    @Test func erasuresAndNoticesWithinTheHorizon() {
        // marketing expires 2027-01-20: its notice goes out 30 days before, its fields are erased then.
        let fewer = Policy.krPIPA.modifying(rule: "marketing") { $0.erase.removeAll { $0.field == "marketing_consent" } }
        let erasure = Self.change(Self.marketing, other: fewer)
        #expect(erasure.change == .erasureDiffers)
        #expect(erasure.detail == "interests, marketing_consent -> interests")
        let earlier = Policy.krPIPA.modifying(rule: "marketing") { $0.notice?.lead = Period(days: 45) }
        let notice = Self.change(Self.marketing, other: earlier)
        #expect(notice.change == .noticeDiffers)
        #expect(notice.other! < notice.current!)
        #expect(Self.change(Self.marketing, other: .krPIPA).change == .same)
    }
}
