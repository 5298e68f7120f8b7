import Foundation
import RetentionCore
import RetentionTesting
import Testing

@Suite("Policy.evaluate")
struct EvaluateTests {
    let policy = Policy.krPIPA

    func decide(_ record: SourceRecord, now: Date, previous: LifecycleState? = nil, held: Bool = false) -> Decision {
        policy.evaluate(policy.interpret(record, now: now), previous: previous, held: held, now: now)
    }

    func kinds(_ decision: Decision) -> [OperationKind] { decision.operations.map(\.kind) }

    @Test("delete only once now reaches the latest expiry")
    func deleteAtMaxExpiry() {
        let contact = record(created: "2021-06-15 14:00", purpose: "payment;dispute", consent: "N", interests: nil)
        let before = decide(contact, now: date("2026-06-15 13:59:59"))
        #expect(before.operations.isEmpty)
        #expect(before.state.phase == .active)
        #expect(before.state.rules["dispute"]?.stage == .expired)
        #expect(before.state.rules["payment"]?.stage == .active)
        let at = decide(contact, now: date("2026-06-15 14:00"))
        #expect(at.operations == [PlannedOperation(kind: .delete, rule: "*", cycle: date("2026-06-15 14:00"))])
        #expect(at.state.phase == .expiring)
        #expect(at.state.finalExpiry == date("2026-06-15 14:00"))
    }

    @Test("a payment record past 5 years is deleted")
    func paymentDeleted() {
        let decision = decide(record(created: "2021-11-28", purpose: "payment"), now: date("2026-11-29T09:00:00+09:00"))
        #expect(kinds(decision) == [.delete])
    }

    @Test("archive-then-delete archives first, with the same cycle")
    func archiveThenDelete() {
        var policy = Policy.krPIPA
        policy.action = .archiveThenDelete
        let now = date("2026-11-29T09:00:00+09:00")
        let decision = policy.evaluate(policy.interpret(record(created: "2020-01-01", purpose: "payment"), now: now), previous: nil, held: false, now: now)
        #expect(decision.operations.map(\.kind) == [.archive, .delete])
        #expect(Set(decision.operations.map(\.cycle)) == [date("2025-01-01")])
    }

    @Test("payment;marketing after 2 years erases marketing fields, does not delete")
    func marketingErasedNotDeleted() throws {
        let now = date("2026-11-29T09:00:00+09:00")
        let decision = decide(record(created: "2024-01-01", purpose: "payment;marketing", consent: "Y", interests: "a, \"b\""), now: now)
        let erase = try #require(decision.operations.first)
        #expect(decision.operations.count == 1)
        #expect(erase.kind == .eraseFields)
        #expect(erase.rule == "marketing")
        #expect(erase.cycle == date("2026-01-01"))
        #expect(Set(erase.fields) == [ErasedField(field: "interests", value: ""), ErasedField(field: "marketing_consent", value: "N")])
        #expect(decision.state.phase == .active)
        #expect(decision.state.rules["marketing"]?.stage == .erased)
        #expect(decision.state.rules["payment"]?.stage == .active)
    }

    @Test("an expired marketing rule with nothing left to erase produces no operation")
    func nothingToErase() {
        let decision = decide(record(created: "2024-01-01", purpose: "payment;marketing", consent: "N", interests: ""), now: date("2026-11-29"))
        #expect(decision.operations.isEmpty)
        #expect(decision.state.rules["marketing"]?.stage == .erased)
    }

    // Marketing created 2024-12-29 09:00 Seoul expires 2026-12-29 09:00; the lead is 30 × 24 h.
    static let expiring = record(created: "2024-12-29 09:00", purpose: "dispute;marketing", consent: "Y")
    static let expiry = date("2026-12-29 09:00")

    @Test("notice window edges: (now, now + 30 d]")
    func noticeWindow() {
        let exactlyLead = Self.expiry.addingTimeInterval(-30 * 86_400)
        let notice = decide(Self.expiring, now: exactlyLead)
        #expect(notice.operations == [PlannedOperation(kind: .notify, rule: "marketing", cycle: Self.expiry)])
        #expect(notice.state.rules["marketing"] == RuleProgress(stage: .awaitingResponse, expiry: Self.expiry, noticedFor: Self.expiry))
        #expect(decide(Self.expiring, now: exactlyLead.addingTimeInterval(-1)).operations.isEmpty)
        #expect(kinds(decide(Self.expiring, now: Self.expiry.addingTimeInterval(-1))) == [.notify])
    }

    @Test("at expiry the rule is expired: erased, not noticed")
    func expiryEqualsNow() {
        let decision = decide(Self.expiring, now: Self.expiry)
        #expect(kinds(decision) == [.eraseFields])
        #expect(decision.state.rules["marketing"]?.stage == .erased)
    }

