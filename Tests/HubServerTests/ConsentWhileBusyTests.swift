import Foundation
import HTTPTypes
import HubServer
import Hummingbird
import HummingbirdTesting
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// A customer who answers while a sync runs is answered at once: the decision is recorded now and
/// applied (written back) when the connector is free; a reused link is refused without waiting.
struct ConsentWhileBusyTests {
    @Test func aDecisionMadeDuringASyncIsRecordedAtOnceAndAppliedWhenTheConnectorIsFree() async throws {
        let harness = try HubHarness([ConsentLinkTests.contact])
        let (extend, _) = try await ConsentLinkTests.links(harness)
        try await harness.hub.locks.withLock("crm") {
            // The connector is busy (a sync holds it): the answer does not wait for it.
            try await harness.test { client in
                try await client.execute(uri: extend + "?lang=en", method: .post) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("kept until 2028-11-29"))
                }
                try await client.execute(uri: extend, method: .post) { #expect($0.status == .conflict, "the decision is recorded") }
            }
            #expect(await harness.crm.record("m1")?.fields["consent_extended_at"] == nil, "not written while the sync runs")
            #expect(try await harness.store.pendingConsentDecisions(connector: "crm").count == 1)
        }
        await harness.hub.applyPendingConsents()
        let written = await harness.crm.record("m1")
        #expect(written?.fields["consent_extended_at"] == "2026-11-29T09:00:00+09:00", "written with the decision's date")
        #expect(written?.fields["marketing_consent"] == "Y")
        #expect(try await harness.store.pendingConsentDecisions(connector: "crm").isEmpty)
        await harness.hub.applyPendingConsents()
        let audit = try await harness.store.auditEntries(after: 0, limit: 1000).map(\.draft)
        #expect(audit.filter { $0.event == "consent.extend" }.count == 1, "one decision in the audit log")
        #expect(audit.filter { $0.event == "operation.done" && $0.detail["kind"] == "extend" }.count == 1, "applied once")
    }

    @Test func theNextSyncAppliesDecisionsRecordedWhileItWasBusy() async throws {
        let harness = try HubHarness([ConsentLinkTests.contact])
        let (extend, _) = try await ConsentLinkTests.links(harness)
        try await harness.hub.locks.withLock("crm") {
            try await harness.test { client in
                try await client.execute(uri: extend, method: .post) { #expect($0.status == .ok) }
            }
        }
        let later = try HubHarness.at("2026-12-21T09:00:00+09:00", sharing: harness)
        let summary = try #require(try await later.hub.sync("crm", incremental: false))
        #expect(summary.deleted == 0 && summary.fieldsErased == 0, "the extension counted before the evaluation")
        #expect(await harness.crm.record("m1")?.fields["consent_extended_at"] == "2026-11-29T09:00:00+09:00")
    }
}
