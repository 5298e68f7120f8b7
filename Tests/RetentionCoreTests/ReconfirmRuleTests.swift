import Foundation
import PropertyBased
import RetentionCore
import RetentionTesting
import Testing

/// The opt-in `reconfirm` rule (정보통신망법 제50조 제8항): a notice every 2 years from the consent date,
/// once per cycle, never a delete.
struct ReconfirmRuleTests {
    /// kr-pipa with marketing kept `years` and re-confirmed every 2 years, 30 days ahead.
    static func policy(marketingYears: Int = 5, confirmedAt: String? = "marketing_confirmed_at") -> Policy {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.period = Period(years: marketingYears)
            rule.notice?.extensionPeriod = Period(years: marketingYears)
            rule.reconfirm = ReconfirmRule(
                every: Period(years: 2), lead: Period(days: 30), template: "marketing-reconfirm", consentField: "marketing_consent",
                confirmedAtField: confirmedAt)
        }
        return policy
    }

    static func decide(_ policy: Policy, _ record: SourceRecord, now: String, previous: LifecycleState? = nil, held: Bool = false) -> Decision {
        let instant = date(now)
        return policy.evaluate(policy.interpret(record, now: instant), previous: previous, held: held, now: instant)
    }

    static func reconfirmations(_ decision: Decision) -> [PlannedOperation] {
        decision.operations.filter { $0.kind == .notify && Policy.noticeKind(fields: $0.fields) == .reconfirm }
    }

    static let consenting = record(id: "m", created: "2024-12-20", purpose: "marketing", consent: "Y", email: "m@example.com")

    @Test func oneNoticePerCycleThirtyDaysBeforeEachTwoYearMark() throws {
        let policy = Self.policy()
        #expect(Self.reconfirmations(Self.decide(policy, Self.consenting, now: "2026-11-19T09:00:00+09:00")).isEmpty, "before the window")
        let first = Self.decide(policy, Self.consenting, now: "2026-11-29T09:00:00+09:00")
        let notice = try #require(Self.reconfirmations(first).first)
        #expect(Self.reconfirmations(first).count == 1)
        #expect(notice.cycle == date("2026-12-20"))
        #expect(notice.fields.contains(ErasedField(field: Policy.noticeTemplateField, value: "marketing-reconfirm")))
        #expect(first.state.rules["marketing"]?.reconfirmedFor == date("2026-12-20"))
        #expect(!first.operations.contains { $0.kind == .delete || $0.kind == .eraseFields }, "a re-confirmation never deletes")

        let again = Self.decide(policy, Self.consenting, now: "2026-12-25T09:00:00+09:00", previous: first.state)
        #expect(Self.reconfirmations(again).isEmpty, "the same cycle is asked once")
        #expect(again.state.rules["marketing"]?.reconfirmedFor == date("2026-12-20"), "the mark is carried forward")

        // No answer keeps the consent: two years later the next cycle is asked.
        let next = Self.decide(policy, Self.consenting, now: "2028-11-25T09:00:00+09:00", previous: again.state)
        #expect(Self.reconfirmations(next).map(\.cycle) == [date("2028-12-20")])
    }

    @Test func onlyConsentingRecordsWithAnAddressAreAskedAndHeldOnesNever() {
        let policy = Self.policy()
        let refused = record(id: "n", created: "2024-12-20", purpose: "marketing", consent: "N", email: "n@example.com")
        #expect(Self.reconfirmations(Self.decide(policy, refused, now: "2026-11-29T09:00:00+09:00")).isEmpty)
        let noAddress = record(id: "e", created: "2024-12-20", purpose: "marketing", consent: "Y", email: nil)
        #expect(Self.reconfirmations(Self.decide(policy, noAddress, now: "2026-11-29T09:00:00+09:00")).isEmpty)
        let held = Self.decide(policy, Self.consenting, now: "2026-11-29T09:00:00+09:00", held: true)
        #expect(held.operations.isEmpty)
        #expect(Self.reconfirmations(Self.decide(.krPIPA, Self.consenting, now: "2026-11-29T09:00:00+09:00")).isEmpty, "off in kr-pipa")
    }

    @Test func anOldRecordGetsOneNoticeForTheCurrentCycleNotOnePerMissedCycle() {
        let old = record(id: "o", created: "2022-03-01", purpose: "payment;marketing", consent: "Y", email: "o@example.com")
        let decision = Self.decide(Self.policy(), old, now: "2026-11-29T09:00:00+09:00")
        #expect(Self.reconfirmations(decision).map(\.cycle) == [date("2026-03-01")])
    }

    @Test func aKeptConsentRestartsTheCountFromTheConfirmationDate() {
        var kept = Self.consenting
        kept.fields["marketing_confirmed_at"] = "2026-12-01T10:00:00+09:00"
        let policy = Self.policy()
        #expect(Self.reconfirmations(Self.decide(policy, kept, now: "2026-12-02T09:00:00+09:00")).isEmpty)
        #expect(Self.reconfirmations(Self.decide(policy, kept, now: "2028-11-02T09:00:00+09:00")).map(\.cycle) == [date("2028-12-01T10:00:00+09:00")])
    }

    @Test func aCycleInTheExtensionNoticeWindowIsLeftToThatNotice() {
        // Marketing 4 years: the second cycle falls on the expiry, whose extension notice asks the same question.
        let policy = Self.policy(marketingYears: 4)
        let created = record(id: "c", created: "2022-12-20", purpose: "marketing", consent: "Y", email: "c@example.com")
        let decision = Self.decide(policy, created, now: "2026-11-29T09:00:00+09:00")
        #expect(Self.reconfirmations(decision).isEmpty)
        #expect(decision.operations.filter { $0.kind == .notify }.map(\.cycle) == [date("2026-12-20")], "only the extension notice")
    }

    @Test func aBadConfirmationDateQuarantinesLikeAnyBasisDate() {
        var bad = Self.consenting
        bad.fields["marketing_confirmed_at"] = "2026-13-45"
        let decision = Self.decide(Self.policy(), bad, now: "2026-11-29T09:00:00+09:00")
        #expect(decision.state.phase == .quarantined)
        #expect(decision.operations.isEmpty)
    }

    @Test func dueCycleWalksCalendarMonthsExactly() {
        let zone = TimeZone(identifier: "Asia/Seoul")!
        let monthly = ReconfirmRule(every: Period(months: 1), lead: Period(days: 1), template: "t", consentField: "c")
        let base = date("2024-01-31")
        #expect(monthly.dueCycle(from: base, now: date("2024-02-27T00:00:00+09:00"), zone: zone) == nil)
        #expect(monthly.dueCycle(from: base, now: date("2024-02-28T00:00:00+09:00"), zone: zone) == date("2024-02-29"))
        // 30 years of months later: the 360th cycle, clamped like the period arithmetic.
        #expect(monthly.dueCycle(from: base, now: date("2054-01-30T12:00:00+09:00"), zone: zone) == date("2054-01-31"))
        #expect(monthly.dueCycle(from: base, now: date("2054-01-29T12:00:00+09:00"), zone: zone) == date("2053-12-31"))
    }
}


