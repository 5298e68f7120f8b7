import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// `syncRecords`: what a webhook triggers — only the named records are read, evaluated and acted on.
struct SyncRecordsTests {
    @Test func aChangedDueRecordIsDeletedAndNothingElseIsTouched() async throws {
        let harness = try SyncHarness([
            record(id: "kept", created: "2025-06-01", purpose: "payment", email: "kept@example.com"),
            record(id: "old", created: "2020-01-01", purpose: "payment", email: "old@example.com"),
        ])
        _ = try await harness.sync(at: "2024-01-01T09:00:00+09:00")   // mirror both while nothing is due
        // A new, already expired contact arrives, and "old" has become due meanwhile.
        await harness.crm.upsert(record(id: "new", created: "2019-05-01", purpose: "payment", email: "new@example.com"))
        let summary = try await harness.coordinator(at: asOf).syncRecords(harness.runtime, changed: ["new"], deleted: [])
        #expect(summary.pulled == 1)
        #expect(summary.deleted == 1)
        #expect(await harness.crm.record("new") == nil)
        #expect(await harness.crm.record("old") != nil, "records the webhook did not name wait for the next sync")
        #expect(await harness.crm.record("kept") != nil)
    }

    @Test func aDeletionEventLeavesATombstoneAndNoOperation() async throws {
        let harness = try SyncHarness([record(id: "a", created: "2025-06-01", purpose: "payment", email: "a@example.com")])
        _ = try await harness.sync(at: asOf)
        await harness.crm.remove(id: "a")
        let summary = try await harness.coordinator(at: asOf).syncRecords(harness.runtime, changed: ["a"], deleted: ["a"])
        #expect(summary.gone == 1)
        #expect(summary.deleted == 0)
        let stored = try await harness.store.record(connector: harness.runtime.name, reference: harness.store.reference(connector: harness.runtime.name, recordID: "a"))
        #expect(stored?.recordID == nil)
        #expect(stored?.state?.phase == .gone)
        let operations = try await harness.store.operations(connector: harness.runtime.name, statuses: Set(OperationStatus.allCases))
        #expect(operations.isEmpty)
    }

    @Test func aChangedRecordTheSourceNoLongerHasIsGone() async throws {
        let harness = try SyncHarness([record(id: "b", created: "2025-06-01", purpose: "payment", email: "b@example.com")])
        _ = try await harness.sync(at: asOf)
        await harness.crm.remove(id: "b")
        let summary = try await harness.coordinator(at: asOf).syncRecords(harness.runtime, changed: ["b"], deleted: [])
        #expect(summary.gone == 1 && summary.pulled == 0)
    }

    @Test func onlyTheAbsoluteSafetyLimitApplies() async throws {
        var harness = try SyncHarness((1...10).map { record(id: "k\($0)", created: "2025-06-01", purpose: "payment", email: "k\($0)@example.com") })
        harness.safety = .init(maxDeletesPerRun: 1, maxDeleteFraction: 1.0)
        _ = try await harness.sync(at: asOf)
        for id in ["x1", "x2"] { await harness.crm.upsert(record(id: id, created: "2019-01-01", purpose: "payment", email: "\(id)@example.com")) }
        let summary = try await harness.coordinator(at: asOf).syncRecords(harness.runtime, changed: ["x1", "x2"], deleted: [])
        #expect(summary.deleted == 0)
        #expect(summary.awaitingApproval == 2, "2 deletes > maxDeletesPerRun 1")
    }

    @Test func aShareOfTheMirrorDoesNotHoldAWebhooksDeletes() async throws {
        var harness = try SyncHarness([])
        harness.safety = .init(maxDeletesPerRun: 10, maxDeleteFraction: 0.2)
        await harness.crm.upsert(record(id: "x", created: "2019-01-01", purpose: "payment", email: "x@example.com"))
        let summary = try await harness.coordinator(at: asOf).syncRecords(harness.runtime, changed: ["x"], deleted: [])
        #expect(summary.deleted == 1, "1 of 1 records is 100% of the mirror, yet within maxDeletesPerRun")
    }

    @Test func webhookEventsAreAcceptedOnceAndProcessedInOrder() async throws {
        let harness = try SyncHarness([])
        let store = harness.store
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let first = try await store.acceptWebhookEvents(connector: "crm", events: [
            WebhookEventDraft(eventID: "e1", recordID: "1", deleted: false), WebhookEventDraft(eventID: "e2", recordID: "2", deleted: true),
        ], at: now)
        #expect(first == WebhookAcceptance(accepted: 2, replayed: 0))
        let replay = try await store.acceptWebhookEvents(connector: "crm", events: [WebhookEventDraft(eventID: "e1", recordID: "1", deleted: false)], at: now)
        #expect(replay == WebhookAcceptance(accepted: 0, replayed: 1))
        let other = try await store.acceptWebhookEvents(connector: "other", events: [WebhookEventDraft(eventID: "e1", recordID: "9", deleted: false)], at: now)
        #expect(other.accepted == 1, "event ids are per connector")
        let pending = try await store.pendingWebhookEvents(connector: "crm", limit: 10)
        #expect(pending.map(\.eventID) == ["e1", "e2"].map { store.webhookEventDigest(connector: "crm", eventID: $0) }, "kept as keyed digests")
        #expect(!pending.map(\.eventID).contains("e1"))
        #expect(pending.map(\.deleted) == [false, true])
        try await store.finishWebhookEvents([pending[0].seq], at: now)
        #expect(try await store.pendingWebhookEvents(connector: "crm", limit: 10).map(\.recordID) == ["2"])
        let audit = try await store.auditEntries(after: 0, limit: 100).filter { $0.draft.event == "webhook.accepted" }
        #expect(audit.count == 2, "a replay writes no audit entry")
        #expect(try await store.verifyAudit().ok)
    }
}
