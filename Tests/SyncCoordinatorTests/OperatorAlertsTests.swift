import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// Operator alert e-mails: a batch waiting, a dead operation, overdue destructions — each mailed once.
@Suite struct OperatorAlertsTests {
    static let operators = ["ops@example.net", "privacy-officer@example.net"]

    /// Payment records whose 5 years ended in the 5 days before `asOf`: due, not overdue.
    static let due = (0..<4).map { record(id: "due-\($0)", created: "2021-11-2\(5 + $0)", purpose: "payment", line: $0 + 2) }
    /// Payment records whose 5 years ended long before `asOf`: overdue while they wait.
    static let late = (0..<3).map { record(id: "late-\($0)", created: "2019-0\($0 + 1)-10", purpose: "payment", line: $0 + 20) }
    /// Marketing records whose extension notice is due at `asOf`.
    static func noticed(_ count: Int) -> [SourceRecord] {
        (0..<count).map { record(id: "notice-\($0)", created: "2024-12-1\($0)", purpose: "marketing", consent: "Y", line: $0 + 40) }
    }

    static let permanent = ConnectorError(code: "smtp.550", message: "mailbox unavailable", isTransient: false)

    /// The alerts of a harness's state, mailed to `mails`, with fixed clocks (policy time `asOf`).
    func alerts(
        _ harness: SyncHarness, mails: RecordingNoticeSink, digestAbove: Int = 5, recipients: [String] = Self.operators,
        wallClock: any LetheClock = FixedClock(date(asOf)), publicURL: String? = "https://lethe.example.com/"
    ) -> OperatorAlerts {
        OperatorAlerts(
            store: harness.store, sink: mails,
            settings: .init(recipients: recipients, sender: "lethe@example.com", digestAbove: digestAbove, publicURL: publicURL),
            connectors: [(name: "crm", policy: harness.policy)], clock: FixedClock(date(asOf)), wallClock: wallClock, log: harness.logs.log)
    }

    func alertEntries(_ harness: SyncHarness) async throws -> [AuditDraft] {
        try await harness.store.auditEntries(after: 0, limit: 10_000).map(\.draft).filter { $0.event == "alert.sent" }
    }

    func expectNoPersonalData(_ notices: [Notice], _ audit: [AuditDraft]) {
        let texts = notices.map { $0.subject + "\n" + $0.textBody } + audit.map { $0.detail.values.joined(separator: " ") }
        for text in texts {
            for personal in ["someone@example.com", "Test Person", "hiking", "due-0", "late-0", "notice-0"] {
                #expect(!text.contains(personal), "no contact data in alert mails or their audit entries")
            }
        }
    }

    @Test func aWaitingBatchIsMailedOnceAcrossChecksAndRestarts() async throws {
        var harness = try SyncHarness(Self.due)
        harness.safety = .init(maxDeletesPerRun: 2, maxDeleteFraction: 1.0)
        let batch = try #require(try await harness.sync(at: asOf).approvalBatch)
        #expect(try await harness.store.overdueCount(connector: "crm", policy: harness.policy, now: date(asOf)) == 0, "none is overdue yet")
        let mails = RecordingNoticeSink()

        let first = try await alerts(harness, mails: mails).check()
        #expect(first == .init(events: 1, mails: 1, failed: 0))
        let delivered = await mails.delivered
        #expect(delivered.map(\.recipient) == Self.operators, "one copy to each operator")
        let notice = try #require(delivered.first)
        #expect(notice.subject.contains("파기 승인 대기: \(batch)") && notice.subject.contains("Awaiting approval: \(batch)"))
        #expect(notice.textBody.contains("삭제 4건") && notice.textBody.contains("4 deletes wait for approval"))
        #expect(notice.textBody.contains("lethe approve \(batch)"))
        #expect(notice.textBody.contains("https://lethe.example.com/approvals"))
        #expect(notice.sender == "lethe@example.com")
        let audit = try await alertEntries(harness)
        #expect(audit.count == 1)
        #expect(audit.first?.detail["kind"] == "approval")
        #expect(audit.first?.detail["events"] == "approval/crm/\(batch)")
        #expect(audit.first?.connector == "crm")
        expectNoPersonalData(delivered, audit)

        #expect(try await alerts(harness, mails: mails).check() == .init(), "checked again: nothing new")
        let reopened = try SQLiteStateStore(path: harness.store.path)
        let restarted = OperatorAlerts(
            store: reopened, sink: mails, settings: .init(recipients: Self.operators, sender: "lethe@example.com"),
            connectors: [(name: "crm", policy: harness.policy)], clock: FixedClock(date(asOf)), wallClock: FixedClock(date(asOf)))
        #expect(try await restarted.check() == .init(), "a restarted hub remembers what it sent")
        #expect(await mails.deliverCalls == 2)
        #expect(try await harness.store.verifyAudit().ok)
    }

