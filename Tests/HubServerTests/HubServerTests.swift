import Foundation
import HTTPTypes
import HubServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// A hub over a fresh store and an in-memory CRM; its webhook endpoint accepts the header
/// `X-Test-Signature: good` and bodies `[{"id": "...", "record": "...", "deleted": false}]`.
struct HubHarness {
    let crm: InMemoryCRM
    let store: SQLiteStateStore
    let logs = LogCapture()
    let notices: RecordingNoticeSink
    let links: ConsentLinkSigner
    let hub: Hub

    init(_ records: [SourceRecord] = [], adminToken: String? = "admin-secret", bodyLimit: Int = 4096,
         safety: ConnectorRuntime.Safety = .init(maxDeletesPerRun: 1000, maxDeleteFraction: 1.0), now: String = "2026-11-29T09:00:00+09:00", policy: Policy = .krPIPA,
         wallClock: any LetheClock = SystemClock(), webhookAttempts: Int = 8, metricsToken: String? = HubHarness.metricsToken,
         runLock: (any ConnectorRunLock)? = nil) throws {
        crm = InMemoryCRM(records)
        let notices = RecordingNoticeSink()
        let links = ConsentLinkSigner(secret: Data(repeating: 7, count: 32), baseURL: "https://lethe.example.com")
        self.notices = notices
        self.links = links
        store = try SQLiteStateStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("lethe-hub-\(UUID().uuidString)/lethe.sqlite"))
        let clock = FixedClock(date(now))
        var coordinator = SyncCoordinator(
            store: store, sinks: SinkSet(notices: notices, archive: nil, sender: "privacy@example.org", renderer: NoticeRenderer(templatesDirectory: nil), links: links),
            clock: clock, log: logs.log, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), runDeadline: .seconds(5)))
        coordinator.runLock = runLock
        let runtime = ConnectorRuntime(name: "crm", policy: policy, safety: safety, source: crm, writer: crm)
        let endpoint = WebhookEndpoint(
            verify: { _, _, headers, _, _ in
                guard let signature = headers.first(where: { $0.name.lowercased() == "x-test-signature" })?.value else { return "missing_signature" }
                return signature == "good" ? nil : "bad_signature"
            },
            events: { body in
                guard let items = try JSONSerialization.jsonObject(with: body) as? [[String: Any]] else { throw CocoaError(.coderReadCorrupt) }
                return try items.map { item in
                    guard let id = item["id"] as? String, let record = item["record"] as? String else { throw CocoaError(.coderReadCorrupt) }
                    return WebhookEventDraft(eventID: id, recordID: record, deleted: item["deleted"] as? Bool ?? false)
                }
            })
        hub = Hub(
            configuration: HubConfiguration(
                port: 8080, publicURL: "https://lethe.example.com", adminToken: adminToken, webhookBodyLimit: bodyLimit, webhookAttempts: webhookAttempts,
                metricsToken: metricsToken),
            store: store, coordinator: coordinator,
            connectors: [HubConnector(runtime: runtime, webhook: endpoint), HubConnector(runtime: ConnectorRuntime(name: "plain", policy: .krPIPA, safety: safety, source: InMemoryCRM([]), writer: nil))],
            clock: clock, wallClock: wallClock, log: logs.log, consentLinks: links)
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: hub.router()).test(.router, body)
    }

    static func delivery(_ events: [[String: Any]]) -> ByteBuffer {
        ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: events))
    }

    static let metricsToken = "metrics-token-for-the-hub-tests-0123456789"
    static let scrape: HTTPFields = [.authorization: "Bearer \(metricsToken)"]

    static let signed: HTTPFields = [.init("X-Test-Signature")!: "good", .contentType: "application/json"]
}

func json(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
}

struct HealthAndMetricsTests {
    @Test func healthReadyAndMetrics() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(json(response)["status"] as? String == "ready")
            }
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: HubHarness.delivery([["id": "e1", "record": "r1"]]))
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: [.init("X-Test-Signature")!: "bad"], body: HubHarness.delivery([]))
            try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#"lethe_webhook_deliveries_total{connector="crm",result="accepted",reason="ok"} 1"#))
                #expect(text.contains(#"lethe_webhook_deliveries_total{connector="crm",result="rejected",reason="bad_signature"} 1"#))
                #expect(text.contains("lethe_overdue_destructions"))
                for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                    #expect(line.hasPrefix("lethe_"), "every metric is prefixed lethe_: \(line)")
                }
            }
        }
    }
}

