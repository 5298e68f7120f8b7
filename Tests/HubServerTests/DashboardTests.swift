import Foundation
import HTTPTypes
@testable import HubServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// The web dashboard: every page with the admin token, refused without it, in Korean and English,
/// with the numbers of the state, no personal data, every value escaped, and forms that act through
/// the admin API's own functions.
struct DashboardTests {
    static let bearer: HTTPFields = [.authorization: "Bearer admin-secret"]
    static let form: HTTPFields = [.authorization: "Bearer admin-secret", .contentType: "application/x-www-form-urlencoded"]
    static let pages = ["/", "/approvals", "/holds", "/dead", "/audit", "/quarantine"]

    /// Four payment records expired long ago (beyond a safety limit of 2: they wait in a batch and
    /// are overdue), one with no collection date (quarantined, line 7), and payment records expiring
    /// 2026-12-10, -12-25, -12-26, 2027-02-01 (within twelve weeks of 2026-11-29) and 2027-03-01 (not).
    static func seeded() async throws -> HubHarness {
        let expired = (1...4).map { record(id: "SRC-OLD-\($0)", created: "2019-01-01", purpose: "payment", email: "old\($0)@example.com", phone: "010-1234-567\($0)") }
        let planned = [("SRC-A", "2021-12-10"), ("SRC-B", "2021-12-25"), ("SRC-C", "2021-12-26"), ("SRC-D", "2022-02-01"), ("SRC-E", "2022-03-01")]
            .map { record(id: $0.0, created: $0.1, purpose: "payment", email: "\($0.0.lowercased())@example.com", name: "홍길동") }
        let harness = try HubHarness(
            expired + planned + [record(id: "SRC-Q", created: nil, purpose: "payment", email: "q@example.com", line: 7)],
            safety: .init(maxDeletesPerRun: 2, maxDeleteFraction: 1.0))
        _ = try await harness.hub.sync("crm", incremental: false)
        return harness
    }

    static func body(_ response: TestResponse) -> String { String(buffer: response.body) }

    /// The text of every page, as the admin token sees it.
    static func allPages(_ harness: HubHarness, headers: HTTPFields = bearer) async throws -> [String: String] {
        let pages = PageTexts()
        try await harness.test { client in
            for page in Self.pages {
                let response = try await client.execute(uri: page, method: .get, headers: headers)
                #expect(response.status == .ok, "\(page)")
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                pages.set(page, Self.body(response))
            }
        }
        return pages.all
    }

    // MARK: Access

