import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// A writer that applies the operations at the CRM and then "crashes" before Lethe can record it.
struct CrashAfterApply: RecordWriter {
    let crm: InMemoryCRM
    let crashes: Counter

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var remaining: Int
        init(_ remaining: Int) { self.remaining = remaining }
        func take() -> Bool { lock.withLock { defer { remaining -= 1 }; return remaining > 0 } }
    }

    struct Crash: Error {}

    func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome] {
        let outcomes = try await crm.apply(operations)
        if crashes.take() { throw Crash() }
        return outcomes
    }
}

@Suite struct SyncRecoveryTests {
    @Test func aCrashAfterTheSourceChangedFinishesExactlyOnceInEffect() async throws {
        let harness = try SyncHarness(world)
        let writer = CrashAfterApply(crm: harness.crm, crashes: .init(1))
        var runtime = harness.runtime
        runtime.writer = writer
        let summary = try await harness.coordinator(at: asOf).sync(runtime)
        #expect(summary.failed == 0)
        #expect(summary.deleted == 1)
        #expect(summary.fieldsErased == 1)
        #expect(await harness.crm.deletedIDs == ["due"], "deleted once at the source")
        let again = try await harness.sync(at: asOf)
        #expect(again.deleted == 0)
        #expect(again.fieldsErased == 0)
        #expect(try await harness.store.verifyAudit().ok)
    }

    @Test func archiveThenDeleteCopiesBeforeItDeletes() async throws {
        var harness = try SyncHarness(world)
        harness.policy.action = .archiveThenDelete
        let summary = try await harness.sync(at: asOf)
        #expect(summary.archived == 1)
        #expect(summary.deleted == 1)
        let entries = await harness.archive.entries
        #expect(entries.map(\.recordID) == ["due"])
        #expect(entries.first?.fields["email"] == "due@example.com")
        #expect(await harness.crm.record("due") == nil)
    }

    @Test func aFailingArchiveBlocksTheDelete() async throws {
        var harness = try SyncHarness(world)
        harness.policy.action = .archiveThenDelete
        await harness.archive.failNextArchives(100, with: ConnectorError(code: "disk", message: "disk full", isTransient: false))
        let summary = try await harness.sync(at: asOf)
        #expect(summary.archived == 0)
        #expect(summary.deleted == 0)
        #expect(summary.failed == 2, "the archive copy and the delete it protects")
        #expect(await harness.crm.record("due") != nil, "nothing is deleted without its separated copy")
    }

    @Test func aNoticeIsNotSentTwiceAfterARetry() async throws {
        let harness = try SyncHarness(world)
        await harness.notices.failNextDeliveries(1, with: ConnectorError(code: "smtp.421", message: "try later", isTransient: true))
        let summary = try await harness.sync(at: asOf)
        #expect(summary.noticesSent == 1)
        #expect(await harness.notices.delivered.count == 1)
    }
}

@Suite struct HoldAndRetryTests {
    @Test func aHoldAfterApprovalCancelsAndLiftingItDeletesLater() async throws {
        var harness = try SyncHarness([record(id: "a", created: "2019-01-01", purpose: "payment", line: 2)])
        harness.safety = .init(maxDeletesPerRun: 0, maxDeleteFraction: 1.0)
        let batch = try #require(try await harness.sync(at: asOf).approvalBatch)
        _ = try await harness.store.approve(batch: batch, by: "kim", at: date(asOf))
        let reference = harness.store.reference(connector: "crm", recordID: "a")
        _ = try await harness.store.addHold(connector: "crm", reference: reference, reason: "litigation", by: "kim", at: date(asOf))
        let held = try await harness.sync(at: asOf)
        #expect(held.deleted == 0)
        #expect(await harness.crm.record("a") != nil)

        _ = try await harness.store.removeHold(connector: "crm", reference: reference, by: "kim", at: date(asOf))
        harness.safety = .init(maxDeletesPerRun: 10, maxDeleteFraction: 1.0)
        let lifted = try await harness.sync(at: asOf)
        #expect(lifted.deleted == 1, "the cancelled operation is revived by the next decision")
        #expect(await harness.crm.record("a") == nil)
    }

    @Test func deadOperationsCanBeRetried() async throws {
        let harness = try SyncHarness(world)
        await harness.crm.failNextApplies(1, with: ConnectorError(code: "http.400", message: "bad request", isTransient: false))
        let failed = try await harness.sync(at: asOf)
        #expect(failed.failed == 2)
        let retried = try await harness.store.retryDead(ids: nil, by: "kim", at: date(asOf))
        #expect(retried.count == 2)
        let again = try await harness.sync(at: asOf)
        #expect(again.failed == 0)
        #expect(again.deleted == 1)
        #expect(again.fieldsErased == 1)
        #expect(try await harness.store.retryDead(ids: nil, by: "kim", at: date(asOf)).isEmpty)
    }
}

/// A writer that applies the operations at the CRM and then the process "dies" (the sync is cancelled
/// before Lethe records anything).
struct DieAfterApply: RecordWriter {
    let crm: InMemoryCRM
    func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome] {
        _ = try await crm.apply(operations)
        throw CancellationError()
    }
}

@Suite struct CrashRestartTests {
    @Test func aDeleteThatReachedTheSourceBeforeACrashIsRecordedAsDoneOnRestart() async throws {
        let harness = try SyncHarness(world)
        var dying = harness.runtime
        dying.writer = DieAfterApply(crm: harness.crm)
        await #expect(throws: CancellationError.self) { try await harness.coordinator(at: asOf).sync(dying) }
        #expect(await harness.crm.record("due") == nil, "the source was changed before the crash")
        #expect(try await harness.store.operations(connector: "crm", statuses: [.pending]).count == 2)

        let restarted = try await harness.sync(at: asOf)
        #expect(restarted.deleted == 1)
        #expect(restarted.fieldsErased == 1)
        #expect(restarted.gone == 0, "Lethe's own delete is not mistaken for a vanished record")
        #expect(await harness.crm.deletedIDs == ["due"], "deleted exactly once at the source")
        let done = try await harness.store.auditEntries(after: 0, limit: 1000)
            .filter { $0.draft.event == "operation.done" && $0.draft.detail["kind"] == "delete" }
        #expect(done.count == 1, "the destruction is in the register")
        let again = try await harness.sync(at: asOf)
        #expect(again.deleted == 0 && again.fieldsErased == 0 && again.noticesSent == 0)
    }
}
