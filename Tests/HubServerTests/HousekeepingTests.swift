import Foundation
import HubServer
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// The daemon's upkeep runs as soon as it starts (and hourly after): processed webhook events past
/// their period are forgotten and the hub's housekeeping (the archive's retention) runs.
struct HousekeepingTests {
    actor Counter {
        var value = 0
        func increment() { value += 1 }
    }

    @Test func theProcessorPurgesOldEventsAndRunsTheHousekeepingAtStart() async throws {
        let harness = try HubHarness()
        let store = harness.store
        let old = Date().addingTimeInterval(-8 * 86_400)
        _ = try await store.acceptWebhookEvents(connector: "crm", events: [WebhookEventDraft(eventID: "old", recordID: "1", deleted: false)], at: old)
        let pending = try await store.pendingWebhookEvents(connector: "crm", limit: 10, dueBy: Date())
        try await store.finishWebhookEvents(pending.map(\.seq), at: old)
        let runs = Counter()
        let hub = Hub(
            configuration: HubConfiguration(), store: store, coordinator: harness.hub.coordinator, connectors: [], clock: SystemClock(),
            log: { _, _, _ in }, housekeeping: { await runs.increment() })
        let processor = Task { try await WebhookProcessor(hub: hub, interval: .milliseconds(50)).run() }
        defer { processor.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        while await runs.value == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        processor.cancel()
        #expect(await runs.value == 1, "once at start, then hourly")
        // The 8-day-old processed event is gone: a delivery of the same id is new again.
        let again = try await store.acceptWebhookEvents(connector: "crm", events: [WebhookEventDraft(eventID: "old", recordID: "1", deleted: false)], at: Date())
        #expect(again.accepted == 1)
    }
}