struct WebhookIntakeRouteTests {
    @Test func anUnknownConnectorIs404AndPersistsNothing() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            for uri in ["/webhooks/nope", "/webhooks/plain"] {
                try await client.execute(uri: uri, method: .post, headers: HubHarness.signed, body: HubHarness.delivery([["id": "e1", "record": "r1"]])) { response in
                    #expect(response.status == .notFound)
                    #expect(json(response)["error"] as? String == "unknown_connector")
                }
            }
        }
        #expect(try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10).isEmpty)
    }

    @Test func aBadOrMissingSignatureIs401AndPersistsNothing() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: [.init("X-Test-Signature")!: "forged"], body: HubHarness.delivery([["id": "e1", "record": "r1"]])) { response in
                #expect(response.status == .unauthorized)
                #expect(json(response)["error"] as? String == "bad_signature")
            }
            try await client.execute(uri: "/webhooks/crm", method: .post, body: HubHarness.delivery([["id": "e1", "record": "r1"]])) { response in
                #expect(response.status == .unauthorized)
                #expect(json(response)["error"] as? String == "missing_signature")
            }
        }
        #expect(try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10).isEmpty)
    }

    @Test func malformedJSONIs400AndTooLargeIs413() async throws {
        let harness = try HubHarness(bodyLimit: 64)
        try await harness.test { client in
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: ByteBuffer(string: "{not json")) { response in
                #expect(response.status == .badRequest)
                #expect(json(response)["error"] as? String == "malformed")
            }
            let big = HubHarness.delivery((1...20).map { ["id": "e\($0)", "record": "r\($0)"] })
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: big) { response in
                #expect(response.status == .contentTooLarge)
                #expect(json(response)["error"] as? String == "too_large")
            }
        }
        #expect(try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10).isEmpty)
    }

    @Test func anAcceptedDeliveryIsDurableBeforeTheAnswerAndAReplayChangesNothing() async throws {
        let harness = try HubHarness()
        let delivery = HubHarness.delivery([["id": "e1", "record": "r1"], ["id": "e2", "record": "r2", "deleted": true]])
        try await harness.test { client in
            let response = try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: delivery)
            #expect(response.status == .ok)
            #expect(json(response)["accepted"] as? Int == 2)
            // Durable when the answer is given.
            let pending = try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10)
            #expect(pending.count == 2)
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: delivery) { response in
                #expect(response.status == .ok)
                #expect(json(response)["accepted"] as? Int == 0)
                #expect(json(response)["replayed"] as? Int == 2)
            }
        }
        #expect(try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10).count == 2)
        #expect(try await harness.store.webhookEventCounts(connector: "crm").pending == 2)
        let first = try #require(try await harness.store.pendingWebhookEvents(connector: "crm", limit: 1).first)
        try await harness.store.finishWebhookEvents([first.seq], at: date("2026-11-29"))
        #expect(try await harness.store.webhookEventCounts(connector: "crm").pending == 1)
        #expect(try await harness.store.webhookEventCounts(connector: "plain").pending == 0)
    }

    @Test func aCreationWebhookForAnExpiredContactLeadsToItsDeletion() async throws {
        let harness = try HubHarness([record(id: "old", created: "2025-06-01", purpose: "payment", email: "old@example.com")])
        _ = try await harness.hub.sync("crm", incremental: false)
        await harness.crm.upsert(record(id: "new", created: "2019-01-01", purpose: "payment", email: "new@example.com"))
        try await harness.test { client in
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: HubHarness.delivery([["id": "e9", "record": "new"]])) {
                #expect($0.status == .ok)
            }
        }
        await harness.hub.processWebhookEvents()
        #expect(await harness.crm.record("new") == nil)
        #expect(await harness.crm.record("old") != nil)
        #expect(try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10).isEmpty)
        for entry in harness.logs.entries {
            #expect(!"\(entry.message) \(entry.metadata)".contains("@example.com"))
        }
    }
}

struct AdminAPITests {
    static let bearer: HTTPFields = [.authorization: "Bearer admin-secret", .contentType: "application/json"]

    @Test func withoutATokenConfiguredEveryCallIsRefused() async throws {
        let harness = try HubHarness(adminToken: nil)
        try await harness.test { client in
            try await client.execute(uri: "/api/status", method: .get, headers: Self.bearer) { response in
                #expect(response.status == .forbidden)
                #expect(json(response)["error"] as? String == "admin_disabled")
            }
        }
    }

