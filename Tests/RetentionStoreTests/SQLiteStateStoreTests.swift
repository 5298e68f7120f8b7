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

    func upsert(_ id: String, line: Int, state: LifecycleState = LifecycleState(phase: .active), operations: [OutboxOperation] = [], isNew: Bool = true) -> RecordUpsert {
        RecordUpsert(
            key: store.fingerprints.key(connector: "c", id: id), reference: store.reference(connector: "c", recordID: id), recordID: id,
            digest: 42, facts: SourceFacts(dates: [at], purposes: 1, hasEmail: true), line: line, state: state, nextDue: at.addingTimeInterval(86_400),
            reason: nil, operations: operations, isNew: isNew)
    }

    @Test func referencesArePseudonymousAndStable() throws {
        let first = store.reference(connector: "contacts", recordID: "C-1")
        #expect(first == store.reference(connector: "contacts", recordID: "C-1"))
        #expect(first != store.reference(connector: "other", recordID: "C-1"))
        #expect(!first.contains("C-1"))
        #expect(first.count == 22 && first.hasPrefix("r-"))
        #expect(RecordFingerprints.key(ofReference: first) == store.fingerprints.key(connector: "contacts", id: "C-1"), "the reference carries the key")
        let reopened = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
        #expect(reopened.reference(connector: "contacts", recordID: "C-1") == first)
        let elsewhere = try SQLiteStateStore(path: directory.appendingPathComponent("other.sqlite"))
        #expect(elsewhere.reference(connector: "contacts", recordID: "C-1") != first, "the secret is per installation")
    }

    @Test func writtenRecordsAreKnownInKeyOrderAndPagedOnce() async throws {
        let ids = (0..<25).map { "id-\($0)" }
        try await store.write(connector: "c", RecordWrites(at: at, upserts: ids.enumerated().map { upsert($1, line: $0 + 2) }))
        try await store.write(connector: "other", RecordWrites(at: at, upserts: [RecordUpsert(
            key: store.fingerprints.key(connector: "other", id: "id-0"), reference: store.reference(connector: "other", recordID: "id-0"),
            recordID: "id-0", digest: 1, facts: nil, line: 2, state: LifecycleState(phase: .active), nextDue: nil, reason: nil, isNew: true)]))
        let known = try await store.knownRecords(connector: "c")
        #expect(known.count == 25)
        #expect(known.keys == known.keys.sorted())
        #expect(known.digests.allSatisfy { $0 == 42 })
        #expect(known.flags.allSatisfy { $0.contains(.live) && $0.contains(.facts) })
        var seen: [StoredRecord] = []
        var after: Int64?
        while true {
            let page = try await store.recordPage(connector: "c", after: after, limit: 7)
            guard let last = page.last else { break }
            #expect(page.count <= 7)
            seen += page
            after = last.key
        }
        #expect(Set(seen.compactMap(\.recordID)) == Set(ids) && seen.count == 25, "each once, this connector only")
        let one = try #require(try await store.record(connector: "c", reference: store.reference(connector: "c", recordID: "id-3")))
        #expect(one.line == 5 && one.facts?.purposes == 1 && one.digest == 42)
        #expect(try await store.liveCounts(connector: "c") == (25, 25))
    }

    @Test func outboxIgnoresDuplicateIDsAndTombstoneCancelsPending() async throws {
        let ref = store.reference(connector: "c", recordID: "a")
        let notify = OutboxOperation(id: "op-n", connector: "c", reference: ref, recordID: "a", kind: .notify, rule: "marketing", cycle: at, createdAt: at)
        let delete = OutboxOperation(id: "op-d", connector: "c", reference: ref, recordID: "a", kind: .delete, rule: "*", cycle: at, createdAt: at)
        try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, state: LifecycleState(phase: .expiring), operations: [notify, delete])]))
        let key = store.fingerprints.key(connector: "c", id: "a")
        let change = RecordChange(connector: "c", reference: ref, key: key, state: LifecycleState(phase: .expiring), nextDue: nil, operations: [notify, delete])
        try await store.write(connector: "c", RecordWrites(at: at, changes: [change]))
        #expect(try await store.operations(connector: "c", statuses: [.pending]).count == 2)
        let queued = try await store.auditEntries(after: 0, limit: 100).filter { $0.draft.event == "operation.queued" }
        #expect(queued.count == 2, "a re-queued id is not audited twice")

        try await store.complete(
            OperationCompletion(operationID: "op-d", status: .done, attempts: 1, effect: .tombstone(phase: .deleted),
                                audit: [AuditDraft(at: at, event: "operation.done", connector: "c", reference: ref)])
        )
        #expect(try await store.operation(id: "op-n")?.status == .cancelled)
        let tomb = try #require(try await store.record(connector: "c", reference: ref))
        #expect(tomb.recordID == nil && tomb.facts == nil && tomb.digest == nil)
        #expect(tomb.state?.phase == .deleted)
        #expect(try await store.recordPage(connector: "c", after: nil, limit: 10).isEmpty)
        let known = try await store.knownRecords(connector: "c")
        #expect(known.flags == [.deleted], "the tombstone keeps its key: a record that comes back is recognised")
        let raw = try await store.queue.read { db in try String.fetchAll(db, sql: "SELECT COALESCE(record_id, '') FROM record_state") }
        #expect(raw == [""], "no source id left in the tombstone")
        let cancelled = try await store.auditEntries(after: 0, limit: 100).filter { $0.draft.event == "operation.cancelled" }
        #expect(cancelled.map(\.draft.operation) == ["op-n"])

        // A record whose delete is its only operation: the operation forgets the id too.
        let lone = OutboxOperation(
            id: "op-b", connector: "c", reference: store.reference(connector: "c", recordID: "b"), recordID: "b", kind: .delete, rule: "*",
            cycle: at, createdAt: at)
        try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("b", line: 3, state: LifecycleState(phase: .expiring), operations: [lone])]))
        try await store.complete(OperationCompletion(operationID: "op-b", status: .done, attempts: 1, effect: .tombstone(phase: .deleted), audit: []))
        let ids = try await store.queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE record_id IS NOT NULL") }
        #expect(ids == 0, "no operation keeps the id of a destroyed record")
    }

    @Test func stagedDeletesArePublishedOnlyWhenReleased() async throws {
        let ref = store.reference(connector: "c", recordID: "a")
        var delete = OutboxOperation(id: "op-d", connector: "c", reference: ref, recordID: "a", kind: .delete, rule: "*", cycle: at, createdAt: at)
        delete.status = .staged
        delete.recordKey = store.fingerprints.key(connector: "c", id: "a")
        try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, operations: [delete])]))
        #expect(try await store.stagedDeletes(connector: "c") == 1)
        #expect(try await store.operations(connector: "c", statuses: [.pending]).isEmpty, "not executable before the safety check")
        #expect(try await store.auditEntries(after: 0, limit: 10).isEmpty, "not audited before it is decided")
        let batch = try await store.createApprovalBatch(connector: "c", at: at)
        #expect(try await store.releaseStaged(connector: "c", batch: batch.id, at: at) == 1)
        #expect(try await store.operation(id: "op-d")?.status == .awaitingApproval)
        #expect(try await store.record(connector: "c", reference: ref)?.state?.phase == .awaitingApproval)
        let events = try await store.auditEntries(after: 0, limit: 10).map(\.draft.event)
        #expect(events == ["approval.requested", "record.awaiting-approval", "operation.queued"])
        #expect(try await store.stagedDeletes(connector: "c") == 0)
    }

    @Test func aRecordWrittenAgainAfterItsDestructionIsCountedAndAudited() async throws {
        let ref = store.reference(connector: "c", recordID: "a")
        let key = store.fingerprints.key(connector: "c", id: "a")
        try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2)]))
        #expect(try await store.tombstone(connector: "c", keys: [key], phase: .deleted, at: at, via: "test") == 1)
        #expect(try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, isNew: false)])) == 1)
        #expect(try await store.record(connector: "c", reference: ref)?.reappeared == 1)
        #expect(try await store.auditEntries(after: 0, limit: 10).map(\.draft.event).contains("record.reappeared"))
        #expect(try await store.statusCounts().reappeared == ["c": 1])
    }

    /// A consent value Lethe writes is not a change made in the source: the completion that records
    /// the write also moves the state's last-seen copy, and leaves other fields' copies alone.
    @Test func aWrittenConsentFieldMovesTheLastSeenCopy() async throws {
        let ref = store.reference(connector: "c", recordID: "a")
        let erase = OutboxOperation(id: "op-e", connector: "c", reference: ref, recordID: "a", kind: .eraseFields, rule: "marketing", cycle: at,
                                    fields: [ErasedField(field: "marketing_consent", value: "N"), ErasedField(field: "interests", value: "")], createdAt: at)
        let state = LifecycleState(phase: .active, consentSeen: ["marketing_consent": true, "sms_consent": true])
        try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, state: state, operations: [erase])]))
        let facts = SourceFacts(dates: [at], purposes: 4, consents: 0, unerased: [0, 0, 0], hasEmail: true)
        try await store.complete(OperationCompletion(operationID: "op-e", status: .done, attempts: 1, effect: .fieldsChanged(erase.fields, facts: facts), audit: []))
        let after = try #require(try await store.record(connector: "c", reference: ref))
        #expect(after.facts == facts, "the facts as the write left them")
        #expect(after.digest == nil, "the row changed: read again at the next pull")
        #expect(after.state?.consentSeen == ["marketing_consent": false, "sms_consent": true])
    }

    @Test func approvalReleasesExactlyTheBatch() async throws {
        let batch = try await store.createApprovalBatch(connector: "c", at: at)
        #expect(try await store.openApprovalBatch(connector: "c")?.id == batch.id)
        var held = OutboxOperation(id: "op-1", connector: "c", reference: "r-1", recordID: "1", kind: .delete, rule: "*", cycle: at, createdAt: at)
        held.status = .awaitingApproval
        held.batch = batch.id
        try await store.write(connector: "c", RecordWrites(at: at, changes: [RecordChange(connector: "c", reference: "r-1", key: 1, state: LifecycleState(phase: .awaitingApproval), nextDue: nil, operations: [held])]))
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
                let previous = try #require(try Data.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = 3")).hexString
                let forged = AuditChain.hash(previous: previous, seq: 4, draft: AuditDraft(at: at, event: "forged", reference: "r-4", detail: ["n": "4"]))
                try db.execute(sql: "UPDATE audit SET event = 'forged', hash = ? WHERE seq = 4", arguments: [forged])
            }
        }
        let result = try await store.verifyAudit()
        #expect(result.ok == false)
        #expect(result.problem != nil)
    }
}
