import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

@Suite struct SyncCoordinatorTests {
    @Test func oneSyncDoesWhatThePolicySays() async throws {
        let harness = try SyncHarness(world)
        let summary = try await harness.sync(at: asOf)
        #expect(summary.pulled == 8)
        #expect(summary.quarantined == 4)
        #expect(Set(summary.quarantinedRows.map(\.code)) == ["future_created_at", "empty_id", "duplicate_id"])
        #expect(Set(summary.quarantinedRows.compactMap(\.line)) == [6, 7, 8, 9])
        #expect(summary.deleted == 1)
        #expect(summary.fieldsErased == 1)
        #expect(summary.noticesSent == 1)
        #expect(summary.failed == 0)

        #expect(await harness.crm.record("due") == nil)
        let erased = try #require(await harness.crm.record("erase"))
        #expect(erased.fields["interests"] == "")
        #expect(erased.fields["marketing_consent"] == "N")
        #expect(await harness.crm.record("twin") != nil, "quarantined rows are never changed")
        #expect(await harness.crm.record("future") != nil)
        let delivered = await harness.notices.delivered
        #expect(delivered.map(\.recipient) == ["notice@example.com"])
        #expect(delivered.first?.subject.contains("2026-12-15") == true)
    }

    @Test func aSecondSyncWithTheSameAsOfChangesNothing() async throws {
        let harness = try SyncHarness(world)
        _ = try await harness.sync(at: asOf)
        let auditBefore = try await harness.store.verifyAudit().entries
        let appliesBefore = await harness.crm.applyCalls
        let second = try await harness.sync(at: asOf)
        #expect(second.deleted == 0)
        #expect(second.fieldsErased == 0)
        #expect(second.noticesSent == 0)
        #expect(await harness.crm.applyCalls == appliesBefore)
        #expect(await harness.notices.deliverCalls == 1)
        #expect(try await harness.store.verifyAudit().entries == auditBefore)
    }

    @Test func dryRunQueuesNothingAndChangesNoSource() async throws {
        let harness = try SyncHarness(world)
        let summary = try await harness.sync(at: asOf, dryRun: true)
        #expect(summary.dryRun)
        #expect(summary.deleted == 1)
        #expect(summary.noticesSent == 1)
        #expect(await harness.crm.applyCalls == 0)
        #expect(await harness.notices.deliverCalls == 0)
        #expect(try await harness.store.operations(connector: "crm", statuses: Set(OperationStatus.allCases)).isEmpty)
        #expect(try await harness.store.recordPage(connector: "crm", after: nil, limit: 100).isEmpty, "the state is not changed either")
    }

    /// A dry run counts the deletes a sync would queue anew: all of them on a state where nothing was
    /// ever queued, none once they are queued (here waiting for approval).
    @Test func aDryRunCountsOnlyDeletesNotQueuedYet() async throws {
        let old = (1...4).map { record(id: "old-\($0)", created: "2019-01-0\($0)", purpose: "payment", line: $0 + 1) }
        var harness = try SyncHarness(old)
        harness.safety = .init(maxDeletesPerRun: 3, maxDeleteFraction: 1.0)
        let fresh = try await harness.sync(at: asOf, dryRun: true)
        #expect(fresh.awaitingApproval == 4 && fresh.deleted == 0)
        let first = try await harness.sync(at: asOf)
        #expect(first.awaitingApproval == 4)
        let again = try await harness.sync(at: asOf, dryRun: true)
        #expect(again.awaitingApproval == 0 && again.deleted == 0, "queued already: nothing new to count")
    }