    @Test func aNewDeadLetterIsOneMoreMail() async throws {
        var harness = try SyncHarness(Self.due)
        harness.safety = .init(maxDeletesPerRun: 2, maxDeleteFraction: 1.0)
        let batch = try #require(try await harness.sync(at: asOf).approvalBatch)
        let mails = RecordingNoticeSink()
        #expect(try await alerts(harness, mails: mails, recipients: ["ops@example.net"]).check().mails == 1)

        for record in Self.noticed(1) { await harness.crm.upsert(record) }
        await harness.notices.failNextDeliveries(1, with: Self.permanent)
        let summary = try await harness.sync(at: asOf)
        #expect(summary.failed == 1)
        let dead = try #require(try await harness.store.operations(connector: "crm", statuses: [.dead]).first)

        #expect(try await alerts(harness, mails: mails, recipients: ["ops@example.net"]).check() == .init(events: 1, mails: 1, failed: 0))
        let delivered = await mails.delivered
        #expect(delivered.count == 2)
        let mail = try #require(delivered.last)
        #expect(mail.subject.contains("실패한 작업: crm \(dead.id)") && mail.subject.contains("Dead operation: crm \(dead.id)"))
        #expect(mail.textBody.contains(dead.reference), "the record by its pseudonymous reference")
        #expect(mail.textBody.contains("https://lethe.example.com/dead"))
        #expect(try await alertEntries(harness).map { $0.detail["events"] ?? "" } == ["approval/crm/\(batch)", "dead/crm/\(dead.id)"])
        #expect(try await alerts(harness, mails: mails, recipients: ["ops@example.net"]).check() == .init())
        expectNoPersonalData(delivered, try await alertEntries(harness))
    }

    @Test(arguments: [(5, 5), (6, 1)])
    func moreNewEventsThanDigestAboveGoInOneDigest(_ dead: Int, _ mailsExpected: Int) async throws {
        let harness = try SyncHarness(Self.noticed(dead))
        await harness.notices.failNextDeliveries(dead, with: Self.permanent)
        #expect(try await harness.sync(at: asOf).failed == dead)
        let operations = try await harness.store.operations(connector: "crm", statuses: [.dead])
        #expect(operations.count == dead)
        let mails = RecordingNoticeSink()

        let report = try await alerts(harness, mails: mails, digestAbove: 5, recipients: ["ops@example.net"]).check()
        #expect(report == .init(events: dead, mails: mailsExpected, failed: 0), "more than 5 new events: one digest; 5 or fewer: one mail each")
        let delivered = await mails.delivered
        #expect(delivered.count == mailsExpected)
        let audit = try await alertEntries(harness)
        #expect(audit.count == mailsExpected)
        if mailsExpected == 1 {
            let digest = try #require(delivered.first)
            #expect(digest.subject.contains("운영 알림 \(dead)건") && digest.subject.contains("\(dead) operator alerts"))
            for operation in operations { #expect(digest.textBody.contains(operation.id)) }
            #expect(audit.first?.detail["kind"] == "digest")
            #expect(audit.first?.detail["count"] == String(dead))
        } else {
            #expect(audit.allSatisfy { $0.detail["kind"] == "dead" })
        }
        #expect(try await alerts(harness, mails: mails).check() == .init())
    }

    @Test func aFailingTransportMarksNothingSentAndTheNextCheckRetries() async throws {
        var harness = try SyncHarness(Self.due)
        harness.safety = .init(maxDeletesPerRun: 2, maxDeleteFraction: 1.0)
        _ = try await harness.sync(at: asOf)
        let mails = RecordingNoticeSink()
        // The second operator's copy fails: the mail is not sent as a whole.
        let failing = FailingSecondDelivery(inner: mails)

        let alerts = OperatorAlerts(
            store: harness.store, sink: failing, settings: .init(recipients: Self.operators, sender: "lethe@example.com"),
            connectors: [(name: "crm", policy: harness.policy)], clock: FixedClock(date(asOf)), wallClock: FixedClock(date(asOf)),
            log: harness.logs.log)
        #expect(try await alerts.check() == .init(events: 1, mails: 0, failed: 1))
        #expect(try await harness.store.alertMarks().isEmpty, "no mark stays: not sent, and the claim is released")
        #expect(try await alertEntries(harness).isEmpty)
        #expect(harness.logs.entries.contains { $0.message.contains("an operator alert could not be sent") })

        #expect(try await alerts.check() == .init(events: 1, mails: 1, failed: 0), "the next check sends it")
        let delivered = await mails.delivered
        #expect(delivered.map(\.recipient) == Self.operators, "the first operator's copy is the same message: not delivered twice")
        #expect(try await harness.store.alertMarks().map(\.state) == [.sent])
        #expect(try await alertEntries(harness).count == 1)
    }

    @Test func aClaimOfAnotherInstanceHoldsUntilItsLeaseEnds() async throws {
        var harness = try SyncHarness(Self.due)
        harness.safety = .init(maxDeletesPerRun: 2, maxDeleteFraction: 1.0)
        let batch = try #require(try await harness.sync(at: asOf).approvalBatch)
        let start = date(asOf)
        // Another instance claimed the event and stopped before sending.
        #expect(try await harness.store.claimAlerts(["approval/crm/\(batch)"], claimant: "other", at: start, staleBefore: start) == ["approval/crm/\(batch)"])
        let clock = SettableClock(start.addingTimeInterval(60))
        let mails = RecordingNoticeSink()
        #expect(try await alerts(harness, mails: mails, wallClock: clock).check() == .init(), "a fresh claim of another instance is left alone")
        clock.advance(by: 600)
        #expect(try await alerts(harness, mails: mails, wallClock: clock).check() == .init(events: 1, mails: 1, failed: 0),
                "after the lease it is taken over: at least once")
        #expect(await mails.delivered.count == 2)
    }