    @Test(
        "no notice without an email or without consent",
        arguments: [
            record(created: "2024-12-29 09:00", purpose: "dispute;marketing", consent: "Y", email: nil),
            record(created: "2024-12-29 09:00", purpose: "dispute;marketing", consent: "Y", email: "   "),
            record(created: "2024-12-29 09:00", purpose: "dispute;marketing", consent: "N"),
            record(created: "2024-12-29 09:00", purpose: "dispute;marketing", consent: ""),
            record(created: "2024-12-29 09:00", purpose: "dispute;marketing", consent: "maybe"),
        ]
    )
    func noNotice(_ contact: SourceRecord) {
        #expect(decide(contact, now: date("2026-12-01 09:00")).operations.isEmpty)
    }

    @Test("no notice when marketing is not a purpose")
    func noNoticeWithoutMarketing() {
        let contact = record(created: "2023-12-29 09:00", purpose: "dispute", consent: "Y")
        #expect(decide(contact, now: date("2026-12-01 09:00")).operations.isEmpty)
    }

    @Test("a second evaluation with the previous state sends no second notice")
    func noticeOnce() {
        let first = decide(Self.expiring, now: date("2026-12-01 09:00"))
        #expect(kinds(first) == [.notify])
        let second = decide(Self.expiring, now: date("2026-12-10 09:00"), previous: first.state)
        #expect(second.operations.isEmpty)
        #expect(second.state.rules["marketing"]?.stage == .awaitingResponse)
        #expect(second.state.rules["marketing"]?.noticedFor == Self.expiry)
    }

    @Test("an extension starts a new cycle that is noticed again when its window opens")
    func extensionNewCycle() {
        let first = decide(Self.expiring, now: date("2026-12-01 09:00"))
        let extended = record(created: "2024-12-29 09:00", purpose: "dispute;marketing", consent: "Y", consentExtendedAt: "2026-12-05 10:00")
        let after = decide(extended, now: date("2026-12-06 09:00"), previous: first.state)
        #expect(after.operations.isEmpty)
        #expect(after.state.rules["marketing"]?.stage == .extended)
        #expect(after.state.rules["marketing"]?.expiry == date("2028-12-05 10:00"))
        let later = decide(extended, now: date("2028-11-20 09:00"), previous: after.state)
        #expect(later.operations == [PlannedOperation(kind: .notify, rule: "marketing", cycle: date("2028-12-05 10:00"))])
    }

    @Test("first seen after the marketing expiry: erased, never noticed")
    func firstSeenAfterExpiry() {
        let decision = decide(Self.expiring, now: Self.expiry.addingTimeInterval(3600))
        #expect(!kinds(decision).contains(.notify))
        #expect(kinds(decision) == [.eraseFields])
    }

    @Test("held records produce no operation, even when due for deletion or notice")
    func held() {
        let due = decide(record(created: "2020-01-01", purpose: "payment"), now: date("2026-11-29"), held: true)
        #expect(due.operations.isEmpty)
        #expect(due.state.phase == .held)
        let notice = decide(Self.expiring, now: date("2026-12-01 09:00"), held: true)
        #expect(notice.operations.isEmpty)
        #expect(notice.state.phase == .held)
    }

    @Test("quarantined records produce no operation and keep their reason")
    func quarantined() {
        let decision = decide(record(created: "2019-02-30", purpose: "payment"), now: date("2026-11-29"))
        #expect(decision.operations.isEmpty)
        #expect(decision.state.phase == .quarantined)
        #expect(decision.quarantine?.code == "invalid_created_at")
    }

    @Test("a delete awaiting approval stays awaiting approval")
    func awaitingApprovalKept() {
        let previous = LifecycleState(phase: .awaitingApproval)
        let decision = decide(record(created: "2020-01-01", purpose: "payment"), now: date("2026-11-29"), previous: previous)
        #expect(decision.state.phase == .awaitingApproval)
        #expect(kinds(decision) == [.delete])
    }
}

/// The rule for an accepted extension: the new expiry is the consent date plus the rule's
/// extension period (not its period), and an extension never shortens what the period already kept.
struct ExtensionPeriodTests {
    static var policy: Policy {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.notice?.extensionPeriod = Period(years: 1)
        }
        return policy
    }

    static func expiry(_ record: SourceRecord, _ policy: Policy = Self.policy) -> Date? {
        guard case .valid(let facts) = policy.interpret(record, now: date("2026-12-01T09:00:00+09:00")) else { return nil }
        return facts.expiries["marketing"]
    }

    @Test func anExtensionKeepsTheDataItsExtensionPeriodFromTheConsentDate() {
        let extended = record(id: "e", created: "2024-12-15", purpose: "marketing", consent: "Y", consentExtendedAt: "2026-11-29T09:00:00+09:00")
        #expect(Self.expiry(extended) == date("2027-11-29T09:00:00+09:00"), "consent date + 1 year")
        #expect(Self.expiry(extended, .krPIPA) == date("2028-11-29T09:00:00+09:00"), "kr-pipa: extension = period = 2 years")
        let early = record(id: "x", created: "2024-12-15", purpose: "marketing", consent: "Y", consentExtendedAt: "2025-01-10")
        #expect(Self.expiry(early) == date("2026-12-15"), "never shorter than the period from the creation date")
    }
}
