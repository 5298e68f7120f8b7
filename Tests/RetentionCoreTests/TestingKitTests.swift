import Foundation
import RetentionCore
import RetentionTesting
import Testing

/// The test kit other suites rely on must itself behave as documented.
@Suite("RetentionTesting kit")
struct TestingKitTests {
    let transient = ConnectorError(code: "crm.unavailable", message: "service unavailable", isTransient: true)
    let permanent = ConnectorError(code: "crm.forbidden", message: "forbidden", isTransient: false)

    func pullAll(_ crm: InMemoryCRM, _ request: PullRequest = PullRequest()) async throws -> [RecordBatch] {
        var batches: [RecordBatch] = []
        for try await batch in crm.pull(request) { batches.append(batch) }
        return batches
    }

    @Test("krPIPA is the issue's policy")
    func krPIPA() throws {
        let policy = Policy.krPIPA
        #expect(policy.zone.identifier == "Asia/Seoul")
        #expect(policy.destroyWithin == Period(days: 5))
        #expect(policy.action == .delete)
        #expect(policy.rules.map(\.name) == ["payment", "dispute", "marketing"])
        #expect(policy.rule(named: "payment")?.period == Period(years: 5))
        #expect(policy.rule(named: "dispute")?.period == Period(years: 3))
        let marketing = try #require(policy.rule(named: "marketing"))
        #expect(marketing.period == Period(years: 2))
        #expect(marketing.basis == ["created_at", "consent_extended_at"])
        #expect(marketing.erase == [ErasedField(field: "interests", value: ""), ErasedField(field: "marketing_consent", value: "N")])
        #expect(marketing.notice == NoticeRule(lead: Period(days: 30), requiresConsentField: "marketing_consent", template: "marketing-extension", extension: Period(years: 2)))
        #expect(policy.rules.allSatisfy { !$0.legalBasis.isEmpty })
    }

    @Test("date() reads zone-less literals in Seoul")
    func dateHelper() {
        #expect(date("2026-11-29") == date("2026-11-28T15:00:00Z"))
    }

    @Test("pull yields every record once, in batches, with a watermark; incremental pulls see changes only")
    func pull() async throws {
        let crm = InMemoryCRM((1...5).map { record(id: "c\($0)") }, batchSize: 2)
        let batches = try await pullAll(crm)
        #expect(batches.map(\.records.count) == [2, 2, 1])
        #expect(batches.flatMap(\.records).map(\.id) == ["c1", "c2", "c3", "c4", "c5"])
        let watermark = try #require(batches.last?.watermark)
        await crm.upsert(record(id: "c3", purpose: "payment"))
        let changed = try await pullAll(crm, PullRequest(watermark: watermark, full: false))
        #expect(changed.flatMap(\.records).map(\.id) == ["c3"])
        #expect(await crm.pullCalls == 2)
    }

