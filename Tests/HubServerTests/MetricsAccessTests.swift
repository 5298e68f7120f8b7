import Foundation
import HTTPTypes
import HubServer
import Hummingbird
import HummingbirdTesting
import RetentionCore
import RetentionTesting
import Testing

/// `/metrics` shows connector names and counts: it is served only behind its own bearer token, and
/// scrapes cost the store at most one round of count queries per 30 seconds.
struct MetricsAccessTests {
    @Test func withoutAConfiguredTokenMetricsIsNotServed() async throws {
        let harness = try HubHarness(metricsToken: nil)
        try await harness.test { client in
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { #expect($0.status == .notFound) }
        }
        #expect(await harness.hub.metrics.refreshes == 0, "no store query for a refused scrape")
    }

    @Test func aScrapeWithoutTheTokenIs401AndShowsNothing() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong-token-wrong-token-wrong-token"], [.authorization: "Basic eDp5"]] {
                try await client.execute(uri: "/metrics", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    #expect(!String(buffer: response.body).contains("lethe_records"), "no metric in the answer")
                }
            }
            try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { #expect($0.status == .ok) }
        }
    }

    @Test func everyFamilyIsPresentFromTheFirstScrape() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { response in
                let text = String(buffer: response.body)
                for family in [
                    "lethe_webhook_deliveries_total", "lethe_webhook_events_total", "lethe_syncs_total", "lethe_sync_duration_seconds",
                    "lethe_operations_total", "lethe_records", "lethe_outbox_operations", "lethe_records_missing_awaiting_approval",
                    "lethe_records_reappeared", "lethe_overdue_destructions",
                ] {
                    #expect(text.contains("# TYPE \(family) "), "\(family) is present before anything happened")
                }
                #expect(text.contains(#"lethe_overdue_destructions{connector="plain"} 0"#))
            }
        }
    }

    @Test func scrapesWithin30SecondsRunNoStoreQuery() async throws {
        let clock = SettableClock(Date(timeIntervalSince1970: 1_800_000_000))
        let harness = try HubHarness([SourceRecord(id: "a", fields: ["created_at": "2020-01-01", "purpose": "marketing"])], wallClock: clock)
        _ = try await harness.hub.sync("crm", incremental: false)
        try await harness.test { client in
            for _ in 0..<5 {
                try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { #expect($0.status == .ok) }
            }
            #expect(await harness.hub.metrics.refreshes == 1, "five scrapes, one refresh")
            clock.advance(by: 29)
            try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { _ in }
            #expect(await harness.hub.metrics.refreshes == 1)
            clock.advance(by: 2)
            try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { response in
                #expect(String(buffer: response.body).contains(#"lethe_records{connector="crm""#))
            }
            #expect(await harness.hub.metrics.refreshes == 2, "refreshed once 30 s passed")
        }
    }

    @Test func concurrentScrapesShareOneRefresh() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { #expect($0.status == .ok) }
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(await harness.hub.metrics.refreshes == 1)
    }
}