    @Test func aWrongTokenIs401() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            for headers: HTTPFields in [[.authorization: "Bearer admin-secreT"], [:], [.authorization: "Basic YWRtaW4="]] {
                try await client.execute(uri: "/api/status", method: .get, headers: headers) { #expect($0.status == .unauthorized) }
            }
        }
    }

    @Test func statusSyncHoldsApprovalsAndRetry() async throws {
        let harness = try HubHarness(
            (1...4).map { record(id: "d\($0)", created: "2019-01-01", purpose: "payment", email: "d\($0)@example.com") }
                + [record(id: "k1", created: "2026-01-01", purpose: "payment", email: "k1@example.com")],
            safety: .init(maxDeletesPerRun: 2, maxDeleteFraction: 1.0))
        try await harness.test { client in
            try await client.execute(uri: "/api/holds", method: .post, headers: Self.bearer,
                                     body: ByteBuffer(string: #"{"connector": "crm", "ids": ["d1"], "reason": "litigation"}"#)) { response in
                #expect(response.status == .ok)
                #expect(json(response)["added"] as? Int == 1)
            }
            try await client.execute(uri: "/api/sync/crm", method: .post, headers: Self.bearer) { response in
                #expect(response.status == .ok)
                #expect(json(response)["awaitingApproval"] as? Int == 3)
            }
            var batch = ""
            try await client.execute(uri: "/api/approvals", method: .get, headers: Self.bearer) { response in
                let batches = json(response)["batches"] as? [[String: Any]] ?? []
                batch = batches.first?["id"] as? String ?? ""
                #expect(batches.count == 1)
            }
            try await client.execute(uri: "/api/approvals/\(batch)/approve", method: .post, headers: Self.bearer, body: ByteBuffer(string: #"{"by": "dpo"}"#)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/api/approvals/\(batch)/approve", method: .post, headers: Self.bearer) { #expect($0.status == .conflict) }
            try await client.execute(uri: "/api/approvals/crm-99/approve", method: .post, headers: Self.bearer) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/sync/crm", method: .post, headers: Self.bearer) { response in
                #expect(json(response)["deleted"] as? Int == 3)
            }
            try await client.execute(uri: "/api/status", method: .get, headers: Self.bearer) { response in
                #expect(response.status == .ok)
                #expect(json(response)["holds"] as? Int == 1)
            }
            try await client.execute(uri: "/api/holds/crm/d1", method: .delete, headers: Self.bearer) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/holds/crm/d1", method: .delete, headers: Self.bearer) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/retry", method: .post, headers: Self.bearer, body: ByteBuffer(string: "{}")) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/sync/nope", method: .post, headers: Self.bearer) { #expect($0.status == .notFound) }
        }
        #expect(await harness.crm.record("d1") != nil, "held")
        #expect(await harness.crm.record("d2") == nil)
        // The audit log names who authenticated (the admin token's holder), not a free `by`.
        let operators = try await harness.store.auditEntries(after: 0, limit: 1000).compactMap { entry -> String? in
            ["approval.granted", "hold.added", "hold.removed"].contains(entry.draft.event) ? entry.draft.detail["operator"] : nil
        }
        #expect(!operators.isEmpty)
        #expect(operators.allSatisfy { $0.hasPrefix("api (admin token") }, "\(operators)")
        #expect(operators.contains("api (admin token; stated: dpo)"))
        #expect(try await harness.store.approvalBatches().first?.approvedBy == "api (admin token; stated: dpo)")
    }
}

struct AdminPlanTests {
    @Test func planListsWhatIsDueFromTheMirrorWithoutPersonalData() async throws {
        let harness = try HubHarness([
            record(id: "soon", created: "2021-12-10", purpose: "payment", email: "soon@example.com"),
            record(id: "later", created: "2025-06-01", purpose: "payment", email: "later@example.com"),
        ])
        _ = try await harness.hub.sync("crm", incremental: false)
        try await harness.test { client in
            try await client.execute(uri: "/api/plan?horizon=30d", method: .get, headers: AdminAPITests.bearer) { response in
                #expect(response.status == .ok)
                let events = json(response)["events"] as? [[String: Any]] ?? []
                #expect(events.count == 1)
                #expect(events.first?["kind"] as? String == "delete")
                #expect(!String(buffer: response.body).contains("@example.com"))
            }
            try await client.execute(uri: "/api/plan?horizon=soon", method: .get, headers: AdminAPITests.bearer) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/plan?horizon=1000000000000y", method: .get, headers: AdminAPITests.bearer) {
                #expect($0.status == .badRequest, "an absurd horizon is a 400, never an overflow trap")
            }
            try await client.execute(uri: "/api/plan?connector=nope", method: .get, headers: AdminAPITests.bearer) { #expect($0.status == .notFound) }
        }
    }
}

