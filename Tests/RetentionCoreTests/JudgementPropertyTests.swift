import Foundation
import PropertyBased
@testable import RetentionCore
import RetentionTesting
import Testing

/// `Policy.judge` decides plain new records from the compiled rules alone: it must give exactly what
/// the general path (`evaluate` of `interpret`, and `nextChange`) gives, for every record and time.
@Suite("Judgement properties")
struct JudgementPropertyTests {
    static let policies: [(name: String, policy: Policy)] = [
        ("kr-pipa", Policy.krPIPA),
        ("archive-then-delete", { var policy = Policy.krPIPA; policy.action = .archiveThenDelete; return policy }()),
        ("ends without consent", Policy.krPIPA.modifying(rule: "marketing") { $0.endsWithoutConsent = "marketing_consent" }),
        ("re-confirmation", Policy.krPIPA.modifying(rule: "marketing") { $0.reconfirm = ReconfirmRule(every: Period(years: 1), lead: Period(days: 30), template: "reconfirm", consentField: "marketing_consent") }),
    ]

    static func general(_ policy: Policy, _ facts: SourceFacts, layout: PolicyLayout, held: Bool, now: Date) -> Judgement {
        let interpretation = policy.interpret(facts, layout: layout, now: now)
        return Judgement(
            decision: policy.evaluate(interpretation, previous: nil, held: held, now: now),
            nextChange: policy.nextChange(facts, interpretation: interpretation, layout: layout, held: held, now: now))
    }

    @Test("judge gives the general path's decision and next change", arguments: policies.indices)
    func judgeIsTheGeneralPath(policyIndex: Int) async {
        let policy = Self.policies[policyIndex].policy
        let layout = PolicyLayout(policy)
        await propertyCheck(count: 400, input: Scenario.generator) { scenario in
            let facts = policy.facts(of: scenario.record, layout: layout)
            let judged = policy.judge(facts, layout: layout, previous: nil, held: scenario.held, now: scenario.now)
            #expect(judged == Self.general(policy, facts, layout: layout, held: scenario.held, now: scenario.now), "\(Self.policies[policyIndex].name): \(scenario)")
        }
    }

    @Test("plain records take the compiled path: running ones and due ones")
    func plainRecordsAreDecidedFromTheCompiledRules() throws {
        let policy = Policy.krPIPA
        let layout = PolicyLayout(policy)
        let now = date("2026-11-29T09:00:00+09:00")
        let running = policy.facts(of: record(id: "a", created: "2026-01-10", purpose: "payment;marketing", consent: "Y", email: "a@example.com"), layout: layout)
        let due = policy.facts(of: record(id: "b", created: "2019-01-10", purpose: "payment;dispute"), layout: layout)
        let noticed = policy.facts(of: record(id: "c", created: "2024-12-20", purpose: "marketing", consent: "Y", email: "c@example.com"), layout: layout)
        let plainRunning = try #require(policy.plainJudgement(running, layout: layout, now: now))
        #expect(plainRunning.decision.operations.isEmpty && plainRunning.decision.state.phase == .active)
        #expect(plainRunning.nextChange == date("2027-12-11T00:00:00+09:00"), "the marketing notice window 30 days before 2028-01-10")
        let plainDue = try #require(policy.plainJudgement(due, layout: layout, now: now))
        #expect(plainDue.decision.operations.map(\.kind) == [.delete])
        #expect(policy.plainJudgement(noticed, layout: layout, now: now) == nil, "a notice window is open: the general path")
        for facts in [running, due, noticed] {
            #expect(policy.judge(facts, layout: layout, previous: nil, held: false, now: now) == Self.general(policy, facts, layout: layout, held: false, now: now))
        }
    }
}
