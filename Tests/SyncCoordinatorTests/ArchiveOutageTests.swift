import Foundation
import RetentionCore
import RetentionTesting
import SyncCoordinator
import Testing

/// An archive that keeps failing for a while (a full disk, an unmounted share): the deletes it
/// protects wait, and the run ends at its deadline instead of spinning on them.
@Suite struct ArchiveOutageTests {
    // Before the fix the first sync never returned: the time limit is what catches it.
    @Test(.timeLimit(.minutes(3)))
    func deletesWaitingOnAFailingArchiveLeaveTheRunToEnd() async throws {
        var harness = try SyncHarness(world)
        harness.policy.action = .archiveThenDelete
        // As shipped: more attempts across runs (24) than one run makes (5).
        harness.retry = RetryPolicy(maxAttempts: 24, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), runDeadline: .seconds(5))
        await harness.archive.failNextArchives(10_000, with: ConnectorError(code: "archive.io", message: "no space left on device", isTransient: true))
        let summary = try await harness.sync(at: asOf)
        #expect(summary.archived == 0)
        #expect(summary.deleted == 0)
        #expect(summary.failed == 0, "a transient failure dead-letters nothing")
        #expect(summary.pending == 2, "the archive copy and the delete it protects wait for the next run")
        #expect(await harness.crm.record("due") != nil, "nothing is deleted without its separated copy")
        #expect(await harness.archive.archiveCalls <= 5, "one run tries the copy at most attemptsPerRun times")

        await harness.archive.failNextArchives(0, with: ConnectorError(code: "archive.io", message: "", isTransient: true))
        let resumed = try await harness.sync(at: asOf)
        #expect(resumed.archived == 1)
        #expect(resumed.deleted == 1)
        #expect(resumed.pending == 0)
        #expect(await harness.crm.record("due") == nil)
    }
}
