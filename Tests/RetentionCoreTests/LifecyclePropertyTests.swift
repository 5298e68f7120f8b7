import Foundation
import PropertyBased
import RetentionCore
import RetentionTesting
import Testing

/// The guarantees `Policy.evaluate` documents, checked on generated records.
@Suite("Lifecycle properties")
struct LifecyclePropertyTests {
    let policy = Policy.krPIPA
    static let cases = 300

    func decide(_ scenario: Scenario, record: SourceRecord? = nil, now: Date? = nil, previous: LifecycleState? = nil, held: Bool? = nil) -> Decision {
        let now = now ?? scenario.now
        return policy.evaluate(
            policy.interpret(record ?? scenario.record, now: now),
            previous: previous,
            held: held ?? scenario.held,
            now: now
        )
    }

    @Test("no delete unless now ≥ every matching rule's expiry; and always one then")
    func noEarlyDelete() async {
        await propertyCheck(count: Self.cases, input: Scenario.generator) { scenario in
            let decision = decide(scenario, held: false)
            let expiries = scenario.expectedExpiries
            let allExpired = expiries.values.allSatisfy { scenario.now >= $0 }
            let deletes = decision.operations.filter { $0.kind == .delete }
            #expect(deletes.isEmpty == !allExpired, "\(scenario)")
            if let delete = deletes.first {
                #expect(delete.cycle == expiries.values.max(), "\(scenario)")
            }
            #expect(decision.state.finalExpiry == expiries.values.max(), "\(scenario)")
        }
    }

    /// The defects a generated record can be given; 0 is none.
    static func damaged(_ record: SourceRecord, defect: Int, now: Date) -> SourceRecord {
        var record = record
        switch defect {
        case 1: record.id = ""
        case 2: record.fields["created_at"] = nil
        case 3: record.fields["created_at"] = ["2023-02-30", "2023-13-01", "01/02/2023", "2023-01-01T10:00"][record.id.count % 4]
        case 4: record.fields["created_at"] = Scenario.text(now.addingTimeInterval(1 + Double(record.id.count) * 3600), form: 0)
        case 5: record.fields["consent_extended_at"] = "2024-02-30"
        case 6: record.fields["purpose"] = " ; "
        case 7: record.fields["purpose"] = "payment;Marketing"
        case 8: record.defect = "wrong column count"
        default: break
        }
        return record
    }

    @Test("quarantined and held records never produce an operation")
    func quarantinedAndHeldAreInert() async {
        await propertyCheck(count: Self.cases, input: Scenario.generator, Gen.int(in: 0...8)) { scenario, defect in
            let record = Self.damaged(scenario.record, defect: defect, now: scenario.now)
            let interpretation = policy.interpret(record, now: scenario.now)
            if defect != 0 {
                guard case .quarantined = interpretation else {
                    Issue.record("defect \(defect) was not quarantined: \(scenario)")
                    return
                }
            }
            let previous = LifecycleState(phase: .active, rules: ["marketing": RuleProgress(stage: .active, expiry: scenario.now)])
            for prior in [nil, previous] {
                let decision = policy.evaluate(interpretation, previous: prior, held: scenario.held, now: scenario.now)
                if defect != 0 {
                    #expect(decision.operations.isEmpty, "\(scenario) defect \(defect)")
                    #expect(decision.state.phase == .quarantined)
                    #expect(decision.quarantine != nil)
                } else if scenario.held {
                    #expect(decision.operations.isEmpty, "\(scenario)")
                    #expect(decision.state.phase == .held)
                }
            }
        }
    }

    @Test("adding or moving later a consent_extended_at never shortens any expiry")
    func extensionNeverShortens() async {
        await propertyCheck(count: Self.cases, input: Scenario.generator, Gen.int(in: 0...(3 * Scenario.year))) { scenario, delay in
            var later = scenario
            later.extensionOffset = max(scenario.extensionOffset, 0) + delay
            let farFuture = date("2100-01-01")
            guard case .valid(let before) = policy.interpret(scenario.record, now: farFuture),
                case .valid(let after) = policy.interpret(later.record, now: farFuture)
            else {
                Issue.record("generated records must be valid: \(scenario)")
                return
            }
            #expect(Set(before.expiries.keys) == Set(after.expiries.keys))
            for (rule, expiry) in before.expiries {
                #expect(after.expiries[rule].map { $0 >= expiry } == true, "\(rule) shortened: \(scenario) delay \(delay)")
            }
            #expect(after.finalExpiry >= before.finalExpiry)
            // So nothing is deleted earlier because of an extension.
            let deletesLater = decide(later, held: false).operations.contains { $0.kind == .delete }
            let deletesBefore = decide(scenario, held: false).operations.contains { $0.kind == .delete }
            #expect(!deletesLater || deletesBefore, "\(scenario) delay \(delay)")
        }
    }

    @Test("evaluate is deterministic; re-evaluating with its state never notices the same cycle twice")
    func deterministicAndNoticedOnce() async {
        let window = 30 * 86_400
        let notices = Counter()
        // `lead` ≥ 0 moves "now" to that many seconds before the marketing expiry, so notice windows
        // are exercised often; -1 keeps the scenario's own "now".
        let input = zip(Scenario.generator, Gen.int(in: -1...(40 * 86_400)), Gen.int(in: 0...window))
        await propertyCheck(count: Self.cases, input: input) { generated, lead, step in
            var scenario = generated
            if lead >= 0, let expiry = scenario.expectedExpiries["marketing"] {
                scenario.nowOffset = max(0, Int(expiry.timeIntervalSince(scenario.created)) - lead)
            }
            let first = decide(scenario)
            #expect(decide(scenario) == first, "\(scenario)")
            let noticed = Set(first.operations.filter { $0.kind == .notify }.map { "\($0.rule)@\($0.cycle)" })
            #expect(noticed.count <= 1)
            notices.add(noticed.count)
            for later in [scenario.now, scenario.now.addingTimeInterval(Double(step))] {
                let second = decide(scenario, now: later, previous: first.state)
                let again = second.operations.filter { $0.kind == .notify }.map { "\($0.rule)@\($0.cycle)" }
                #expect(noticed.isDisjoint(with: again), "\(scenario) +\(step)s")
            }
        }
        // The generator must reach the interesting case, or the property proves nothing.
        #expect(notices.value >= 3)
    }
}

/// Counts across property-check iterations.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ amount: Int) { lock.withLock { total += amount } }
    var value: Int { lock.withLock { total } }
}