    @Test func everyPageIs200WithTheTokenAnd401WithoutItWithNoDataAnd403WhenOff() async throws {
        let harness = try await Self.seeded()
        let pages = try await Self.allPages(harness)
        #expect(pages.count == 6)
        let reference = try await harness.store.knownReference(connector: "crm", recordID: "SRC-Q")
        #expect(pages["/quarantine"]?.contains(reference) == true)
        try await harness.test { client in
            for page in Self.pages {
                for headers: HTTPFields in [[:], [.authorization: "Bearer admin-secreT"], [.authorization: "Basic YWRtaW4="]] {
                    let response = try await client.execute(uri: page, method: .get, headers: headers)
                    #expect(response.status == .unauthorized, "\(page) \(headers)")
                    let text = Self.body(response)
                    #expect(!text.contains(reference) && !text.contains("data-count") && !text.contains("crm"), "no data on a refusal: \(page)")
                }
            }
            // A form without the token changes nothing.
            try await client.execute(uri: "/holds", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "connector=crm&ids=SRC-A&reason=case")) { #expect($0.status == .unauthorized) }
        }
        #expect(try await harness.store.holds(connector: nil).isEmpty)
        let off = try HubHarness(adminToken: nil)
        try await off.test { client in
            for page in Self.pages {
                try await client.execute(uri: page, method: .get, headers: Self.bearer) { #expect($0.status == .forbidden, "\(page)") }
            }
            try await client.execute(uri: "/dead/retry", method: .post, headers: Self.form, body: ByteBuffer(string: "all=true")) {
                #expect($0.status == .forbidden)
            }
        }
    }

    // MARK: Empty state

    @Test func everySectionOfAnEmptyStateSaysThereIsNothing() async throws {
        let harness = try HubHarness()
        let pages = try await Self.allPages(harness, headers: Self.bearer.merging([.acceptLanguage: "en"]))
        let overview = try #require(pages["/"])
        #expect(overview.contains("No records are stored yet."))
        #expect(overview.contains("No destruction is overdue."))
        #expect(overview.contains("Nothing expires in the next 12 weeks."))
        #expect(Self.bars(overview).map(\.count) == Array(repeating: 0, count: 12))
        #expect(pages["/approvals"]?.contains("No batch awaits approval.") == true)
        #expect(pages["/holds"]?.contains("No record is on legal hold.") == true)
        #expect(pages["/dead"]?.contains("No operation is dead.") == true)
        #expect(pages["/audit"]?.contains("The audit log is empty.") == true)
        #expect(pages["/quarantine"]?.contains("No record is quarantined.") == true)
    }

    // MARK: Numbers

    @Test func theOverviewShowsTheNumbersOfTheStatus() async throws {
        let harness = try await Self.seeded()
        let overview = try #require(try await Self.allPages(harness)["/"])
        let status = try await harness.store.statusCounts()
        #expect(status.records["crm"]?["awaiting-approval"] == 4 && status.records["crm"]?["quarantined"] == 1)
        for (connector, phases) in status.records {
            for (phase, count) in phases {
                #expect(overview.contains(#"data-connector="\#(connector)" data-state="\#(phase)">\#(count)</td>"#), "\(connector) \(phase) \(count)")
            }
        }
        // Expired 2024-01-01 (5 years after 2019-01-01), waiting for approval: 4 overdue destructions.
        #expect(overview.contains(#"data-overdue="crm">4</td>"#))
        #expect(overview.contains(#"data-overdue="plain">0</td>"#))
        #expect(overview.contains(#"data-card="approvals">1<"#))
        #expect(overview.contains(#"data-card="quarantine">1<"#))
        #expect(overview.contains("파기 기한을 넘긴 레코드 4건"))
        #expect(overview.contains("만료 후 5일 이내 파기"))
        #expect(overview.contains("Asia/Seoul") && overview.contains("2026-11-29 09:00"), "dates in the policy's zone")
    }

    /// The `(week, count)` of each bar of the calendar's SVG.
    static func bars(_ html: String) -> [(week: String, count: Int)] {
        html.components(separatedBy: #"<rect class="bar""#).dropFirst().compactMap { part in
            guard let week = part.firstMatch(#"data-week="([0-9-]+)""#), let count = part.firstMatch(#"data-count="([0-9]+)""#).flatMap({ Int($0) }) else {
                return nil
            }
            return (week, count)
        }
    }

    @Test func theCalendarHasTwelveWeeklyBarsCountingThePlansExpiries() async throws {
        let harness = try await Self.seeded()
        let overview = try #require(try await Self.allPages(harness)["/"])
        let bars = Self.bars(overview)
        #expect(bars.count == 12)
        #expect(bars.first?.week == "2026-11-29" && bars.last?.week == "2027-02-14")
        // The four overdue deletes are due now (week 1); expiries 2026-12-10 (week 2), 12-25 and 12-26 (week 4),
        // 2027-02-01 (week 10); 2027-03-01 is past week 12.
        #expect(bars.map(\.count) == [4, 1, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0])
        // The same as the admin API's plan over the same twelve weeks.
        try await harness.test { client in
            let response = try await client.execute(uri: "/api/plan?horizon=84d", method: .get, headers: Self.bearer)
            let events = json(response)["events"] as? [[String: Any]] ?? []
            let deletes = events.filter { ($0["kind"] as? String) == "delete" && ($0["date"] as? String ?? "") >= "2026-11-29" }
            #expect(deletes.count == bars.map(\.count).reduce(0, +))
        }
        #expect(overview.contains("<svg") && !overview.contains("<script"))
    }

    // MARK: Languages

    @Test func theLanguageFollowsAcceptLanguageTheSwitchAndItsCookie() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            for (accepted, english) in [("en-US,en;q=0.9", true), ("ko-KR,ko;q=0.9,en;q=0.8", false), ("fr, en;q=0.5", true), ("", false), ("de", false)] {
                let headers = accepted.isEmpty ? Self.bearer : Self.bearer.merging([.acceptLanguage: accepted])
                try await client.execute(uri: "/", method: .get, headers: headers) { response in
                    let text = Self.body(response)
                    #expect(text.contains(english ? #"<html lang="en">"# : #"<html lang="ko">"#), "\(accepted)")
                    #expect(text.contains(english ? "Records by state and connector" : "연결별·상태별 레코드 수"), "\(accepted)")
                    #expect(text.contains(english ? #"href="/?lang=ko""# : #"href="/?lang=en""#), "the switch to the other language")
                    #expect(response.headers[.setCookie] == nil)
                }
            }
            var cookie = ""
            try await client.execute(uri: "/holds?lang=en", method: .get, headers: Self.bearer.merging([.acceptLanguage: "ko"])) { response in
                #expect(Self.body(response).contains("Legal holds"))
                cookie = response.headers[.setCookie] ?? ""
                #expect(cookie.hasPrefix("lang=en") && cookie.contains("Path=/"))
            }
            try await client.execute(uri: "/dead", method: .get, headers: Self.bearer.merging([.acceptLanguage: "ko", .cookie: "lang=en"])) { response in
                #expect(Self.body(response).contains("No operation is dead."), "the cookie keeps the choice")
            }
            try await client.execute(uri: "/dead?lang=ko", method: .get, headers: Self.bearer.merging([.cookie: "lang=en"])) { response in
                #expect(Self.body(response).contains("실패한 작업이 없습니다."))
                #expect(response.headers[.setCookie]?.hasPrefix("lang=ko") == true)
            }
        }
    }

    @Test func bothLanguagesHaveEveryText() {
        #expect(Set(DashboardTexts.ko.keys) == Set(DashboardTexts.en.keys))
        #expect(DashboardTexts.ko.values.allSatisfy { !$0.isEmpty } && DashboardTexts.en.values.allSatisfy { !$0.isEmpty })
    }

    // MARK: Escaping and personal data

    @Test func noPageShowsPersonalDataOrSourceIDs() async throws {
        let harness = try await Self.seeded()
        await harness.crm.failNextApplies(1, with: ConnectorError(code: "http.400", message: "bad request", isTransient: false))
        try await harness.test { client in
            try await client.execute(uri: "/holds", method: .post, headers: Self.form, body: ByteBuffer(string: "connector=crm&ids=SRC-A&reason=case+17")) {
                #expect($0.status == .seeOther)
            }
        }
        for language in ["ko", "en"] {
            for (page, text) in try await Self.allPages(harness, headers: Self.bearer.merging([.acceptLanguage: language])) {
                for secret in ["@example.com", "010-1234", "홍길동", "Test Person", "SRC-"] {
                    #expect(!text.contains(secret), "\(page) (\(language)) shows \(secret)")
                }
            }
        }
    }

    @Test func hostileConnectorNamesAndReasonsAreEscaped() async throws {
        let hostile = #"<script>alert("x")</script>"#
        let world = try DashboardWorld(connector: hostile, records: [record(id: "h1", created: "2019-01-01", purpose: "payment", email: "h@example.com")])
        let reference = try await world.store.knownReference(connector: hostile, recordID: "h1")
        _ = try await world.store.addHold(connector: hostile, reference: reference, reason: #"<img src=x onerror="alert(1)">"#, by: "dpo", at: date("2026-11-29"))
        _ = try await world.hub.sync(hostile, incremental: false)
        let pages = try await Self.allPages(HubHarnessView(hub: world.hub))
        for (page, text) in pages {
            #expect(!text.contains("<script") && !text.contains("<img"), "\(page) is escaped")
        }
        #expect(pages["/"]?.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == true)
        #expect(pages["/holds"]?.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") == true)
    }

    // MARK: Forms

    @Test func holdsAreAddedAndLiftedThroughTheForms() async throws {
        let harness = try await Self.seeded()
        let first = try await harness.store.knownReference(connector: "crm", recordID: "SRC-A")
        try await harness.test { client in
            try await client.execute(uri: "/holds", method: .post, headers: Self.form, body: ByteBuffer(string: "connector=crm&ids=SRC-A%0D%0ASRC-B%2C+SRC-C&reason=case+17")) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/holds?done=held&n=3")
            }
            try await client.execute(uri: "/holds?done=held&n=3", method: .get, headers: Self.bearer.merging([.acceptLanguage: "en"])) { response in
                let text = Self.body(response)
                #expect(text.contains("3 records placed on legal hold."))
                #expect(text.contains(first) && text.contains("case 17") && text.contains("dashboard (admin token)"))
            }
            // Incomplete or wrong forms change nothing and say why.
            for (body, error) in [("connector=crm&ids=SRC-D&reason=", "bad_request"), ("connector=nope&ids=SRC-D&reason=x", "unknown_connector"), ("", "bad_request")] {
                try await client.execute(uri: "/holds", method: .post, headers: Self.form, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/holds?error=\(error)")
                }
            }
            #expect(try await harness.store.holds(connector: "crm").count == 3)
            // Lifting needs a reason: without one nothing changes.
            try await client.execute(uri: "/holds/lift", method: .post, headers: Self.form, body: ByteBuffer(string: "connector=crm&reference=\(first)&reason=+")) { response in
                #expect(response.headers[.location] == "/holds?error=bad_request")
            }
            #expect(try await harness.store.holds(connector: "crm").count == 3)
            try await client.execute(uri: "/holds/lift", method: .post, headers: Self.form, body: ByteBuffer(string: "connector=crm&reference=\(first)&reason=case+17+closed")) { response in
                #expect(response.headers[.location] == "/holds?done=lifted&n=1")
            }
            try await client.execute(uri: "/holds/lift", method: .post, headers: Self.form, body: ByteBuffer(string: "connector=crm&reference=\(first)&reason=again")) { response in
                #expect(response.headers[.location] == "/holds?error=no_hold")
            }
            try await client.execute(uri: "/holds?error=no_hold", method: .get, headers: Self.bearer) { response in
                #expect(Self.body(response).contains("해당 레코드는 법적 보존 중이 아닙니다."))
            }
        }
        let holds = try await harness.store.holds(connector: "crm")
        #expect(holds.count == 2 && !holds.contains { $0.reference == first })
        let entries = try await harness.store.auditEntries(after: 0, limit: 1000).filter { $0.draft.event.hasPrefix("hold.") }
        #expect(entries.count == 4 && entries.allSatisfy { $0.draft.detail["operator"] == "dashboard (admin token)" })
        #expect(entries.last?.draft.event == "hold.removed" && entries.last?.draft.detail["reason"] == "case 17 closed", "the reason is in the audit entry")
    }

    @Test func aBatchIsApprovedThroughTheForm() async throws {
        let harness = try await Self.seeded()
        let batch = try #require(try await harness.store.approvalBatches().first)
        try await harness.test { client in
            try await client.execute(uri: "/approvals", method: .get, headers: Self.bearer) { response in
                let text = Self.body(response)
                #expect(text.contains(#"action="/approvals/\#(batch.id)/approve""#))
                #expect(text.contains("삭제 4건 승인"))
            }
            try await client.execute(uri: "/approvals/\(batch.id)/approve", method: .post, headers: Self.form, body: ByteBuffer(string: "")) { response in
                #expect(response.headers[.location] == "/approvals?done=approved&n=1")
            }
            try await client.execute(uri: "/approvals/\(batch.id)/approve", method: .post, headers: Self.form, body: ByteBuffer(string: "")) { response in
                #expect(response.headers[.location] == "/approvals?error=already_approved")
            }
            try await client.execute(uri: "/approvals/crm-99/approve", method: .post, headers: Self.form, body: ByteBuffer(string: "")) { response in
                #expect(response.headers[.location] == "/approvals?error=unknown_batch")
            }
        }
        let approved = try #require(try await harness.store.approvalBatches().first)
        #expect(approved.status == .approved && approved.approvedBy?.contains("admin token") == true, "\(approved.approvedBy ?? "")")
    }

    @Test func aBatchIsRejectedThroughTheFormWithAReason() async throws {
        let harness = try await Self.seeded()
        let batch = try #require(try await harness.store.approvalBatches().first)
        try await harness.test { client in
            try await client.execute(uri: "/approvals/\(batch.id)/reject", method: .post, headers: Self.form, body: ByteBuffer(string: "reason=")) { response in
                #expect(response.headers[.location] == "/approvals?error=reason_required")
            }
            #expect(try await harness.store.approvalBatches().first?.status == .open, "no reason, no rejection")
            try await client.execute(uri: "/approvals/\(batch.id)/reject", method: .post, headers: Self.form, body: ByteBuffer(string: "reason=export+looked+<b>cut</b>")) { response in
                #expect(response.headers[.location] == "/approvals?done=rejected&n=1")
            }
            try await client.execute(uri: "/approvals", method: .get, headers: Self.bearer.merging([.acceptLanguage: "en"])) { response in
                let text = Self.body(response)
                #expect(text.contains("export looked &lt;b&gt;cut&lt;/b&gt;") && !text.contains(#"action="/approvals/\#(batch.id)/approve""#))
            }
        }
        #expect(try await harness.store.approvalBatches().first?.status == .rejected)
    }

    @Test func underTheFourEyesRuleTwoOperatorsApproveThroughTheForms() async throws {
        let expired = (1...3).map { record(id: "SRC-\($0)", created: "2019-01-01", purpose: "payment", email: "e\($0)@example.com") }
        let harness = try AuthHarness(expired, twoPersonAbove: 1)
        _ = try await harness.hub.sync("crm", incremental: false)
        let batch = try #require(try await harness.store.approvalBatches().first)
        let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        try await harness.test { client in
            try await client.execute(uri: "/approvals/\(batch.id)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken).merging(form), body: ByteBuffer()) { response in
                #expect(response.headers[.location] == "/approvals?done=signed&n=1")
            }
            try await client.execute(uri: "/approvals/\(batch.id)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.kimToken).merging(form), body: ByteBuffer()) { response in
                #expect(response.headers[.location] == "/approvals?error=same_operator")
            }
            try await client.execute(uri: "/approvals", method: .get, headers: AuthHarness.bearer(AuthHarness.leeToken).merging([.acceptLanguage: "en"])) { response in
                #expect(Self.body(response).contains("approved by kim (1 of 2)"))
            }
            try await client.execute(uri: "/approvals/\(batch.id)/approve", method: .post, headers: AuthHarness.bearer(AuthHarness.leeToken).merging(form), body: ByteBuffer()) { response in
                #expect(response.headers[.location] == "/approvals?done=approved&n=1")
            }
        }
        let approved = try #require(try await harness.store.approvalBatches().first)
        #expect(approved.status == .approved && approved.approvedBy == "kim, lee")
    }

    @Test func deadOperationsAreListedAndRetriedThroughTheForm() async throws {
        let harness = try HubHarness([record(id: "SRC-X", created: "2019-01-01", purpose: "payment", email: "x@example.com")])
        await harness.crm.failNextApplies(1, with: ConnectorError(code: "http.400", message: "bad request", isTransient: false))
        _ = try await harness.hub.sync("crm", incremental: false)
        let dead = try await harness.store.operations(connector: "crm", statuses: [.dead])
        let operation = try #require(dead.first)
        try await harness.test { client in
            try await client.execute(uri: "/dead", method: .get, headers: Self.bearer.merging([.acceptLanguage: "en"])) { response in
                let text = Self.body(response)
                #expect(text.contains(operation.reference) && text.contains("Retry all 1 dead operations"))
                #expect(text.contains(#"name="id" value="\#(operation.id)""#))
            }
            try await client.execute(uri: "/dead/retry", method: .post, headers: Self.form, body: ByteBuffer(string: "id=")) { response in
                #expect(response.headers[.location] == "/dead?error=bad_request")
            }
            #expect(try await harness.store.operations(connector: "crm", statuses: [.dead]).count == 1, "an empty form retries nothing")
            try await client.execute(uri: "/dead/retry", method: .post, headers: Self.form, body: ByteBuffer(string: "id=\(operation.id)")) { response in
                #expect(response.headers[.location] == "/dead?done=retried&n=1")
            }
        }
        #expect(try await harness.store.operations(connector: "crm", statuses: [.dead]).isEmpty)
        #expect(try await harness.store.operation(id: operation.id)?.status == .pending)
    }

    @Test func theAuditPageListsTheLatestEntriesNewestFirst() async throws {
        let harness = try await Self.seeded()
        let text = try #require(try await Self.allPages(harness)["/audit"])
        let count = try await harness.store.statusCounts().auditEntries
        let shown = text.components(separatedBy: "<tr><td class=\"num\">").dropFirst().compactMap { Int64($0.prefix { $0.isNumber }) }
        #expect(shown.count == min(Int(count), 100))
        #expect(shown.first == count && shown == shown.sorted(by: >))
    }

    // MARK: Sessions

    @Test func aSignedInOperatorActsThroughTheFormsWithTheSessionsCSRFToken() async throws {
        let harness = try AuthHarness([record(id: "SRC-A", created: "2021-12-10", purpose: "payment", email: "a@example.com")])
        _ = try await harness.hub.sync("crm", incremental: false)
        let reference = try await harness.store.knownReference(connector: "crm", recordID: "SRC-A")
        try await harness.test { client in
            // A browser that is not signed in gets the sign-in page, with nothing of the state on it.
            try await client.execute(uri: "/holds", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .unauthorized)
                #expect(Self.body(response).contains("action=\"/signin\"") && !Self.body(response).contains(reference))
            }
            let session = try await AuthHarness.signIn(client, token: AuthHarness.kimToken)
            try #require(!session.isEmpty)
            let cookie = AuthHarness.cookie(session)
            let page = try await client.execute(uri: "/holds", method: .get, headers: cookie)
            #expect(page.status == .ok)
            let text = Self.body(page)
            let csrf = try #require(text.firstMatch(#"name="csrf" value="([^"]+)""#))
            #expect(text.contains("kim") && text.contains(#"action="/signout""#))
            let form = cookie.merging([.contentType: "application/x-www-form-urlencoded"])
            for token in ["", "&csrf=wrong"] {
                try await client.execute(uri: "/holds", method: .post, headers: form, body: ByteBuffer(string: "connector=crm&ids=SRC-A&reason=case\(token)")) { response in
                    #expect(response.status == .forbidden, "a session's form without its CSRF token changes nothing")
                }
            }
            #expect(try await harness.store.holds(connector: "crm").isEmpty)
            try await client.execute(uri: "/holds", method: .post, headers: form, body: ByteBuffer(string: "connector=crm&ids=SRC-A&reason=case&csrf=\(csrf)")) { response in
                #expect(response.headers[.location] == "/holds?done=held&n=1")
            }
            // An operator's own bearer token acts without a CSRF token, under the operator's name.
            try await client.execute(uri: "/holds/lift", method: .post, headers: AuthHarness.bearer(AuthHarness.leeToken).merging([.contentType: "application/x-www-form-urlencoded"]),
                                     body: ByteBuffer(string: "connector=crm&reference=\(reference)&reason=released")) { response in
                #expect(response.headers[.location] == "/holds?done=lifted&n=1")
            }
        }
        let operators = try await harness.store.auditEntries(after: 0, limit: 1000).filter { $0.draft.event.hasPrefix("hold.") }.map { $0.draft.detail["operator"] }
        #expect(operators == ["kim", "lee"])
    }

    // MARK: Consent pages

    @Test func theConsentPagesSetNoCookieAndEscapeTheirLink() async throws {
        let harness = try HubHarness()
        try await harness.test { client in
            try await client.execute(uri: "/consent/%3Cb%3E", method: .get, headers: [.acceptLanguage: "en"]) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[.setCookie] == nil)
                #expect(Self.body(response).contains("This link is not valid") && !Self.body(response).contains("<b>"))
            }
        }
    }
}

