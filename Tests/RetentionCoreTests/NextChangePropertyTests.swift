import Foundation
import PropertyBased
import RetentionCore
import RetentionTesting
import Testing

/// The state keeps, per record, the next instant its evaluation may change (`Policy.nextChange`), and
/// a sync re-evaluates an unchanged record only then: so that instant must never be late.
@Suite("Next change properties")
struct NextChangePropertyTests {
    let policy = Policy.krPIPA

    @Test("between now and the next change, the decision is the one taken now")
    func noChangeIsMissed() async {
        await propertyCheck(count: 300, input: Scenario.generator, Gen.int(in: 1...999)) { scenario, fraction in
            let layout = PolicyLayout(policy)
            let facts = policy.facts(of: scenario.record, layout: layout)
            let now = scenario.now
            let first = policy.evaluate(policy.interpret(facts, layout: layout, now: now), previous: nil, held: scenario.held, now: now)
            guard let next = policy.nextChange(facts, layout: layout, held: scenario.held, now: now) else {
                // Nothing time-based left: ten years later nothing new is decided either.
                let later = now.addingTimeInterval(3650 * 86_400)
                let again = policy.evaluate(policy.interpret(facts, layout: layout, now: later), previous: first.state, held: scenario.held, now: later)
                #expect(again.operations.allSatisfy { first.operations.contains($0) }, "\(scenario)")
                return
            }
            #expect(next > now)
            // Any instant before the next change decides what the first evaluation already decided.
            let instant = now.addingTimeInterval(next.timeIntervalSince(now) * Double(fraction) / 1000)
            guard instant < next else { return }
            let during = policy.evaluate(policy.interpret(facts, layout: layout, now: instant), previous: first.state, held: scenario.held, now: instant)
            let fresh = during.operations.filter { operation in !first.operations.contains(operation) }
            #expect(fresh.isEmpty, "a decision at \(instant) before the next change \(next): \(fresh) — \(scenario)")
        }
    }
}
