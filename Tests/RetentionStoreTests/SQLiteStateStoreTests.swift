import Foundation
import GRDB
import RetentionCore
@testable import RetentionStore
import Testing

@Suite struct SQLiteStateStoreTests {
    let directory: URL
    let store: SQLiteStateStore
    let at = Date(timeIntervalSince1970: 1_800_000_000)

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-store-\(UUID().uuidString)")
        store = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
    }

    func record(_ id: String, line: Int, created: String = "2020-01-01") -> SourceRecord {
        SourceRecord(id: id, fields: ["id": id, "email": "\(id)@example.com", "created_at": created], line: line)
    }

    @Test func referencesArePseudonymousAndStable() throws {
        let first = store.reference(connector: "contacts", recordID: "C-1")
        #expect(first == store.reference(connector: "contacts", recordID: "C-1"))
        #expect(first != store.reference(connector: "other", recordID: "C-1"))
        #expect(!first.contains("C-1"))
        let reopened = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
        #expect(reopened.reference(connector: "contacts", recordID: "C-1") == first)
        let elsewhere = try SQLiteStateStore(path: directory.appendingPathComponent("other.sqlite"))
        #expect(elsewhere.reference(connector: "contacts", recordID: "C-1") != first, "the secret is per installation")
    }

    @Test func ingestMarksDuplicatesWithinARunOnly() async throws {
        let run = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        try await store.ingest(connector: "c", run: run, records: [record("a", line: 2), record("b", line: 3), record("a", line: 4)])
        let live = try await store.liveRecords(connector: "c", after: nil, limit: 10)
        #expect(live.count == 2)
        let a = try #require(live.first { $0.recordID == "a" })
        #expect(a.duplicateLines == [2, 4])
        #expect(live.first { $0.recordID == "b" }?.duplicateLines == [])

        let next = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        try await store.ingest(connector: "c", run: next, records: [record("a", line: 2)])
        let gone = try await store.markUnseenGone(connector: "c", run: next, at: at)
        #expect(gone == 1)
        let after = try await store.liveRecords(connector: "c", after: nil, limit: 10)
        #expect(after.map(\.recordID) == ["a"])
        #expect(after.first?.duplicateLines == [])
    }

    @Test func outboxIgnoresDuplicateIDsAndTombstoneCancelsPending() async throws {
        let run = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        try await store.ingest(connector: "c", run: run, records: [record("a", line: 2)])
        let ref = store.reference(connector: "c", recordID: "a")
        let notify = OutboxOperation(id: "op-n", connector: "c", reference: ref, recordID: "a", kind: .notify, rule: "marketing", cycle: at, createdAt: at)
        let delete = OutboxOperation(id: "op-d", connector: "c", reference: ref, recordID: "a", kind: .delete, rule: "*", cycle: at, createdAt: at)
        let state = LifecycleState(phase: .expiring)
        try await store.commit([RecordChange(connector: "c", reference: ref, state: state, operations: [notify, delete])], audit: [])
        try await store.commit([RecordChange(connector: "c", reference: ref, state: state, operations: [notify, delete])], audit: [])
        #expect(try await store.operations(connector: "c", statuses: [.pending]).count == 2)
        let queued = try await store.auditEntries(after: 0, limit: 100).filter { $0.draft.event == "operation.queued" }
        #expect(queued.count == 2, "a re-queued id is not audited twice")

        try await store.complete(
            OperationCompletion(operationID: "op-d", status: .done, attempts: 1, effect: .tombstone(phase: .deleted),
                                audit: [AuditDraft(at: at, event: "operation.done", connector: "c", reference: ref)])
        )
        #expect(try await store.operation(id: "op-n")?.status == .cancelled)
        let tomb = try #require(try await store.record(connector: "c", reference: ref))
        #expect(tomb.recordID == nil)
        #expect(tomb.record == nil)
        #expect(tomb.state?.phase == .deleted)
        #expect(try await store.liveRecords(connector: "c", after: nil, limit: 10).isEmpty)
        let raw = try await store.queue.read { db in try String.fetchAll(db, sql: "SELECT COALESCE(record_id, '') || COALESCE(fields, '') FROM records") }
        #expect(raw.allSatisfy { !$0.contains("a@example.com") }, "no personal data left in the tombstone")
    }

    /// A consent value Lethe writes is not a change made in the source: the completion that rewrites the
    /// mirror's field also moves the state's last-seen copy, and leaves other fields' copies alone.
    @Test func aWrittenConsentFieldMovesTheLastSeenCopy() async throws {
        let run = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
        try await store.ingest(connector: "c", run: run, records: [record("a", line: 2)])
        let ref = store.reference(connector: "c", recordID: "a")
        let erase = OutboxOperation(id: "op-e", connector: "c", reference: ref, recordID: "a", kind: .eraseFields, rule: "marketing", cycle: at,
                                    fields: [ErasedField(field: "marketing_consent", value: "N"), ErasedField(field: "interests", value: "")], createdAt: at)
        let state = LifecycleState(phase: .active, consentSeen: ["marketing_consent": true, "sms_consent": true])
        try await store.commit([RecordChange(connector: "c", reference: ref, state: state, operations: [erase])], audit: [])
        try await store.complete(OperationCompletion(operationID: "op-e", status: .done, attempts: 1, effect: .fieldsChanged(erase.fields), audit: []))
        let after = try #require(try await store.record(connector: "c", reference: ref))
        #expect(after.record?.fields["marketing_consent"] == "N")
        #expect(after.state?.consentSeen == ["marketing_consent": false, "sms_consent": true])
    }

    @Test func approvalReleasesExactlyTheBatch() async throws {
        let batch = try await store.createApprovalBatch(connector: "c", at: at)
        #expect(try await store.openApprovalBatch(connector: "c")?.id == batch.id)
        var held = OutboxOperation(id: "op-1", connector: "c", reference: "r-1", recordID: "1", kind: .delete, rule: "*", cycle: at, createdAt: at)
        held.status = .awaitingApproval
        held.batch = batch.id
        try await store.commit([RecordChange(connector: "c", reference: "r-1", state: LifecycleState(phase: .awaitingApproval), operations: [held])], audit: [])
        let approved = try await store.approve(batch: batch.id, by: "kim", at: at)
        #expect(approved.status == .approved)
        #expect(approved.approvedBy == "kim")
        #expect(approved.operationCount == 1)
        #expect(try await store.operation(id: "op-1")?.status == .pending)
        #expect(try await store.openApprovalBatch(connector: "c") == nil)
        await #expect(throws: StoreError.self) { try await store.approve(batch: batch.id, by: "kim", at: at) }
        await #expect(throws: StoreError.self) { try await store.approve(batch: "nope", by: "kim", at: at) }
    }

    @Test func holdsAreIdempotentAndAudited() async throws {
        #expect(try await store.addHold(connector: "c", reference: "r-1", reason: "litigation", by: "kim", at: at))
        #expect(try await store.addHold(connector: "c", reference: "r-1", reason: "litigation", by: "kim", at: at) == false)
        #expect(try await store.heldReferences(connector: "c") == ["r-1"])
        #expect(try await store.removeHold(connector: "c", reference: "r-1", by: "kim", at: at))
        #expect(try await store.heldReferences(connector: "c").isEmpty)
        let events = try await store.auditEntries(after: 0, limit: 10).map(\.draft.event)
        #expect(events == ["hold.added", "hold.removed"])
    }

    @Test func auditChainVerifies() async throws {
        try await store.appendAudit((1...5).map { AuditDraft(at: at, event: "e\($0)", detail: ["n": String($0)]) })
        let result = try await store.verifyAudit()
        #expect(result.ok)
        #expect(result.entries == 5)
    }

    @Test func auditIsAppendOnlyThroughTheStore() async throws {
        try await store.appendAudit([AuditDraft(at: at, event: "e1")])
        await #expect(throws: (any Error).self) {
            try await store.queue.write { db in try db.execute(sql: "UPDATE audit SET event = 'x'") }
        }
        await #expect(throws: (any Error).self) {
            try await store.queue.write { db in try db.execute(sql: "DELETE FROM audit") }
        }
    }

    enum Tamper: String, CaseIterable {
        case editEvent, editDetail, deleteMiddle, deleteLast, reorderAt, rewriteLastWithHash
    }

    @Test(arguments: Tamper.allCases)
    func auditVerifyDetectsTampering(_ tamper: Tamper) async throws {
        try await store.appendAudit((1...4).map { AuditDraft(at: at, event: "e\($0)", reference: "r-\($0)", detail: ["n": String($0)]) })
        try await store.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
            switch tamper {
            case .editEvent: try db.execute(sql: "UPDATE audit SET event = 'forged' WHERE seq = 2")
            case .editDetail: try db.execute(sql: "UPDATE audit SET detail = '{\"n\":\"9\"}' WHERE seq = 3")
            case .deleteMiddle: try db.execute(sql: "DELETE FROM audit WHERE seq = 2")
            case .deleteLast: try db.execute(sql: "DELETE FROM audit WHERE seq = 4")
            case .reorderAt: try db.execute(sql: "UPDATE audit SET at = at + 1 WHERE seq = 1")
            case .rewriteLastWithHash:
                // An attacker who recomputes the last hash still breaks the head kept beside the chain.
                let previous = try String.fetchOne(db, sql: "SELECT prev_hash FROM audit WHERE seq = 4")!
                let forged = AuditChain.hash(previous: previous, seq: 4, draft: AuditDraft(at: at, event: "forged", reference: "r-4", detail: ["n": "4"]))
                try db.execute(sql: "UPDATE audit SET event = 'forged', hash = ? WHERE seq = 4", arguments: [forged])
            }
        }
        let result = try await store.verifyAudit()
        #expect(result.ok == false)
        #expect(result.problem != nil)
    }
}