/// A hub whose one connector has any name (HubHarness names its own).
struct DashboardWorld {
    let crm: InMemoryCRM
    let store: SQLiteStateStore
    let hub: Hub

    init(connector name: String, records: [SourceRecord]) throws {
        crm = InMemoryCRM(records)
        store = try SQLiteStateStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("lethe-dash-\(UUID().uuidString)/lethe.sqlite"))
        let clock = FixedClock(date("2026-11-29T09:00:00+09:00"))
        let logs = LogCapture()
        let coordinator = SyncCoordinator(
            store: store, sinks: SinkSet(notices: RecordingNoticeSink(), archive: nil, sender: "privacy@example.org", renderer: NoticeRenderer(templatesDirectory: nil)),
            clock: clock, log: logs.log, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), runDeadline: .seconds(5)))
        let runtime = ConnectorRuntime(name: name, policy: .krPIPA, safety: .init(maxDeletesPerRun: 0, maxDeleteFraction: 1.0), source: crm, writer: crm)
        hub = Hub(configuration: HubConfiguration(adminToken: "admin-secret"), store: store, coordinator: coordinator, connectors: [HubConnector(runtime: runtime)],
                  clock: clock, log: logs.log)
    }
}

/// `allPages` over any hub.
struct HubHarnessView {
    let hub: Hub
    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: hub.router()).test(.router, body)
    }
}

extension DashboardTests {
    static func allPages(_ view: HubHarnessView) async throws -> [String: String] {
        let pages = PageTexts()
        try await view.test { client in
            for page in Self.pages {
                let response = try await client.execute(uri: page, method: .get, headers: Self.bearer)
                #expect(response.status == .ok, "\(page)")
                pages.set(page, Self.body(response))
            }
        }
        return pages.all
    }
}

/// Pages' texts collected inside a test client's closure.
final class PageTexts: @unchecked Sendable {
    private let lock = NSLock()
    private var texts: [String: String] = [:]
    func set(_ page: String, _ text: String) { lock.withLock { texts[page] = text } }
    var all: [String: String] { lock.withLock { texts } }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}

extension String {
    /// The first capture group of `pattern` in the string.
    func firstMatch(_ pattern: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: self, range: NSRange(startIndex..., in: self)), match.numberOfRanges > 1,
            let range = Range(match.range(at: 1), in: self)
        else { return nil }
        return String(self[range])
    }
}