    @Test func anEndedEventIsForgottenAndAlertedAgainWhenItComesBack() async throws {
        let harness = try SyncHarness(Self.noticed(1))
        await harness.notices.failNextDeliveries(1, with: Self.permanent)
        _ = try await harness.sync(at: asOf)
        let mails = RecordingNoticeSink()
        let recipients = ["ops@example.net"]
        #expect(try await alerts(harness, mails: mails, recipients: recipients).check().mails == 1)

        // Retried by an operator: the event ended, its mark is forgotten.
        _ = try await harness.store.retryDead(ids: nil, by: "kim", at: date(asOf))
        #expect(try await alerts(harness, mails: mails, recipients: recipients).check() == .init())
        #expect(try await harness.store.alertMarks().isEmpty)

        // Dead again: a new event.
        await harness.notices.failNextDeliveries(1, with: Self.permanent)
        _ = try await harness.sync(at: asOf)
        #expect(try await alerts(harness, mails: mails, recipients: recipients, wallClock: FixedClock(date(asOf).addingTimeInterval(3600))).check().mails == 1)
        #expect(try await alertEntries(harness).count == 2)
    }

    @Test func overdueDestructionsAreCountedAsTheDashboardCountsThem() async throws {
        var harness = try SyncHarness(Self.late)
        harness.safety = .init(maxDeletesPerRun: 1, maxDeleteFraction: 1.0)
        let batch = try #require(try await harness.sync(at: asOf).approvalBatch)
        let overdue = try await harness.store.overdueCount(connector: "crm", policy: harness.policy, now: date(asOf))
        #expect(overdue == 3)
        let mails = RecordingNoticeSink()

        #expect(try await alerts(harness, mails: mails, recipients: ["ops@example.net"], publicURL: nil).check() == .init(events: 2, mails: 2, failed: 0))
        let delivered = await mails.delivered
        #expect(delivered.count == 2)
        let late = try #require(delivered.first { $0.subject.contains("Overdue") })
        #expect(late.subject.contains("기한을 넘긴 파기: crm 3건") && late.subject.contains("Overdue destructions: crm (3)"))
        #expect(late.textBody.contains("3 records are past their destruction deadline"))
        #expect(!late.textBody.contains("http"), "no public URL: no links")
        #expect(Set(try await alertEntries(harness).compactMap { $0.detail["events"] }) == ["approval/crm/\(batch)", "overdue/crm"])

        // Destroyed: nothing is overdue any more, the mark is forgotten.
        _ = try await harness.store.approve(batch: batch, by: "kim", at: date(asOf))
        _ = try await harness.sync(at: asOf)
        #expect(try await harness.store.overdueCount(connector: "crm", policy: harness.policy, now: date(asOf)) == 0)
        #expect(try await alerts(harness, mails: mails).check() == .init())
        #expect(try await harness.store.alertMarks().isEmpty)
    }

    @Test func oneLanguageWhenConfigured() async throws {
        var harness = try SyncHarness(Self.due)
        harness.safety = .init(maxDeletesPerRun: 2, maxDeleteFraction: 1.0)
        _ = try await harness.sync(at: asOf)
        let mails = RecordingNoticeSink()
        let alerts = OperatorAlerts(
            store: harness.store, sink: mails, settings: .init(recipients: ["ops@example.net"], sender: "lethe@example.com", languages: ["en"]),
            connectors: [(name: "crm", policy: harness.policy)], clock: FixedClock(date(asOf)), wallClock: FixedClock(date(asOf)))
        #expect(try await alerts.check().mails == 1)
        let mail = try #require(await mails.delivered.first)
        #expect(mail.subject.hasPrefix("[Lethe] Awaiting approval"))
        #expect(!mail.textBody.contains("승인"))
    }
}

/// Delivers through `inner`, except that every second call fails (a transport refusing one recipient).
actor FailingSecondDelivery: NoticeSink {
    let inner: RecordingNoticeSink
    private var calls = 0

    init(inner: RecordingNoticeSink) { self.inner = inner }

    func deliver(_ notice: Notice) async throws -> String {
        calls += 1
        if calls == 2 { throw ConnectorError(code: "smtp.451", message: "try later", isTransient: true) }
        return try await inner.deliver(notice)
    }
}
