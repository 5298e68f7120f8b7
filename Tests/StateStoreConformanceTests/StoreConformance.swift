import Foundation
import RetentionCore
@testable import RetentionStore
import Testing

/// The store checks, each a case: every store runs every one (`SQLiteStoreConformanceTests`,
/// `PostgresStoreConformanceTests`), so a new check reaches both at once.
enum StoreConformance: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case referencesArePseudonymousAndStable
    case writtenRecordsAreKnownInKeyOrderAndPagedOnce
    case outboxIgnoresDuplicateIDsAndTombstoneCancelsPending
    case stagedDeletesArePublishedOnlyWhenReleased
    case aRecordWrittenAgainAfterItsDestructionIsCountedAndAudited
    case aWrittenConsentFieldMovesTheLastSeenCopy
    case approvalReleasesExactlyTheBatch
    case aLargeBatchNeedsTwoOperatorsAndARejectionCancelsIt
    case holdsAreIdempotentAndAudited
    case auditChainVerifies
    case auditIsAppendOnlyThroughTheStore
    case auditReadsBackExactlyAsAppended
    case auditCheckpointsAreSignedAndCurrent
    case completionOfAnUnknownOperationChangesNothing
    case webhookEventsAreAcceptedOnceAndFinished
    case consentDecisionsAreRecordedOnce
    case disappearancesWaitInTheBatch
    case bulkWritesKeepEveryRecordAndOperation
    case alertMarksAreClaimedOnceAndSentWithTheirAuditEntry
    case rateBudgetIsSharedAndSpacesStarts
    case outboxClaimsAreDisjointLapseAndSkipDoneOperations

    var testDescription: String { rawValue }

    static let at = Date(timeIntervalSince1970: 1_800_000_000)

    func run(_ fixture: any StoreFixture) async throws {
        let store = fixture.store
        let at = Self.at
        func upsert(
            _ id: String, line: Int, state: LifecycleState = LifecycleState(phase: .active), operations: [OutboxOperation] = [], isNew: Bool = true
        ) -> RecordUpsert {
            RecordUpsert(
                key: store.fingerprints.key(connector: "c", id: id), reference: store.reference(connector: "c", recordID: id), recordID: id,
                digest: 42, facts: SourceFacts(dates: [at], purposes: 1, hasEmail: true), line: line, state: state,
                nextDue: at.addingTimeInterval(86_400), reason: nil, operations: operations, isNew: isNew)
        }
        switch self {
        case .referencesArePseudonymousAndStable:
            let first = store.reference(connector: "contacts", recordID: "C-1")
            #expect(first == store.reference(connector: "contacts", recordID: "C-1"))
            #expect(first != store.reference(connector: "other", recordID: "C-1"))
            #expect(!first.contains("C-1"))
            #expect(first.count == 22 && first.hasPrefix("r-"))
            #expect(RecordFingerprints.key(ofReference: first) == store.fingerprints.key(connector: "contacts", id: "C-1"), "the reference carries the key")
            let reopened = try await fixture.reopen()
            #expect(reopened.reference(connector: "contacts", recordID: "C-1") == first)
            #expect(reopened.operationIDs.make(connector: "c", recordID: "1", operation: PlannedOperation(kind: .delete, rule: "*", cycle: at))
                == store.operationIDs.make(connector: "c", recordID: "1", operation: PlannedOperation(kind: .delete, rule: "*", cycle: at)))
            await release(reopened)
            let elsewhere = try await fixture.another()
            #expect(elsewhere.reference(connector: "contacts", recordID: "C-1") != first, "the secret is per installation")
            await release(elsewhere)

        case .writtenRecordsAreKnownInKeyOrderAndPagedOnce:
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
            #expect(known.dues.allSatisfy { $0 == at.addingTimeInterval(86_400).timeIntervalSince1970 })
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
            let keys = [store.fingerprints.key(connector: "c", id: "id-1"), store.fingerprints.key(connector: "c", id: "nope")]
            #expect(try await store.records(connector: "c", keys: keys).values.map(\.recordID) == ["id-1"])
            #expect(try await store.records(connector: "other", keys: keys).isEmpty, "a key of another connector is not found")

        case .outboxIgnoresDuplicateIDsAndTombstoneCancelsPending:
            let ref = store.reference(connector: "c", recordID: "a")
            let notify = OutboxOperation(id: "op-n", connector: "c", reference: ref, recordID: "a", kind: .notify, rule: "marketing", cycle: at, createdAt: at)
            let delete = OutboxOperation(id: "op-d", connector: "c", reference: ref, recordID: "a", kind: .delete, rule: "*", cycle: at, createdAt: at)
            try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, state: LifecycleState(phase: .expiring), operations: [notify, delete])]))
            let key = store.fingerprints.key(connector: "c", id: "a")
            let change = RecordChange(connector: "c", reference: ref, key: key, state: LifecycleState(phase: .expiring), nextDue: nil, operations: [notify, delete])
            try await store.write(connector: "c", RecordWrites(at: at, changes: [change]))
            #expect(try await store.operations(connector: "c", statuses: [.pending]).map(\.id) == ["op-n", "op-d"], "in the order queued")
            let queued = try await store.auditEntries(after: 0, limit: 100).filter { $0.draft.event == "operation.queued" }
            #expect(queued.count == 2, "a re-queued id is not audited twice")

            try await store.complete(
                OperationCompletion(operationID: "op-d", status: .done, attempts: 1, effect: .tombstone(phase: .deleted),
                                    audit: [AuditDraft(at: at, event: "operation.done", connector: "c", reference: ref)])
            )
            #expect(try await store.operation(id: "op-n")?.status == .cancelled)
            #expect(try await store.operation(id: "op-d")?.status == .done)
            let tomb = try #require(try await store.record(connector: "c", reference: ref))
            #expect(tomb.recordID == nil && tomb.facts == nil && tomb.digest == nil)
            #expect(tomb.state?.phase == .deleted)
            #expect(try await store.recordPage(connector: "c", after: nil, limit: 10).isEmpty)
            let known = try await store.knownRecords(connector: "c")
            #expect(known.flags == [.deleted], "the tombstone keeps its key: a record that comes back is recognised")
            #expect(try await fixture.texts("SELECT COALESCE(record_id, '') FROM record_state") == [""], "no source id left in the tombstone")
            let events = try await store.auditEntries(after: 0, limit: 100).map(\.draft.event)
            #expect(events.suffix(2) == ["operation.done", "operation.cancelled"])
            let cancelled = try await store.auditEntries(after: 0, limit: 100).filter { $0.draft.event == "operation.cancelled" }
            #expect(cancelled.map(\.draft.operation) == ["op-n"])

            // A record whose delete is its only operation: the operation forgets the id too.
            let lone = OutboxOperation(
                id: "op-b", connector: "c", reference: store.reference(connector: "c", recordID: "b"), recordID: "b", kind: .delete, rule: "*",
                cycle: at, createdAt: at)
            try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("b", line: 3, state: LifecycleState(phase: .expiring), operations: [lone])]))
            try await store.complete(OperationCompletion(operationID: "op-b", status: .done, attempts: 1, effect: .tombstone(phase: .deleted), audit: []))
            #expect(try await fixture.texts("SELECT id FROM outbox WHERE record_id IS NOT NULL").isEmpty, "no operation keeps the id of a destroyed record")
            // A cancelled operation decided again is revived (queued and audited once more).
            try await store.write(connector: "c", RecordWrites(at: at, changes: [RecordChange(
                connector: "c", reference: ref, key: key, state: LifecycleState(phase: .expiring), nextDue: nil, operations: [notify])]))
            #expect(try await store.operation(id: "op-n")?.status == .pending)
            #expect(try await store.auditEntries(after: 0, limit: 100).filter { $0.draft.event == "operation.queued" }.count == 4)
            #expect(try await store.verifyAudit().ok)

        case .stagedDeletesArePublishedOnlyWhenReleased:
            let ref = store.reference(connector: "c", recordID: "a")
            var delete = OutboxOperation(id: "op-d", connector: "c", reference: ref, recordID: "a", kind: .delete, rule: "*", cycle: at, createdAt: at)
            delete.status = .staged
            delete.recordKey = store.fingerprints.key(connector: "c", id: "a")
            try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, operations: [delete])]))
            #expect(try await store.stagedDeletes(connector: "c") == 1)
            #expect(try await store.operations(connector: "c", statuses: [.pending]).isEmpty, "not executable before the safety check")
            #expect(try await store.auditEntries(after: 0, limit: 10).isEmpty, "not audited before it is decided")
            let batch = try await store.createApprovalBatch(connector: "c", at: at)
            #expect(batch.id == "c-1")
            #expect(try await store.releaseStaged(connector: "c", batch: batch.id, at: at) == 1)
            #expect(try await store.operation(id: "op-d")?.status == .awaitingApproval)
            #expect(try await store.record(connector: "c", reference: ref)?.state?.phase == .awaitingApproval)
            let events = try await store.auditEntries(after: 0, limit: 10).map(\.draft.event)
            #expect(events == ["approval.requested", "record.awaiting-approval", "operation.queued"])
            #expect(try await store.stagedDeletes(connector: "c") == 0)
            #expect(try await store.awaitingDeletes(connector: "c") == (1, "c-1"))
            // A dry run's staged operations are dropped.
            var other = delete
            other.id = "op-x"
            try await store.write(connector: "c", RecordWrites(at: at, changes: [RecordChange(
                connector: "c", reference: ref, key: delete.recordKey!, state: LifecycleState(phase: .expiring), nextDue: nil, operations: [other])]))
            try await store.discardStaged(connector: "c")
            #expect(try await store.operation(id: "op-x") == nil)

        case .aRecordWrittenAgainAfterItsDestructionIsCountedAndAudited:
            let ref = store.reference(connector: "c", recordID: "a")
            let key = store.fingerprints.key(connector: "c", id: "a")
            try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2)]))
            #expect(try await store.tombstone(connector: "c", keys: [key, key], phase: .deleted, at: at, via: "test") == 1)
            #expect(try await store.tombstone(connector: "c", keys: [key], phase: .deleted, at: at, via: "test") == 0, "only live records")
            #expect(try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, isNew: false)])) == 1)
            #expect(try await store.record(connector: "c", reference: ref)?.reappeared == 1)
            #expect(try await store.auditEntries(after: 0, limit: 10).map(\.draft.event) == ["record.deleted", "record.reappeared"])
            #expect(try await store.statusCounts().reappeared == ["c": 1])

        case .aWrittenConsentFieldMovesTheLastSeenCopy:
            // A consent value Lethe writes is not a change made in the source: the completion that records
            // the write also moves the state's last-seen copy, and leaves other fields' copies alone.
            let ref = store.reference(connector: "c", recordID: "a")
            let erase = OutboxOperation(id: "op-e", connector: "c", reference: ref, recordID: "a", kind: .eraseFields, rule: "marketing", cycle: at,
                                        fields: [ErasedField(field: "marketing_consent", value: "N"), ErasedField(field: "interests", value: "")], createdAt: at)
            let state = LifecycleState(phase: .active, consentSeen: ["marketing_consent": true, "sms_consent": true])
            try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, state: state, operations: [erase])]))
            #expect(try await store.operation(id: "op-e")?.fields == erase.fields)
            let facts = SourceFacts(dates: [at], purposes: 4, consents: 0, unerased: [0, 0, 0], hasEmail: true)
            try await store.complete(OperationCompletion(operationID: "op-e", status: .done, attempts: 1, effect: .fieldsChanged(erase.fields, facts: facts), audit: []))
            let after = try #require(try await store.record(connector: "c", reference: ref))
            #expect(after.facts == facts, "the facts as the write left them")
            #expect(after.digest == nil, "the row changed: read again at the next pull")
            #expect(after.state?.consentSeen == ["marketing_consent": false, "sms_consent": true])

        case .approvalReleasesExactlyTheBatch:
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
            #expect(try await store.approvalBatches().map(\.id) == [batch.id])
            await #expect(throws: StoreError.self) { try await store.approve(batch: batch.id, by: "kim", at: at) }
            await #expect(throws: StoreError.self) { try await store.approve(batch: "nope", by: "kim", at: at) }
            // Dead operations go back to pending only by command.
            try await store.complete(OperationCompletion(operationID: "op-1", status: .dead, attempts: 24, error: "gone wrong", audit: []))
            #expect(try await store.retryDead(ids: ["op-other"], by: "kim", at: at).isEmpty)
            #expect(try await store.retryDead(ids: nil, by: "kim", at: at) == ["op-1"])
            let retried = try await store.operation(id: "op-1")
            #expect(retried?.status == .pending && retried?.attempts == 0)

        case .aLargeBatchNeedsTwoOperatorsAndARejectionCancelsIt:
            let ref = store.reference(connector: "c", recordID: "a")
            let key = store.fingerprints.key(connector: "c", id: "a")
            try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2)]))
            let batch = try await store.createApprovalBatch(connector: "c", at: at)
            var held = OutboxOperation(id: "op-1", connector: "c", reference: ref, recordID: "a", kind: .delete, rule: "*", cycle: at, createdAt: at)
            held.status = .awaitingApproval
            held.batch = batch.id
            held.recordKey = key
            try await store.write(connector: "c", RecordWrites(at: at, changes: [RecordChange(
                connector: "c", reference: ref, key: key, state: LifecycleState(phase: .awaitingApproval), nextDue: nil, operations: [held])]))
            await #expect(throws: StoreError.self) { try await store.approve(batch: batch.id, as: .stated("kim"), twoPersonAbove: 0, at: at) }
            let first = try await store.approve(batch: batch.id, as: .authenticated("kim"), twoPersonAbove: 0, at: at)
            #expect(first.status == .open && first.signoffs.map(\.operatorName) == ["kim"])
            await #expect(throws: StoreError.self) { try await store.approve(batch: batch.id, as: .authenticated("kim"), twoPersonAbove: 0, at: at) }
            let second = try await store.approve(batch: batch.id, as: .authenticated("lee"), twoPersonAbove: 0, at: at)
            #expect(second.status == .approved && second.approvedBy == "kim, lee" && second.deletes == 1)
            #expect(try await store.operation(id: "op-1")?.status == .pending)
            // Another batch, rejected: its delete is cancelled and its record evaluated again.
            let other = try await store.createApprovalBatch(connector: "c", at: at)
            held.id = "op-2"
            held.batch = other.id
            try await store.write(connector: "c", RecordWrites(at: at, changes: [RecordChange(
                connector: "c", reference: ref, key: key, state: LifecycleState(phase: .awaitingApproval), nextDue: nil, operations: [held])]))
            await #expect(throws: StoreError.self) { try await store.reject(batch: other.id, by: "kim", reason: " \n", at: at) }
            let rejected = try await store.reject(batch: other.id, by: "kim", reason: "wrong export", at: at)
            #expect(rejected.status == .rejected && rejected.rejectionReason == "wrong export" && rejected.rejectedBy == "kim")
            #expect(try await store.operation(id: "op-2")?.status == .cancelled)
            let record = try await store.record(connector: "c", reference: ref)
            #expect(record?.state?.phase == .expiring && record?.nextDue == Date(timeIntervalSince1970: 0))
            await #expect(throws: StoreError.self) { try await store.reject(batch: other.id, by: "kim", reason: "again", at: at) }
            let events = try await store.auditEntries(after: 0, limit: 100).map(\.draft.event)
            #expect(events.filter { $0.hasPrefix("approval.") } == [
                "approval.requested", "approval.signed", "approval.granted", "approval.requested", "approval.rejected",
            ])
            #expect(try await store.verifyAudit().ok)

        case .holdsAreIdempotentAndAudited:
            #expect(try await store.addHold(connector: "c", reference: "r-1", reason: "litigation", by: "kim", at: at))
            #expect(try await store.addHold(connector: "c", reference: "r-1", reason: "litigation", by: "kim", at: at) == false)
            #expect(try await store.heldReferences(connector: "c") == ["r-1"])
            #expect(try await store.holds(connector: nil).map(\.reason) == ["litigation"])
            #expect(try await store.statusCounts().holds == 1)
            #expect(try await store.removeHold(connector: "c", reference: "r-1", reason: "case closed", by: "lee", at: at))
            #expect(try await store.removeHold(connector: "c", reference: "r-1", by: "kim", at: at) == false)
            #expect(try await store.heldReferences(connector: "c").isEmpty)
            #expect(try await store.addHold(connector: "c", reference: "r-2", reason: "audit", by: "kim", at: at))
            #expect(try await store.removeHold(connector: "c", reference: "r-2", by: "kim", at: at))
            let entries = try await store.auditEntries(after: 0, limit: 10).map(\.draft)
            #expect(entries.map(\.event) == ["hold.added", "hold.removed", "hold.added", "hold.removed"])
            #expect(entries[1].detail == ["operator": "lee", "reason": "case closed"], "who lifted it and why")
            #expect(entries[3].detail == ["operator": "kim"], "no reason given: none recorded")
            #expect(try await store.verifyAudit().ok)

        case .auditChainVerifies:
            try await store.appendAudit((1...5).map { AuditDraft(at: at, event: "e\($0)", detail: ["n": String($0)]) })
            let result = try await store.verifyAudit()
            #expect(result.ok)
            #expect(result.entries == 5)
            #expect(try await store.statusCounts().auditEntries == 5)

        case .auditIsAppendOnlyThroughTheStore:
            try await store.appendAudit([AuditDraft(at: at, event: "e1")])
            await #expect(throws: (any Error).self) { try await fixture.execute("UPDATE audit SET at = 0") }
            await #expect(throws: (any Error).self) { try await fixture.execute("DELETE FROM audit") }
            #expect(try await store.verifyAudit().ok)

        case .auditReadsBackExactlyAsAppended:
            // Every kind of value the compact columns hold: words, references and other text, timestamps,
            // control characters and non-ASCII; each entry hashes as the chain computes it.
            let drafts = [
                AuditDraft(at: at, event: "operation.queued", connector: "c", reference: "r-00112233445566778899", rule: "marketing",
                           operation: "op-0123456789abcdef01234567", detail: ["kind": "delete", "cycle": "2027-01-15T00:00:00Z", "batch": "c-1"]),
                AuditDraft(at: at.addingTimeInterval(0.5), event: "hold.added", connector: "연락처", reference: "r-1",
                           detail: ["reason": "소송\n\"quoted\"\t\u{1}", "operator": "kim"]),
                AuditDraft(at: at, event: "webhook.accepted", operation: "e-abc", detail: [:]),
            ]
            try await store.appendAudit(drafts)
            try await store.appendAudit([AuditDraft(at: at, event: "operation.queued", connector: "c", detail: ["kind": "notify"])])
            let entries = try await store.auditEntries(after: 0, limit: 10)
            #expect(entries.map(\.draft) == drafts + [AuditDraft(at: at, event: "operation.queued", connector: "c", detail: ["kind": "notify"])])
            var previous = AuditChain.genesis
            for entry in entries {
                #expect(entry.previousHash == previous)
                #expect(entry.hash == AuditChain.hash(previous: previous, seq: entry.seq, draft: entry.draft))
                previous = entry.hash
            }
            #expect(try await store.auditEntries(after: 2, limit: 1).first?.previousHash == entries[1].hash)
            #expect(try await store.verifyAudit() == AuditVerification(ok: true, entries: 4, headHash: previous, problem: nil))

        case .auditCheckpointsAreSignedAndCurrent:
            #expect(try await store.latestAuditCheckpoint() == nil)
            try await store.appendAudit([AuditDraft(at: at, event: "e1")])
            let key = try await store.auditPublicKey()
            #expect(try await store.auditPublicKey() == key, "created once")
            let checkpoint = try await store.appendAuditCheckpoint(at: at, unlessCurrent: true)
            #expect(checkpoint.seq == 1 && checkpoint.isSigned(by: key))
            #expect(try await store.appendAuditCheckpoint(at: at.addingTimeInterval(60), unlessCurrent: true) == checkpoint, "nothing happened since")
            #expect(try await store.latestAuditCheckpoint() == checkpoint)
            #expect(try await store.verifyAudit(against: [checkpoint]).ok)
            let reopened = try await fixture.reopen()
            #expect(try await reopened.auditPublicKey() == key, "kept in the state")
            await release(reopened)

        case .completionOfAnUnknownOperationChangesNothing:
            let ref = store.reference(connector: "c", recordID: "a")
            let notify = OutboxOperation(id: "op-n", connector: "c", reference: ref, recordID: "a", kind: .notify, rule: "m", cycle: at, createdAt: at)
            try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2, operations: [notify])]))
            let before = try await store.auditEntries(after: 0, limit: 100).count
            await #expect(throws: StoreError.self) {
                try await store.complete([
                    OperationCompletion(operationID: "op-n", status: .done, attempts: 1, audit: [AuditDraft(at: at, event: "operation.done")]),
                    OperationCompletion(operationID: "op-unknown", status: .done, attempts: 1, audit: []),
                ])
            }
            #expect(try await store.operation(id: "op-n")?.status == .pending, "one transaction: nothing recorded")
            #expect(try await store.auditEntries(after: 0, limit: 100).count == before)
            try await store.complete(OperationCompletion(
                operationID: "op-n", status: .pending, attempts: 1, nextAttemptAt: at.addingTimeInterval(30), error: "timeout", audit: []))
            let retrying = try await store.operation(id: "op-n")
            #expect(retrying?.attempts == 1 && retrying?.lastError == "timeout" && retrying?.nextAttemptAt == at.addingTimeInterval(30))
            #expect(try await store.operationStatuses(["op-n", "op-unknown"]) == ["op-n": .pending])

        case .webhookEventsAreAcceptedOnceAndFinished:
            let events = [WebhookEventDraft(eventID: "1", recordID: "a", deleted: false), WebhookEventDraft(eventID: "2", recordID: "b", deleted: true)]
            #expect(try await store.acceptWebhookEvents(connector: "c", events: events, at: at) == WebhookAcceptance(accepted: 2, replayed: 0))
            #expect(try await store.acceptWebhookEvents(connector: "c", events: events, at: at) == WebhookAcceptance(accepted: 0, replayed: 2))
            let pending = try await store.pendingWebhookEvents(connector: "c", limit: 10)
            #expect(pending.map(\.recordID) == ["a", "b"] && pending.map(\.deleted) == [false, true])
            #expect(!pending.contains { $0.eventID == "1" }, "event ids are kept as keyed digests")
            try await store.failWebhookEvents([pending[0].seq], error: "busy", retryAt: at.addingTimeInterval(60), at: at)
            #expect(try await store.pendingWebhookEvents(connector: "c", limit: 10, dueBy: at).map(\.recordID) == ["b"])
            try await store.failWebhookEvents([pending[1].seq], error: "broken", retryAt: nil, at: at)
            #expect(try await store.webhookEventCounts(connector: "c") == (1, 1))
            try await store.finishWebhookEvents([pending[0].seq], at: at)
            #expect(try await store.webhookEventCounts(connector: "c") == (0, 1))
            #expect(try await fixture.texts("SELECT record_id FROM webhook_events WHERE processed_at IS NOT NULL") == [""], "a processed event forgets its record")
            #expect(try await store.purgeWebhookEvents(processedBefore: at.addingTimeInterval(1)) == 1)
            #expect(try await store.auditEntries(after: 0, limit: 10).map(\.draft.event) == ["webhook.accepted", "webhook.dead"])
            try await store.setScheduleMark("c/full", startedAt: at)
            try await store.setScheduleMark("c/full", startedAt: at.addingTimeInterval(60))
            #expect(try await store.scheduleMarks() == ["c/full": at.addingTimeInterval(60)])
            try await store.setWatermark(connector: "c", value: "w1")
            #expect(try await store.watermark(connector: "c") == "w1")
            try await store.setWatermark(connector: "c", value: nil)
            #expect(try await store.watermark(connector: "c") == nil)
            let run = try await store.beginRun(connector: "c", asOf: at, dryRun: false)
            try await store.finishRun(run, summary: "{}")
            #expect(try await store.beginRun(connector: "c", asOf: at, dryRun: true) > run)

        case .consentDecisionsAreRecordedOnce:
            let ref = store.reference(connector: "c", recordID: "a")
            let key = store.fingerprints.key(connector: "c", id: "a")
            try await store.write(connector: "c", RecordWrites(at: at, upserts: [upsert("a", line: 2)]))
            let extend = OutboxOperation(id: "op-x", connector: "c", reference: ref, recordID: "a", kind: .extend, rule: "m", cycle: at, createdAt: at)
            let change = RecordChange(connector: "c", reference: ref, key: key, state: LifecycleState(phase: .active), nextDue: at, operations: [extend])
            #expect(try await store.recordConsentDecision(connector: "c", reference: ref, rule: "m", cycle: at, action: "extend", at: at, change: change))
            #expect(try await store.recordConsentDecision(connector: "c", reference: ref, rule: "m", cycle: at, action: "decline", at: at, change: nil) == false)
            #expect(try await store.consentDecision(connector: "c", reference: ref, rule: "m", cycle: at) == "extend")
            #expect(try await store.operation(id: "op-x")?.status == .pending)
            let later = at.addingTimeInterval(86_400)
            #expect(try await store.recordPendingConsentDecision(connector: "c", reference: ref, rule: "m", cycle: later, action: "decline", at: at))
            let waiting = try await store.pendingConsentDecisions(connector: "c")
            #expect(waiting.map(\.action) == ["decline"])
            #expect(try await store.applyConsentDecision(waiting[0], change: nil, at: at))
            #expect(try await store.applyConsentDecision(waiting[0], change: nil, at: at) == false)
            #expect(try await store.pendingConsentDecisions(connector: "c").isEmpty)
            #expect(try await store.auditEntries(after: 0, limit: 10).map(\.draft.event) == ["consent.extend", "operation.queued", "consent.decline"])

        case .disappearancesWaitInTheBatch:
            let keys = ["a", "b", "c"].map { store.fingerprints.key(connector: "c", id: $0) }
            try await store.write(connector: "c", RecordWrites(at: at, upserts: ["a", "b", "c"].enumerated().map { upsert($1, line: $0 + 2) }))
            let batch = try await store.createApprovalBatch(connector: "c", at: at)
            try await store.holdDisappearances(connector: "c", keys: keys, batch: batch.id, at: at)
            #expect(try await store.openApprovalBatch(connector: "c")?.missingRecords == 3)
            #expect(try await store.approvedDisappearances(connector: "c", stillMissing: keys).isEmpty, "not approved yet")
            _ = try await store.approve(batch: batch.id, by: "kim", at: at)
            #expect(try await store.approvedDisappearances(connector: "c", stillMissing: Array(keys.prefix(2))) == Set(keys.prefix(2)), "c came back")
            #expect(try await store.tombstone(connector: "c", keys: [keys[0]], phase: .gone, at: at, via: "sync") == 1)
            #expect(try await store.approvedDisappearances(connector: "c", stillMissing: Array(keys.prefix(2))) == [keys[1]])
            try await store.setReadingFingerprint(connector: "c", "f1")
            #expect(try await store.readingFingerprint(connector: "c") == "f1")
            #expect(try await store.knownRecords(connector: "c").flags.filter { $0.contains(.facts) }.isEmpty, "another reading forgets the facts")

        case .bulkWritesKeepEveryRecordAndOperation:
            // One sync's batch: thousands of records with operations, written in one transaction.
            let ids = (0..<3_000).map { "bulk-\($0)" }
            var upserts: [RecordUpsert] = []
            for (index, id) in ids.enumerated() {
                var delete = OutboxOperation(
                    id: store.operationIDs.make(connector: "c", recordID: id, operation: PlannedOperation(kind: .delete, rule: "*", cycle: at)),
                    connector: "c", reference: store.reference(connector: "c", recordID: id), recordID: id, kind: .delete, rule: "*", cycle: at,
                    status: .staged, createdAt: at)
                delete.recordKey = store.fingerprints.key(connector: "c", id: id)
                upserts.append(upsert(id, line: index + 2, operations: index % 3 == 0 ? [delete] : []))
            }
            try await store.write(connector: "c", RecordWrites(at: at, upserts: upserts))
            #expect(try await store.liveCounts(connector: "c") == (3_000, 3_000))
            #expect(try await store.stagedDeletes(connector: "c") == 1_000)
            #expect(try await store.releaseStaged(connector: "c", batch: nil, at: at) == 1_000)
            let pending = try await store.operations(connector: "c", statuses: [.pending])
            #expect(pending.count == 1_000)
            try await store.complete(pending.map {
                OperationCompletion(operationID: $0.id, status: .done, attempts: 1, effect: .tombstone(phase: .deleted),
                                    audit: [AuditDraft(at: at, event: "operation.done", connector: "c", reference: $0.reference, operation: $0.id)])
            })
            try await store.makeDurable()
            #expect(try await store.liveCounts(connector: "c") == (2_000, 2_000))
            let status = try await store.statusCounts()
            #expect(status.records["c"]?["deleted"] == 1_000 && status.operations["c"]?["delete/done"] == 1_000)
            #expect(try await store.verifyAudit().entries == 3_000, "1,000 phases, 1,000 queued, 1,000 done")

        case .alertMarksAreClaimedOnceAndSentWithTheirAuditEntry:
            try await Self.checkAlertMarks(fixture)

        case .rateBudgetIsSharedAndSpacesStarts:
            try await Self.checkRateBudget(fixture)

        case .outboxClaimsAreDisjointLapseAndSkipDoneOperations:
            try await Self.checkClaims(fixture)
        }
    }
}

