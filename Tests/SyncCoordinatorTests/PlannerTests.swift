import Foundation
import RetentionCore
import RetentionTesting
import SyncCoordinator
import Testing

/// `lethe plan` / `GET /api/plan`: what falls due within the horizon, re-confirmations included.
struct PlannerTests {
    static var policy: Policy {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.period = Period(years: 5)
            rule.reconfirm = ReconfirmRule(every: Period(years: 2), lead: Period(days: 30), template: "marketing-reconfirm", consentField: "marketing_consent")
        }
        return policy
    }

    @Test func aReconfirmationDueWithinTheHorizonIsListedOnceAtItsWindow() {
        let contact = record(id: "m", created: "2025-01-20", purpose: "marketing", consent: "Y", email: "m@example.com")
        let planner = Planner(policy: Self.policy, now: date("2026-11-29T09:00:00+09:00"), horizon: Period(days: 90))
        let events = planner.events(for: contact, connector: "c", reference: "r", previous: nil, held: false)
        #expect(events.map(\.kind) == ["reconfirm"])
        #expect(events.first?.date == date("2027-01-20").addingTimeInterval(-30 * 86_400))
        // Outside the horizon, already noticed, or without consent: nothing.
        let short = Planner(policy: Self.policy, now: date("2026-11-29T09:00:00+09:00"), horizon: Period(days: 10))
        #expect(short.events(for: contact, connector: "c", reference: "r", previous: nil, held: false).isEmpty)
        let noticed = LifecycleState(phase: .active, rules: ["marketing": RuleProgress(stage: .active, expiry: date("2030-01-20"), reconfirmedFor: date("2027-01-20"))])
        #expect(planner.events(for: contact, connector: "c", reference: "r", previous: noticed, held: false).isEmpty)
        var refused = contact
        refused.fields["marketing_consent"] = "N"
        #expect(planner.events(for: refused, connector: "c", reference: "r", previous: nil, held: false).isEmpty)
        #expect(Planner(policy: .krPIPA, now: date("2026-11-29T09:00:00+09:00"), horizon: Period(days: 90))
            .events(for: contact, connector: "c", reference: "r", previous: nil, held: false).map(\.kind) == ["notify", "delete"], "kr-pipa: its extension notice, then its expiry (in date order), no re-confirmation")
    }
}
