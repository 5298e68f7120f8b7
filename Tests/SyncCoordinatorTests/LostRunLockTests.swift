import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Synchronization
import Testing

/// A run whose lock broke while it went on (its database connection failed): it stops before it acts
/// on the source or a recipient, and the next run with a sound lock does the work once.
@Suite struct LostRunLockTests {
    /// Grants every lease; its leases report lost while `lost` is set.
    final class SwitchableLock: ConnectorRunLock {
        let lost = Mutex(false)
        func acquire(connector: String, wait: Duration) async throws -> RunLease {
            RunLease(release: {}, check: { [self] in
                if self.lost.withLock({ $0 }) { throw RunLockLost(connector: connector, reason: "its database connection closed") }
            })
        }
    }

    @Test func aRunWhoseLockWasLostStopsBeforeItsNextOperation() async throws {
        let harness = try SyncHarness(world)
        let lock = SwitchableLock()
        lock.lost.withLock { $0 = true }
        var coordinator = harness.coordinator(at: asOf)
        coordinator.runLock = lock
        let error = await #expect(throws: RunLockLost.self) { _ = try await coordinator.sync(harness.runtime) }
        #expect(error?.message == "the run lock of crm was lost (its database connection closed); the run stopped before its next operation")
        #expect(await harness.crm.record("due") != nil, "nothing is deleted after the lock is lost")
        #expect(await harness.notices.delivered.isEmpty, "no notice is sent after the lock is lost")

        lock.lost.withLock { $0 = false }
        let summary = try await coordinator.sync(harness.runtime)
        #expect(summary.deleted == 1, "the operations the stopped run queued are executed by the next one")
        #expect(await harness.crm.record("due") == nil)
    }
}