    @Test("pull failures end the stream after the given batches")
    func pullFailure() async throws {
        let crm = InMemoryCRM((1...5).map { record(id: "c\($0)") }, batchSize: 2)
        await crm.failPulls(with: transient, afterBatches: 1)
        var received = 0
        await #expect(throws: ConnectorError.self) {
            for try await batch in crm.pull(PullRequest()) { received += batch.records.count }
        }
        #expect(received == 2)
        await crm.failPulls(with: nil)
        #expect(try await pullAll(crm).count == 3)
    }

    @Test("apply is idempotent and keeps duplicate ids together")
    func applyIdempotent() async throws {
        let crm = InMemoryCRM([record(id: "a"), record(id: "b"), record(id: "b")])
        let erase = WriteOperation(id: "op1", kind: .eraseFields, recordID: "a", fields: [ErasedField(field: "interests", value: "")])
        let delete = WriteOperation(id: "op2", kind: .delete, recordID: "b")
        let first = try await crm.apply([erase, delete])
        let second = try await crm.apply([erase, delete])
        guard case .applied("erased") = first[0], case .applied = first[1], case .applied("already erased") = second[0],
            case .alreadyGone = second[1]
        else {
            Issue.record("unexpected outcomes \(first) \(second)")
            return
        }
        #expect(await crm.records.map(\.id) == ["a"])
        #expect(await crm.record("a")?.fields["interests"] == "")
        #expect(await crm.deletedIDs == ["b"])
        #expect(await crm.applyCalls == 2)
        let notify = try await crm.apply([WriteOperation(id: "op3", kind: .notify, recordID: "a")])
        guard case .failed(let failure) = notify[0] else {
            Issue.record("notify must not be applied by a CRM")
            return
        }
        #expect(!failure.isTransient)
    }

    @Test("injected apply failures: thrown applies nothing, outcome mode fails each, then heals")
    func applyFailures() async throws {
        let crm = InMemoryCRM([record(id: "a")])
        let delete = WriteOperation(id: "op", kind: .delete, recordID: "a")
        await crm.failNextApplies(1, with: transient)
        await #expect(throws: ConnectorError.self) { try await crm.apply([delete]) }
        await crm.failNextApplies(1, with: permanent, mode: .outcome)
        let outcomes = try await crm.apply([delete])
        guard case .failed(let failure) = outcomes.first else {
            Issue.record("expected a failed outcome")
            return
        }
        #expect(!failure.isTransient)
        #expect(await crm.records.count == 1)
        _ = try await crm.apply([delete])
        #expect(await crm.records.isEmpty)
    }

    @Test("read returns only existing ids; check and read failures are injectable")
    func readAndCheck() async throws {
        let crm = InMemoryCRM([record(id: "a"), record(id: "b")])
        #expect(try await crm.read(ids: ["b", "zz"]).map(\.id) == ["b"])
        try await crm.check()
        await crm.failReads(with: transient)
        await crm.failChecks(with: permanent)
        await #expect(throws: ConnectorError.self) { try await crm.read(ids: ["a"]) }
        await #expect(throws: ConnectorError.self) { try await crm.check() }
    }

    @Test("notice sink: one notice per operation id, failures injectable, receipts without personal data")
    func noticeSink() async throws {
        let sink = RecordingNoticeSink()
        let notice = Notice(operationID: "n1", recipient: "kim@example.com", recipientName: "김민준", sender: "privacy@example.org", subject: "s", textBody: "t", date: date("2026-11-29"))
        await sink.failNextDeliveries(1, with: transient)
        await #expect(throws: ConnectorError.self) { try await sink.deliver(notice) }
        let receipt = try await sink.deliver(notice)
        #expect(try await sink.deliver(notice) == receipt)
        #expect(!receipt.contains("kim") && !receipt.contains("김민준"))
        #expect(await sink.delivered.count == 1)
        #expect(await sink.notices(to: "kim@example.com").count == 1)
        #expect(await sink.deliverCalls == 3)
    }

    @Test("archive sink stores an operation id once")
    func archiveSink() async throws {
        let sink = RecordingArchiveSink()
        let entry = ArchiveEntry(operationID: "a1", connector: "crm", recordID: "r", reference: "ref", fields: [:], rules: ["payment"], archivedAt: date("2026-11-29"))
        await sink.failNextArchives(1, with: transient)
        await #expect(throws: ConnectorError.self) { try await sink.archive([entry]) }
        #expect(await sink.entries.isEmpty)
        _ = try await sink.archive([entry, entry])
        _ = try await sink.archive([entry])
        #expect(await sink.entries.count == 1)
    }

    @Test("log capture is thread-safe and finds personal data anywhere in an entry")
    func logCapture() async {
        let capture = LogCapture()
        let log = capture.log
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask { log(.info, "synced", ["count": "\(index)"]) }
            }
        }
        #expect(capture.entries.count == 100)
        #expect(!capture.containsAny(of: ["kim@example.com", ""]))
        log(.warning, "bad row", ["ref": "kim@example.com"])
        #expect(capture.containsAny(of: ["kim@example.com"]))
        #expect(capture.entries(atLeast: .warning).count == 1)
        capture.removeAll()
        #expect(capture.entries.isEmpty)
    }
}