struct LiveServerTests {
    @Test func aLiveServerAnswersOverTCP() async throws {
        let harness = try HubHarness()
        try await Application(router: harness.hub.router()).test(.live) { client in
            #expect(client.port != nil)
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/webhooks/crm", method: .post, headers: HubHarness.signed, body: HubHarness.delivery([["id": "live-1", "record": "r1"]])) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/api/status", method: .get) { #expect($0.status == .unauthorized) }
        }
        #expect(try await harness.store.pendingWebhookEvents(connector: "crm", limit: 10).map(\.recordID) == ["r1"])
    }
}

/// The consent loop: notice → link → confirmation page → POST → extend written back.
struct ConsentLinkTests {
    /// Created 2024-12-15 with marketing consent: its 2-year marketing period ends 2026-12-15, so
    /// a notice is due on 2026-11-29 (30 days before).
    static let contact = record(id: "m1", created: "2024-12-15", purpose: "marketing", consent: "Y", email: "m1@example.com")

    static func links(_ harness: HubHarness) async throws -> (extend: String, decline: String) {
        _ = try await harness.hub.sync("crm", incremental: false)
        let notice = try #require(await harness.notices.delivered.first)
        let found = notice.textBody.split(whereSeparator: \.isWhitespace).filter { $0.hasPrefix("https://lethe.example.com/consent/") }
        let tokens = found.map { String($0.dropFirst("https://lethe.example.com".count)) }
        try #require(tokens.count == 2, "both links in the notice: \(notice.textBody)")
        return (tokens[0], tokens[1])
    }

    @Test func getShowsAPageAndChangesNothingPostExtendsAndWritesBack() async throws {
        let harness = try HubHarness([Self.contact])
        let (extend, _) = try await Self.links(harness)
        try await Self.confirmOnce(harness, link: extend, page: "보관 연장", confirmed: "kept until 2028-11-29", unchanged: "consent_extended_at", of: "m1")
        let written = await harness.crm.record("m1")
        #expect(written?.fields["consent_extended_at"] == "2026-11-29T09:00:00+09:00")
        #expect(written?.fields["marketing_consent"] == "Y")
        // The next evaluation counts the new consent: nothing is due at the old expiry.
        let later = try HubHarness.at("2026-12-21T09:00:00+09:00", sharing: harness)
        let summary = try #require(try await later.hub.sync("crm", incremental: false))
        #expect(summary.deleted == 0 && summary.fieldsErased == 0)
        #expect(await harness.crm.record("m1") != nil)
    }