    @Test func deletesOverTheLimitWaitForApprovalThenRunExactlyOnce() async throws {
        let old = (1...5).map { record(id: "old-\($0)", created: "2019-01-0\($0)", purpose: "payment", line: $0 + 1) }
        let young = (1...5).map { record(id: "young-\($0)", created: "2025-01-0\($0)", purpose: "payment", line: $0 + 10) }
        var harness = try SyncHarness(old + young)
        harness.safety = .init(maxDeletesPerRun: 3, maxDeleteFraction: 1.0)

        let first = try await harness.sync(at: asOf)
        #expect(first.deleted == 0)
        #expect(first.awaitingApproval == 5)
        let batch = try #require(first.approvalBatch)
        #expect(await harness.crm.deletedIDs.isEmpty)

        let again = try await harness.sync(at: asOf)
        #expect(again.approvalBatch == batch, "later runs reuse the open batch")
        #expect(try await harness.store.approvalBatches().count == 1)

        _ = try await harness.store.approve(batch: batch, by: "kim", at: date(asOf))
        let released = try await harness.sync(at: asOf)
        #expect(released.deleted == 5)
        #expect(released.awaitingApproval == 0)
        #expect(Set(await harness.crm.deletedIDs) == Set(old.map(\.id)))
        let done = try await harness.store.auditEntries(after: 0, limit: 1000).filter { $0.draft.event == "operation.done" }
        #expect(done.allSatisfy { $0.draft.detail["operator"] == "kim" })
    }

    @Test func fractionLimitIsStrictlyGreater() async throws {
        let records = (1...10).map { index in
            record(id: "r\(index)", created: index <= 2 ? "2019-01-01" : "2025-01-01", purpose: "payment", line: index + 1)
        }
        var harness = try SyncHarness(records)
        harness.safety = .init(maxDeletesPerRun: 1000, maxDeleteFraction: 0.2)
        let summary = try await harness.sync(at: asOf)
        #expect(summary.deleted == 2, "2 of 10 is not more than 20%")
        #expect(summary.awaitingApproval == 0)
    }

    @Test func heldRecordsGetNoOperation() async throws {
        let harness = try SyncHarness(world)
        let reference = harness.store.reference(connector: "crm", recordID: "due")
        _ = try await harness.store.addHold(connector: "crm", reference: reference, reason: "litigation", by: "kim", at: date(asOf))
        let summary = try await harness.sync(at: asOf)
        #expect(summary.deleted == 0)
        #expect(summary.held == 1)
        #expect(await harness.crm.record("due") != nil)
    }

    @Test func aDeleteIsReCheckedAgainstTheSourceBeforeItRuns() async throws {
        var harness = try SyncHarness([record(id: "a", created: "2019-01-01", purpose: "payment", line: 2),
                                       record(id: "b", created: "2019-01-01", purpose: "payment", line: 3)])
        harness.safety = .init(maxDeletesPerRun: 0, maxDeleteFraction: 1.0)
        let first = try await harness.sync(at: asOf)
        let batch = try #require(first.approvalBatch)
        // After the deletes were queued, someone corrects "a": it was collected recently after all.
        await harness.crm.upsert(record(id: "a", created: "2025-01-01", purpose: "payment", line: 2))
        _ = try await harness.store.approve(batch: batch, by: "kim", at: date(asOf))
        let second = try await harness.sync(at: asOf)
        #expect(second.deleted == 1)
        #expect(second.cancelled == 1)
        #expect(await harness.crm.record("a") != nil)
        #expect(await harness.crm.record("b") == nil)
    }

    @Test func transientFailuresAreRetriedAndPermanentOnesDeadLettered() async throws {
        let transient = try SyncHarness(world)
        await transient.crm.failNextApplies(2, with: ConnectorError(code: "http.503", message: "unavailable", isTransient: true))
        let recovered = try await transient.sync(at: asOf)
        #expect(recovered.failed == 0)
        #expect(recovered.deleted == 1)
        #expect(await transient.crm.record("due") == nil)

        let permanent = try SyncHarness(world)
        await permanent.crm.failNextApplies(1, with: ConnectorError(code: "http.400", message: "bad request", isTransient: false))
        let failed = try await permanent.sync(at: asOf)
        #expect(failed.failed == 2, "the erase and the delete of that one apply call")
        let dead = try await permanent.store.operations(connector: "crm", statuses: [.dead])
        #expect(dead.count == 2)
        #expect(dead.allSatisfy { $0.lastError == "bad request" })
    }