/// The re-confirmation's guarantees on generated records: it adds notices and nothing else, and a
/// cycle is asked once.
@Suite("Re-confirmation properties")
struct ReconfirmPropertyTests {
    static let with = ReconfirmRuleTests.policy()
    static var without: Policy {
        let policy = with.modifying(rule: "marketing") { rule in
            rule.reconfirm = nil
        }
        return policy
    }

    @Test("a re-confirmation never adds, removes or moves a delete, erasure or extension notice; each cycle is asked once")
    func onlyAddsNoticesOncePerCycle() async {
        let asked = Counter()
        await propertyCheck(count: 300, input: Scenario.generator, Gen.int(in: 0...(3 * 365))) { scenario, days in
            let now = scenario.now
            let first = Self.with.evaluate(Self.with.interpret(scenario.record, now: now), previous: nil, held: scenario.held, now: now)
            let plain = Self.without.evaluate(Self.without.interpret(scenario.record, now: now), previous: nil, held: scenario.held, now: now)
            let reconfirmations = first.operations.filter { Policy.noticeKind(fields: $0.fields) == .reconfirm }
            #expect(first.operations.filter { Policy.noticeKind(fields: $0.fields) != .reconfirm } == plain.operations, "\(scenario)")
            #expect(reconfirmations.count <= 1)
            asked.add(reconfirmations.count)
            let later = now.addingTimeInterval(Double(days) * 86_400)
            let second = Self.with.evaluate(Self.with.interpret(scenario.record, now: later), previous: first.state, held: scenario.held, now: later)
            let again = second.operations.filter { Policy.noticeKind(fields: $0.fields) == .reconfirm }.map(\.cycle)
            #expect(Set(again).isDisjoint(with: reconfirmations.map(\.cycle)), "\(scenario) +\(days)d")
        }
        #expect(asked.value >= 3, "the generator must reach a due re-confirmation")
    }
}
