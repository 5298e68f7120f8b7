import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// Every sync that writes ends with a signed checkpoint of the audit head, whoever runs it (the CLI,
/// the daemon's scheduler, a webhook pass).
@Suite struct SyncCheckpointTests {
    @Test func aSyncEndsWithACheckpointOfEverythingItAudited() async throws {
        let harness = try SyncHarness(world)
        _ = try await harness.sync(at: asOf)
        let entries = try await harness.store.auditEntries(after: 0, limit: 1000)
        let last = try #require(entries.last)
        #expect(last.draft.event == "audit.checkpoint")
        let checkpoint = try #require(try await harness.store.latestAuditCheckpoint())
        #expect(checkpoint.seq == last.seq - 1)
        #expect(checkpoint.hash == entries[entries.count - 2].hash)
        #expect(checkpoint.isSigned(by: try await harness.store.auditPublicKey()))
        #expect(try await harness.store.verifyAudit(against: [checkpoint]).ok)
        #expect(entries.filter { $0.draft.event == "audit.checkpoint" }.count == 1, "one checkpoint per run")
    }

    @Test func aRunThatAuditsNothingAddsNoCheckpointAndADryRunNone() async throws {
        let harness = try SyncHarness(world)
        _ = try await harness.sync(at: asOf, dryRun: true)
        #expect(try await harness.store.latestAuditCheckpoint() == nil)
        _ = try await harness.sync(at: asOf)
        let first = try await harness.store.latestAuditCheckpoint()
        let count = try await harness.store.verifyAudit().entries
        _ = try await harness.sync(at: asOf)
        #expect(try await harness.store.verifyAudit().entries == count)
        #expect(try await harness.store.latestAuditCheckpoint() == first)
    }

    @Test func aWebhookPassEndsWithACheckpoint() async throws {
        let harness = try SyncHarness(world)
        _ = try await harness.sync(at: asOf)
        let before = try #require(try await harness.store.latestAuditCheckpoint())
        await harness.crm.upsert(record(id: "late", created: "2021-01-10", purpose: "payment", email: "late@example.com", line: 10))
        let summary = try await harness.coordinator(at: asOf).syncRecords(harness.runtime, changed: ["late"], deleted: [])
        #expect(summary.deleted == 1)
        let after = try #require(try await harness.store.latestAuditCheckpoint())
        #expect(after.seq > before.seq)
        #expect(try await harness.store.verifyAudit(against: [before, after]).ok)
    }
}