    @Test func aFailedPullEvaluatesNothing() async throws {
        let harness = try SyncHarness(world)
        await harness.crm.failPulls(with: ConnectorError(code: "io", message: "unreadable", isTransient: true), afterBatches: 0)
        await #expect(throws: ConnectorError.self) { try await harness.sync(at: asOf) }
        #expect(await harness.crm.applyCalls == 0)
        #expect(try await harness.store.operations(connector: "crm", statuses: Set(OperationStatus.allCases)).isEmpty)
    }

    @Test func destroyedRecordsLeaveOnlyATombstoneAndNoPersonalDataAnywhere() async throws {
        let harness = try SyncHarness(world)
        _ = try await harness.sync(at: asOf)
        let reference = harness.store.reference(connector: "crm", recordID: "due")
        let tombstone = try #require(try await harness.store.record(connector: "crm", reference: reference))
        #expect(tombstone.recordID == nil)
        #expect(tombstone.facts == nil && tombstone.digest == nil)
        #expect(tombstone.state?.phase == .deleted)
        #expect(!harness.logs.containsAny(of: personalData))
        let audit = try await harness.store.auditEntries(after: 0, limit: 1000)
        for entry in audit {
            let text = [entry.draft.event, entry.draft.reference ?? "", entry.draft.rule ?? ""] + entry.draft.detail.flatMap { [$0.key, $0.value] }
            #expect(!text.contains { value in personalData.contains { value.contains($0) } })
        }
        #expect(try await harness.store.verifyAudit().ok)
    }

    @Test func aVanishedRecordIsGoneNotDeleted() async throws {
        let harness = try SyncHarness(world)
        _ = try await harness.sync(at: asOf)
        await harness.crm.remove(id: "keep")
        let summary = try await harness.sync(at: asOf)
        #expect(summary.gone == 1)
        let reference = harness.store.reference(connector: "crm", recordID: "keep")
        #expect(try await harness.store.record(connector: "crm", reference: reference)?.state?.phase == .gone)
    }
}

/// A large run in small steps: the re-check reads a chunk of records at a time and completions are
/// recorded a chunk at a time; the outcome is the same as in one step.
struct ExecutionChunkTests {
    @Test func deletesRecheckedAndRecordedInChunksGiveTheSameOutcome() async throws {
        let old = (1...7).map { record(id: "old-\($0)", created: "2019-01-0\($0)", purpose: "payment", line: $0 + 1) }
        let young = (1...3).map { record(id: "young-\($0)", created: "2025-01-0\($0)", purpose: "payment", line: $0 + 10) }
        var harness = try SyncHarness(old + young)
        harness.safety = .init(maxDeletesPerRun: 1, maxDeleteFraction: 1.0)
        harness.chunks = ExecutionChunks(recheck: 2, completion: 3)
        let first = try await harness.sync(at: asOf)
        let batch = try #require(first.approvalBatch)
        // Between the decision and the approved delete, one record is renewed in the source (now young)
        // and one is deleted there: the re-check, in its third chunk of two, sees both.
        var renewed = old[4]
        renewed.fields["created_at"] = "2025-06-01"
        await harness.crm.upsert(renewed)
        await harness.crm.remove(id: old[5].id)
        _ = try await harness.store.approve(batch: batch, by: "kim", at: date(asOf))
        let readsBefore = await harness.crm.readCalls
        let released = try await harness.sync(at: asOf)
        #expect(await harness.crm.readCalls - readsBefore == 4, "7 deletes re-checked 2 at a time")
        #expect(released.deleted == 6, "5 deleted now, 1 already gone at the re-check")
        #expect(released.cancelled == 1)
        #expect(Set(await harness.crm.deletedIDs) == Set(old.map(\.id)).subtracting([old[4].id, old[5].id]))
        #expect(await harness.crm.record(old[4].id) != nil, "renewed: never deleted")
        let done = try await harness.store.auditEntries(after: 0, limit: 1000).filter { $0.draft.event == "operation.done" && $0.draft.detail["kind"] == "delete" }
        #expect(done.count == 6)
        #expect(try await harness.store.operations(connector: "crm", statuses: [.pending, .awaitingApproval]).isEmpty)
        #expect(try await harness.sync(at: asOf).deleted == 0, "nothing left to do")
    }
}