    /// GET shows the confirmation page (with `page`) and changes nothing (`unchanged` stays empty in
    /// the CRM); POST in English answers 200 with `confirmed`; then the same link is 409 for POST and GET.
    static func confirmOnce(_ harness: HubHarness, link: String, page: String, confirmed: String, unchanged field: String, of id: String) async throws {
        try await harness.test { client in
            try await client.execute(uri: link, method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("<form method=\"post\""))
                #expect(String(buffer: response.body).contains(page))
            }
            #expect(await harness.crm.record(id)?.fields[field] == nil, "GET changes nothing")
            try await client.execute(uri: link + "?lang=en", method: .post) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(confirmed))
            }
            try await client.execute(uri: link, method: .post) { #expect($0.status == .conflict, "one decision per cycle") }
            try await client.execute(uri: link, method: .get) { #expect($0.status == .conflict) }
        }
    }

    @Test func declineChangesNothingNowAndTheDataGoesAtExpiry() async throws {
        let harness = try HubHarness([Self.contact])
        let (_, decline) = try await Self.links(harness)
        try await harness.test { client in
            try await client.execute(uri: decline, method: .post) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("2026-12-15"))
            }
        }
        #expect(await harness.crm.record("m1") != nil)
        let later = try HubHarness.at("2026-12-16T09:00:00+09:00", sharing: harness)
        let summary = try #require(try await later.hub.sync("crm", incremental: false))
        #expect(summary.deleted == 1)
    }

    @Test func tamperedAndExpiredLinksGetAClearPageAndChangeNothing() async throws {
        let harness = try HubHarness([Self.contact])
        let (extend, _) = try await Self.links(harness)
        var edited = Array(extend)
        edited[edited.count - 3] = edited[edited.count - 3] == "A" ? "B" : "A"
        let tampered = String(edited)
        let expired = "/consent/" + harness.links.token(ConsentToken(
            connector: "crm", reference: "r-x", rule: "marketing", cycle: date("2026-01-01"), action: .extend, validUntil: date("2026-01-01")))
        try await harness.test { client in
            for method: HTTPRequest.Method in [.get, .post] {
                try await client.execute(uri: tampered, method: method) { #expect($0.status == .badRequest) }
                try await client.execute(uri: expired, method: method) { #expect($0.status == .gone) }
                try await client.execute(uri: "/consent/garbage", method: method) { #expect($0.status == .badRequest) }
            }
        }
        #expect(await harness.crm.record("m1")?.fields["consent_extended_at"] == nil)
    }
}

struct ImmediateDeclineTests {
    @Test func declineImmediatelyWithdrawsConsentAndErasesNow() async throws {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.endsWithoutConsent = "marketing_consent"
            rule.notice?.declineImmediately = true
        }
        let harness = try HubHarness([record(id: "p1", created: "2024-12-15", purpose: "payment;marketing", consent: "Y", email: "p1@example.com", interests: "golf")], policy: policy)
        let (_, decline) = try await ConsentLinkTests.links(harness)
        try await Self.expectWithdrawnAndErased(harness, link: decline, record: "p1")
    }

    /// POSTs `link`: the page says the consent was withdrawn, the source holds consent N and the
    /// marketing fields are erased, while payment keeps the record.
    static func expectWithdrawnAndErased(_ harness: HubHarness, link: String, record id: String) async throws {
        try await harness.test { client in
            try await client.execute(uri: link + "?lang=en", method: .post) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("Consent withdrawn"))
            }
        }
        let now = await harness.crm.record(id)
        #expect(now?.fields["marketing_consent"] == "N")
        #expect(now?.fields["interests"] == "", "the marketing fields are erased at once; payment keeps the record")
    }
}

struct ResultNoticeTests {
    @Test func aResultNoticeFollowsTheDecisionWhenThePolicyAsks() async throws {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.notice?.resultTemplate = "consent-result"
        }
        let harness = try HubHarness([ConsentLinkTests.contact], policy: policy)
        let (extend, _) = try await ConsentLinkTests.links(harness)
        try await harness.test { client in
            try await client.execute(uri: extend, method: .post) { #expect($0.status == .ok) }
        }
        let delivered = await harness.notices.delivered
        #expect(delivered.count == 2, "the extension notice, then the result notice")
        let result = try #require(delivered.last)
        #expect(result.recipient == "m1@example.com")
        #expect(!result.textBody.contains("/consent/"), "a result notice carries no links")
    }
}