@Suite struct SQLiteStoreConformanceTests {
    @Test(arguments: StoreConformance.allCases)
    func conforms(_ check: StoreConformance) async throws {
        try await check.run(on: .sqlite)
    }

    @Test(arguments: AuditTamper.allCases)
    func auditVerifyDetectsTampering(_ tamper: AuditTamper) async throws {
        try await StoreConformance.tampering(tamper, kind: .sqlite)
    }
}

@Suite(.enabled(if: PostgresFixture.serverURL != nil, PostgresFixture.skipReason))
struct PostgresStoreConformanceTests {
    @Test(arguments: StoreConformance.allCases)
    func conforms(_ check: StoreConformance) async throws {
        try await check.run(on: .postgres)
    }

    @Test(arguments: AuditTamper.allCases)
    func auditVerifyDetectsTampering(_ tamper: AuditTamper) async throws {
        try await StoreConformance.tampering(tamper, kind: .postgres)
    }
}

extension StoreConformance {
    /// Runs the check on a fresh store of `kind`, removed afterwards whatever the outcome.
    func run(on kind: StoreKind) async throws {
        let fixture = try await kind.make()
        do {
            try await run(fixture)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }

    /// Any change to the stored log is found by verification.
    static func tampering(_ tamper: AuditTamper, kind: StoreKind) async throws {
        let fixture = try await kind.make()
        do {
            try await fixture.store.appendAudit((1...4).map { AuditDraft(at: at, event: "e\($0)", reference: "r-\($0)", detail: ["n": String($0)]) })
            try await fixture.tamper(tamper)
            let result = try await fixture.store.verifyAudit()
            #expect(result.ok == false)
            #expect(result.problem != nil)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }
}
