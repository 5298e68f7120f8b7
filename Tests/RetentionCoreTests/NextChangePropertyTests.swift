import Foundation
import PropertyBased
import RetentionCore
import RetentionTesting
import Testing

/// The state keeps, per record, the next instant its evaluation may change (`Policy.nextChange`), and
/// a sync re-evaluates an unchanged record only then: so that instant must never be late.
@Suite("Next change properties")
struct NextChangePropertyTests {
    static let policy = Policy.krPIPA

    /// The operations decided at an instant between now and the next change (`fraction` of the way,
    /// in thousandths) that the decision at now did not take; for a record with no next change, those
    /// decided ten years later.
    static func missed(_ scenario: Scenario, fraction: Int) -> [PlannedOperation] {
        let layout = PolicyLayout(policy)
        let facts = policy.facts(of: scenario.record, layout: layout)
        let now = scenario.now
        let decided = policy.evaluate(policy.interpret(facts, layout: layout, now: now), previous: nil, held: scenario.held, now: now)
        let instant: Date
        if let next = policy.nextChange(facts, layout: layout, held: scenario.held, now: now) {
            guard next > now else { return [PlannedOperation(kind: .notify, rule: "next change not after now", cycle: next)] }
            instant = now.addingTimeInterval(next.timeIntervalSince(now) * Double(fraction) / 1000)
            guard instant < next else { return [] }
        } else {
            instant = now.addingTimeInterval(3650 * 86_400)
        }
        let later = policy.evaluate(policy.interpret(facts, layout: layout, now: instant), previous: decided.state, held: scenario.held, now: instant)
        return later.operations.filter { !decided.operations.contains($0) }
    }

    @Test("between now and the next change, the decision is the one taken now")
    func noChangeIsMissed() async {
        await propertyCheck(count: 300, input: Scenario.generator, Gen.int(in: 1...999)) { scenario, fraction in
            let missed = Self.missed(scenario, fraction: fraction)
            #expect(missed.isEmpty, "\(scenario) at \(fraction)‰ of the way to its next change")
        }
    }
}