/// The re-confirmation links (정보통신망법 제50조 제8항): keep / withdraw, through the same `/consent` routes.
struct ReconfirmLinkTests {
    /// kr-pipa with marketing kept 5 years, re-confirmed every 2 years (writing `marketing_confirmed_at`),
    /// `endsWithoutConsent` as given, and result notices.
    static func policy(endsWithoutConsent: Bool) -> Policy {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.period = Period(years: 5)
            rule.endsWithoutConsent = endsWithoutConsent ? "marketing_consent" : nil
            var reconfirm = ReconfirmRule(every: Period(years: 2), lead: Period(days: 30), template: "marketing-reconfirm",
                                          consentField: "marketing_consent", confirmedAtField: "marketing_confirmed_at")
            reconfirm.resultTemplate = "marketing-reconfirm-result"
            rule.reconfirm = reconfirm
        }
        return policy
    }

    /// Consent given 2024-12-20: its first 2-year mark is 2026-12-20, so the notice is due on 2026-11-29.
    static let contact = record(id: "m1", created: "2024-12-20", purpose: "marketing", consent: "Y", email: "m1@example.com")

    static func links(_ harness: HubHarness) async throws -> (keep: String, withdraw: String, notice: Notice) {
        _ = try await harness.hub.sync("crm", incremental: false)
        let delivered = await harness.notices.delivered
        try #require(delivered.count == 1, "one re-confirmation notice")
        let notice = delivered[0]
        let tokens = notice.textBody.split(whereSeparator: \.isWhitespace).filter { $0.hasPrefix("https://lethe.example.com/consent/") }
            .map { String($0.dropFirst("https://lethe.example.com".count)) }
        try #require(tokens.count == 2, "keep and withdraw links: \(notice.textBody)")
        return (tokens[0], tokens[1], notice)
    }

    @Test func keepRecordsTheConfirmationAndTheNextCycleCountsFromIt() async throws {
        let policy = Self.policy(endsWithoutConsent: true)
        let harness = try HubHarness([Self.contact], policy: policy)
        let (keep, withdraw, notice) = try await Self.links(harness)
        #expect(notice.textBody.contains("2024-12-20"), "the consent date (시행령 제62조의3)")
        #expect(notice.textBody.contains("privacy@example.org"), "the sender")
        #expect(notice.headers["List-Unsubscribe"]?.contains("https://lethe.example.com\(withdraw)") == true)
        try await ConsentLinkTests.confirmOnce(harness, link: keep, page: "수신 동의 유지", confirmed: "ask again on 2028-11-29", unchanged: "marketing_confirmed_at", of: "m1")
        try await harness.test { client in
            try await client.execute(uri: withdraw, method: .post) { #expect($0.status == .conflict, "the other link of the same cycle too") }
        }
        let written = await harness.crm.record("m1")
        #expect(written?.fields["marketing_confirmed_at"] == "2026-11-29T09:00:00+09:00")
        #expect(written?.fields["marketing_consent"] == "Y")
        let delivered = await harness.notices.delivered
        #expect(delivered.count == 2, "the re-confirmation, then its result notice")
        #expect(delivered.last?.textBody.contains("keep") == true)
        #expect(delivered.last?.textBody.contains("/consent/") == false)
        // Nothing more this cycle, nor at the old mark; the next one counts from the confirmation.
        let later = try HubHarness.at("2026-12-25T09:00:00+09:00", sharing: harness, policy: policy)
        _ = try await later.hub.sync("crm", incremental: false)
        #expect(await harness.notices.delivered.count == 2)
        let nextCycle = try HubHarness.at("2028-11-01T09:00:00+09:00", sharing: harness, policy: policy)
        _ = try await nextCycle.hub.sync("crm", incremental: false)
        #expect(await harness.notices.delivered.count == 3)
        #expect(await harness.crm.record("m1") != nil, "a re-confirmation never deletes")
    }

    @Test func withdrawWritesConsentNoAndErasesAtOnceUnderEndsWithoutConsent() async throws {
        let harness = try HubHarness([record(id: "p1", created: "2024-12-20", purpose: "payment;marketing", consent: "Y", email: "p1@example.com", interests: "golf")],
                                     policy: Self.policy(endsWithoutConsent: true))
        let (_, withdraw, _) = try await Self.links(harness)
        try await ImmediateDeclineTests.expectWithdrawnAndErased(harness, link: withdraw, record: "p1")
    }

    @Test func withdrawWithoutEndsWithoutConsentStopsTheNoticesAndTheDataGoesAtExpiry() async throws {
        let policy = Self.policy(endsWithoutConsent: false)
        let harness = try HubHarness([Self.contact], policy: policy)
        let (_, withdraw, _) = try await Self.links(harness)
        try await harness.test { client in
            try await client.execute(uri: withdraw, method: .post) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("2029-12-20"), "the marketing expiry")
            }
        }
        #expect(await harness.crm.record("m1")?.fields["marketing_consent"] == "N")
        #expect(await harness.crm.record("m1") != nil)
        let beforeExpiry = try HubHarness.at("2029-12-01T09:00:00+09:00", sharing: harness, policy: policy)
        let count = await harness.notices.delivered.count
        _ = try await beforeExpiry.hub.sync("crm", incremental: false)
        #expect(await harness.notices.delivered.count == count, "no extension notice without consent")
        let afterExpiry = try HubHarness.at("2029-12-21T09:00:00+09:00", sharing: harness, policy: policy)
        let summary = try #require(try await afterExpiry.hub.sync("crm", incremental: false))
        #expect(summary.deleted == 1)
    }

    @Test func keepAndWithdrawLinksDoNothingOnARuleWithoutReconfirmation() async throws {
        let harness = try HubHarness([ConsentLinkTests.contact])
        let (extend, _) = try await ConsentLinkTests.links(harness)
        let content = try harness.links.verify(String(extend.dropFirst("/consent/".count)), now: date("2026-11-29"))
        for action in [ConsentAction.keep, .withdraw] {
            var forged = content
            forged.action = action
            let uri = "/consent/" + harness.links.token(forged)
            try await harness.test { client in
                try await client.execute(uri: uri, method: .post) { #expect($0.status == .badRequest) }
            }
        }
        #expect(await harness.crm.record("m1")?.fields["marketing_consent"] == "Y")
        #expect(await harness.crm.record("m1")?.fields["marketing_confirmed_at"] == nil)
    }
}

