import Foundation
import HTTPTypes
import HubServer
import Hummingbird
import HummingbirdTesting
import RetentionCore
import RetentionStore
import RetentionTesting
import Synchronization
import Testing

/// Several hub instances share one state: any of them accepts a webhook, and each accepted event is
/// processed once. An instance reads the events to process under the connector's run lock, so events
/// another instance processed while it waited for the lock are not processed again.
struct WebhookInstancesTests {
    /// A run lock the test opens: `acquire` says it is waiting, then waits for the gate.
    final class GatedLock: ConnectorRunLock {
        let waiting: AsyncStream<Void>
        private let signal: AsyncStream<Void>.Continuation
        private let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        private let opened = Mutex(false)

        init() { (waiting, signal) = AsyncStream.makeStream() }

        func acquire(connector: String, wait: Duration) async throws -> RunLease {
            signal.yield()
            await withCheckedContinuation { continuation in
                let open = opened.withLock { $0 }
                if open { continuation.resume() } else { gate.withLock { $0 = continuation } }
            }
            return RunLease(release: {})
        }

        func open() {
            opened.withLock { $0 = true }
            gate.withLock { $0 }?.resume()
        }
    }

    @Test func eventsAnotherInstanceProcessedWhileThisOneWaitedForTheLockAreNotProcessedAgain() async throws {
        let lock = GatedLock()
        let harness = try HubHarness([record(id: "a", created: "2019-01-01", purpose: "payment", email: "a@example.com")], runLock: lock)
        try await harness.test { client in
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: HubHarness.delivery([["id": "e1", "record": "a"]])) {
                #expect($0.status == .ok)
            }
        }
        let accepted = try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10, dueBy: .distantFuture)
        #expect(accepted.count == 1)

        let processing = Task { await harness.hub.processWebhookEvents() }
        var waits = lock.waiting.makeAsyncIterator()
        _ = await waits.next()
        // Meanwhile another instance, holding the lock, processed the event.
        try await harness.store.finishWebhookEvents(accepted.map(\.seq), at: Date())
        lock.open()
        await processing.value

        #expect(await harness.crm.readCalls == 0, "the record was not read again for an event already processed")
        #expect(await harness.crm.record("a") != nil)
        #expect(try await harness.store.webhookEventCounts(connector: "crm") == (0, 0))
    }

    @Test func eventsStillPendingOnceTheLockIsHeldAreProcessed() async throws {
        let lock = GatedLock()
        lock.open()
        let harness = try HubHarness([record(id: "a", created: "2019-01-01", purpose: "payment", email: "a@example.com")], runLock: lock)
        try await harness.test { client in
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: HubHarness.delivery([["id": "e1", "record": "a"]])) {
                #expect($0.status == .ok)
            }
        }
        await harness.hub.processWebhookEvents()
        #expect(await harness.crm.readCalls > 0, "read, then re-read before its delete")
        #expect(await harness.crm.record("a") == nil, "due since 2024: deleted once its event was processed")
        #expect(try await harness.store.webhookEventCounts(connector: "crm") == (0, 0))
    }
}
