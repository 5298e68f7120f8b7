import Foundation
import HTTPTypes
import HubServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import RetentionCore
import RetentionStore
import RetentionTesting
import Testing

/// Webhook events are claims: the source decides. A deletion is confirmed by re-reading the record,
/// the last event of a record wins, and a batch whose processing keeps failing is dead-lettered
/// instead of blocking its connector.
struct WebhookSafetyTests {
    func phase(_ harness: HubHarness, _ id: String) async throws -> RecordPhase? {
        try await harness.store.record(connector: "crm", reference: harness.store.reference(connector: "crm", recordID: id))?.state?.phase
    }

    @Test func aDeletionFollowedByARestoreInOneBatchKeepsTheRecordUnderEnforcement() async throws {
        let harness = try HubHarness([
            record(id: "kept", created: "2025-06-01", purpose: "payment", email: "kept@example.com"),
            record(id: "forged", created: "2025-06-01", purpose: "payment", email: "forged@example.com"),
            record(id: "really", created: "2025-06-01", purpose: "payment", email: "really@example.com"),
        ])
        _ = try await harness.hub.sync("crm", incremental: false)
        await harness.crm.remove(id: "really")
        try await harness.test { client in
            let delivery = HubHarness.delivery([
                ["id": "e1", "record": "kept", "deleted": true], ["id": "e2", "record": "kept", "deleted": false],
                ["id": "e3", "record": "forged", "deleted": true],
                ["id": "e4", "record": "really", "deleted": true],
            ])
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: delivery) { #expect($0.status == .ok) }
        }
        await harness.hub.processWebhookEvents()
        #expect(try await phase(harness, "kept") == .active, "restored after its deletion: the last event wins")
        #expect(try await phase(harness, "forged") == .active, "a deletion the source does not confirm changes nothing")
        #expect(try await phase(harness, "really") == .gone, "confirmed by the re-read: tombstoned")
        #expect(try await harness.store.webhookEventCounts(connector: "crm") == (0, 0))
    }

    @Test func eventsWhoseReReadFailsEveryTimeAreDeadLetteredAndTheConnectorGoesOn() async throws {
        let wall = SettableClock(Date())
        let harness = try HubHarness(
            [record(id: "a", created: "2025-06-01", purpose: "payment", email: "a@example.com")], wallClock: wall, webhookAttempts: 3)
        _ = try await harness.hub.sync("crm", incremental: false)
        await harness.crm.failReads(with: ConnectorError(code: "crm.down", message: "unavailable", isTransient: true))
        try await harness.test { client in
            let delivery = HubHarness.delivery([["id": "e1", "record": "a"], ["id": "e2", "record": "b", "deleted": true]])
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: delivery) { #expect($0.status == .ok) }
        }
        let runsBefore = harness.logs.entries.count
        await harness.hub.processWebhookEvents()
        #expect(try await harness.store.webhookEventCounts(connector: "crm") == (2, 0), "retried later, not at once")
        await harness.hub.processWebhookEvents()
        #expect(try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10, dueBy: wall.now()).isEmpty, "waiting for its backoff")
        for _ in 0..<2 {
            wall.advance(by: 600)
            await harness.hub.processWebhookEvents()
        }
        #expect(try await harness.store.webhookEventCounts(connector: "crm") == (0, 2), "dead-lettered after 3 attempts")
        #expect(harness.logs.entries.count - runsBefore < 40, "no tight retry loop")

        // The connector goes on: a new event is processed once the CRM answers again.
        await harness.crm.failReads(with: nil)
        await harness.crm.upsert(record(id: "c", created: "2019-01-01", purpose: "payment", email: "c@example.com"))
        try await harness.test { client in
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: HubHarness.delivery([["id": "e3", "record": "c"]]))
            try await client.execute(uri: "/api/status", method: .get, headers: AdminAPITests.bearer) { response in
                #expect((json(response)["deadWebhookEvents"] as? [String: Int])?["crm"] == 2)
            }
        }
        await harness.hub.processWebhookEvents()
        #expect(await harness.crm.record("c") == nil, "processed and enforced")
        #expect(try await harness.store.webhookEventCounts(connector: "crm") == (0, 2))
        try await harness.test { client in
            try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { response in
                #expect(String(buffer: response.body).contains(#"lethe_webhook_events_total{connector="crm",result="dead"} 2"#))
            }
        }
    }
}