extension HubHarness {
    /// Another hub on the same store and CRM, at another time.
    static func at(_ now: String, sharing other: HubHarness, policy: Policy = .krPIPA) throws -> HubHarness {
        try HubHarness(sharing: other, now: now, policy: policy)
    }

    init(sharing other: HubHarness, now: String, policy: Policy = .krPIPA) throws {
        crm = other.crm
        store = other.store
        notices = other.notices
        links = other.links
        let clock = FixedClock(date(now))
        let coordinator = SyncCoordinator(
            store: store, sinks: SinkSet(notices: notices, archive: nil, sender: "privacy@example.org", renderer: NoticeRenderer(templatesDirectory: nil), links: links),
            clock: clock, log: logs.log, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), runDeadline: .seconds(5)))
        let runtime = ConnectorRuntime(name: "crm", policy: policy, safety: .init(maxDeletesPerRun: 1000, maxDeleteFraction: 1.0), source: crm, writer: crm)
        hub = Hub(configuration: HubConfiguration(), store: store, coordinator: coordinator, connectors: [HubConnector(runtime: runtime)],
                  clock: clock, log: logs.log, consentLinks: links)
    }
}

/// `resultForSourceChanges`: a consent change made in the CRM gets a result notice; Lethe's own write
/// of the same field (a decline that withdraws consent) does not get a second one.
struct SourceChangeResultTests {
    static var policy: Policy {
        let policy = Policy.krPIPA.modifying(rule: "marketing") { rule in
            rule.endsWithoutConsent = "marketing_consent"
            rule.notice?.declineImmediately = true
            rule.notice?.resultTemplate = "consent-result"
            rule.notice?.resultForSourceChanges = true
        }
        return policy
    }

    @Test func aChangeInTheCRMIsReportedOnceAndLethesOwnWriteIsNot() async throws {
        let policy = Self.policy
        let harness = try HubHarness([
            record(id: "p1", created: "2024-12-15", purpose: "payment;marketing", consent: "Y", email: "p1@example.com", interests: "golf"),
            record(id: "p2", created: "2025-06-01", purpose: "payment;marketing", consent: "Y", email: "p2@example.com", interests: "tea"),
        ], policy: policy)
        let (_, decline) = try await ConsentLinkTests.links(harness)
        #expect(await harness.notices.delivered.count == 1, "p1's extension notice; nothing for p2 yet")
        try await ImmediateDeclineTests.expectWithdrawnAndErased(harness, link: decline, record: "p1")
        #expect(await harness.notices.delivered.count == 2, "the link's result notice")

        // In the CRM, p2 withdraws: the next sync reports it (and erases p2's marketing fields at once).
        var p2 = try #require(await harness.crm.record("p2"))
        p2.fields["marketing_consent"] = "N"
        await harness.crm.upsert(p2)
        let later = try HubHarness.at("2026-11-30T09:00:00+09:00", sharing: harness, policy: policy)
        _ = try await later.hub.sync("crm", incremental: false)
        let delivered = await harness.notices.delivered
        #expect(delivered.count == 3, "one result notice, for p2 only: \(delivered.map(\.recipient))")
        #expect(delivered.last?.recipient == "p2@example.com")
        #expect(delivered.last?.textBody.contains("withdraw") == true)
        #expect(await harness.crm.record("p2")?.fields["interests"] == "")
        let again = try HubHarness.at("2026-12-01T09:00:00+09:00", sharing: harness, policy: policy)
        _ = try await again.hub.sync("crm", incremental: false)
        #expect(await harness.notices.delivered.count == 3, "once")
    }
}
