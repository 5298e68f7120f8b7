import Foundation
import HTTPTypes
@testable import HubServer
import Hummingbird
import HummingbirdTesting
import LetheConfig
import NIOCore
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// The what-if page: the comparison `PolicyComparison` makes, as a page, in Korean and English; a bad
/// policy says why with the loader's words and changes nothing; the dashboard's access rules hold.
struct WhatIfPageTests {
    static let adminToken = "what-if-admin-token-0123456789abcdefghij"
    static let kimToken = "what-if-kim-token-0123456789abcdefghijkl"
    static let bearer: HTTPFields = [.authorization: "Bearer \(adminToken)"]
    static let form: HTTPFields = bearer.merging([.contentType: "application/x-www-form-urlencoded"])

    /// kr-pipa with payment kept 4 years instead of 5, dispute 2 instead of 3.
    static let strict = """
        policy:
          name: strict
          zone: Asia/Seoul
          fields: {createdAt: created_at, purposes: purpose, email: email, name: name, consent: marketing_consent}
          rules:
            - purpose: payment
              period: 4y
              basis: [created_at]
            - purpose: dispute
              period: 2y
              basis: [created_at]
            - purpose: marketing
              period: 2y
              basis: [created_at, consent_extended_at]
              erase: {interests: "", marketing_consent: "N"}
              notice: {lead: 30d, requiresConsent: marketing_consent, template: marketing-extension, extension: 2y}

        """

    /// A hub on a fresh state (`crm` with `records`, synced when there are any, and an empty `plain`),
    /// the policy files `policies/kr-pipa.yaml` (listed) and `policies/strict.yaml` beside a
    /// configuration in a folder of its own.
    struct Harness {
        let store: SQLiteStateStore
        let hub: Hub
        let folder: URL

        init(_ records: [SourceRecord] = [], adminToken: String? = WhatIfPageTests.adminToken, operators: [String: String] = ["kim": WhatIfPageTests.kimToken]) async throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-whatif-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("policies"), withIntermediateDirectories: true)
            let pipa = try String(contentsOf: Self.packageRoot.appendingPathComponent("config/policies/kr-pipa.yaml"), encoding: .utf8)
            try pipa.write(to: folder.appendingPathComponent("policies/kr-pipa.yaml"), atomically: true, encoding: .utf8)
            try WhatIfPageTests.strict.write(to: folder.appendingPathComponent("policies/strict.yaml"), atomically: true, encoding: .utf8)
            store = try SQLiteStateStore(path: folder.appendingPathComponent("state/lethe.sqlite"))
            let clock = FixedClock(date("2026-11-29T09:00:00+09:00"))
            let coordinator = SyncCoordinator(
                store: store, sinks: SinkSet(notices: RecordingNoticeSink(), archive: nil, sender: "privacy@example.org", renderer: NoticeRenderer(templatesDirectory: nil)),
                clock: clock, log: { _, _, _ in }, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), runDeadline: .seconds(5)))
            var configuration = HubConfiguration(adminToken: adminToken)
            configuration.operators = operators.keys.sorted().map { HubOperator(name: $0, token: operators[$0]!) }
            configuration.signInFailureDelay = .zero
            let catalog = PolicyCatalog(configuration: folder.appendingPathComponent("lethe.yaml"), listed: ["policies/kr-pipa.yaml"], loader: ConfigLoader(environment: [:]))
            let crm = InMemoryCRM(records)
            hub = Hub(
                configuration: configuration, store: store, coordinator: coordinator,
                connectors: [
                    HubConnector(runtime: ConnectorRuntime(name: "crm", policy: .krPIPA, safety: .init(maxDeletesPerRun: 1000, maxDeleteFraction: 1.0), source: crm, writer: crm)),
                    HubConnector(runtime: ConnectorRuntime(name: "plain", policy: .krPIPA, safety: .init(maxDeletesPerRun: 1000, maxDeleteFraction: 1.0), source: InMemoryCRM([]), writer: nil)),
                ],
                clock: clock, log: { _, _, _ in },
                whatIfPolicies: WhatIfPolicies(files: { catalog.names() }, load: { try catalog.load($0) }, parse: { try PolicyCatalog.parse($0) }))
            if !records.isEmpty { _ = try await hub.sync("crm", incremental: false) }
        }

        func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
            try await Application(router: hub.router()).test(.router, body)
        }

        /// The folder with Package.swift.
        static let packageRoot: URL = {
            var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { folder.deleteLastPathComponent() }
            return folder
        }()
    }

    /// Payment records created 2021-12-10 … 2023-06-01, a dispute from 2024-03-01 and a payment record
    /// with marketing consent: under `strict`, most of them go sooner.
    static let records = [
        record(id: "SRC-A", created: "2021-12-10", purpose: "payment", email: "a@example.com"),
        record(id: "SRC-B", created: "2022-03-01", purpose: "payment", email: "b@example.com"),
        record(id: "SRC-C", created: "2023-01-15", purpose: "payment", email: "c@example.com"),
        record(id: "SRC-D", created: "2023-06-01", purpose: "payment", email: "d@example.com"),
        record(id: "SRC-E", created: "2024-03-01", purpose: "dispute", email: "e@example.com"),
        record(id: "SRC-F", created: "2025-01-20", purpose: "payment;marketing", email: "f@example.com", name: "홍길동"),
    ]

    static func body(_ response: TestResponse) -> String { String(buffer: response.body) }

    static func encoded(_ fields: [String: String]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return ByteBuffer(string: fields.keys.sorted().map { "\($0)=\(fields[$0]!.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
    }

    /// The count the page shows for one connector and change.
    static func count(_ html: String, _ connector: String, _ change: PolicyComparison.Change) -> Int? {
        html.firstMatch(#"data-connector="\#(connector)" data-change="\#(change.rawValue)">([0-9]+)<"#).flatMap { Int($0) }
    }

    /// Everything the state holds that a page could change.
    static func snapshot(_ store: SQLiteStateStore) async throws -> String {
        let status = try await store.statusCounts()
        let audit = try await store.auditEntries(after: 0, limit: 10_000).map { "\($0.seq) \($0.draft.event)" }
        let records = try await store.recordPage(connector: "crm", after: nil, limit: 10_000).map { stored in
            let rules = (stored.state?.rules ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.stage):\($0.value.expiry)" }
            return "\(stored.reference) \(stored.state?.phase.rawValue ?? "-") \(rules)"
        }
        let operations = try await store.operations(connector: "crm", statuses: [.pending, .done, .dead]).map { "\($0.id) \($0.status)" }
        let phases = status.records.flatMap { connector, phases in phases.map { "\(connector)/\($0.key)=\($0.value)" } }.sorted()
        return "\(phases) \(status.auditEntries) \(audit) \(records) \(operations.sorted()) \(try await store.holds(connector: nil).count)"
    }

    // MARK: The page

    @Test func theFormRendersInBothLanguagesWithThePolicyFilesAndLabels() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            for (language, words) in [("ko", ["정책 비교", "정책 파일", "기간", "비교하기"]), ("en", ["Policy what-if", "Policy file", "Horizon", "Compare"])] {
                try await client.execute(uri: "/whatif?lang=\(language)", method: .get, headers: Self.bearer) { response in
                    #expect(response.status == .ok)
                    let text = Self.body(response)
                    #expect(text.contains(#"<html lang="\#(language)">"#))
                    for word in words { #expect(text.contains(word), "\(language): \(word)") }
                    #expect(text.contains(#"<a href="/whatif" aria-current="page">"#), "in the navigation")
                    #expect(text.contains(#"<option value="policies/kr-pipa.yaml">policies/kr-pipa.yaml</option>"#))
                    #expect(text.contains(#"<option value="policies/strict.yaml">policies/strict.yaml</option>"#))
                    #expect(text.contains(#"value="90d""#), "the default horizon")
                    for field in ["whatif-file", "whatif-policy", "whatif-horizon", "whatif-connector"] {
                        #expect(text.contains(#"<label for="\#(field)">"#) && text.contains(#"id="\#(field)""#), "\(field) has a label")
                    }
                    #expect(!text.contains("<script") && !text.contains("data-change"), "no result before a form")
                }
            }
            // Every other page links to it.
            try await client.execute(uri: "/holds", method: .get, headers: Self.bearer) { #expect(Self.body($0).contains(#"<a href="/whatif">"#)) }
        }
    }

    @Test func anEmptyStateSaysNothingIsKnownYetInBothLanguages() async throws {
        let harness = try await Harness()
        try await harness.test { client in
            for (language, words) in [("ko", "아직 저장된 레코드가 없습니다"), ("en", "Nothing is stored for this connector yet")] {
                try await client.execute(uri: "/whatif?lang=\(language)", method: .post, headers: Self.form, body: Self.encoded(["file": "policies/strict.yaml", "horizon": "90d"])) { response in
                    #expect(response.status == .ok)
                    let text = Self.body(response)
                    #expect(text.contains(words))
                    for change in PolicyComparison.Change.allCases { #expect(Self.count(text, "crm", change) == 0, "\(change)") }
                    #expect(text.contains(#"data-policy="strict""#))
                }
            }
        }
    }

    @Test func aStricterPolicyShowsTheCountsOfPolicyComparisonInBothLanguages() async throws {
        let harness = try await Harness(Self.records)
        let strict = try ConfigLoader(environment: [:]).loadPolicy(text: Self.strict, name: "strict.yaml")
        let expected = try await PolicyComparison.reports(
            connectors: [(name: "crm", policy: .krPIPA), (name: "plain", policy: .krPIPA)], other: strict, now: date("2026-11-29T09:00:00+09:00"),
            horizon: Period(days: 90), store: harness.store)
        let crm = try #require(expected.first)
        // Payment 2021-12-10, 2022-03-01 and 2023-01-15 (its fourth year ends within 90 days) and the dispute of
        // 2024-03-01 go sooner; payment 2023-06-01 and the marketing contact end after the horizon either way.
        #expect(crm.records == 6 && crm.changes["deletedSooner"] == 4 && crm.changes["same"] == 2, "\(crm.changes)")
        let before = try await Self.snapshot(harness.store)
        try await harness.test { client in
            for (language, fields) in [("en", ["file": "policies/strict.yaml", "horizon": "90d"]), ("ko", ["policy": Self.strict, "horizon": "90d", "file": ""])] {
                try await client.execute(uri: "/whatif?lang=\(language)", method: .post, headers: Self.form, body: Self.encoded(fields)) { response in
                    #expect(response.status == .ok)
                    let text = Self.body(response)
                    for report in expected {
                        for change in PolicyComparison.Change.allCases {
                            #expect(Self.count(text, report.connector, change) == report.changes[change.rawValue], "\(language) \(report.connector) \(change)")
                        }
                        for example in report.examples { #expect(text.contains(example.reference), "\(language): example \(example.reference)") }
                    }
                    #expect(text.contains(language == "en" ? "Deleted sooner" : "더 일찍 삭제됨"))
                    #expect(text.contains(language == "en" ? "Policy strict (policies/strict.yaml) instead of the current one" : "strict (붙여 넣은 정책)"))
                    // The form keeps what was sent.
                    #expect(text.contains(language == "en" ? #"<option value="policies/strict.yaml" selected>"# : "name: strict"))
                    for secret in ["@example.com", "홍길동", "SRC-"] { #expect(!text.contains(secret), "\(language) shows \(secret)") }
                }
            }
            // One connector only.
            try await client.execute(uri: "/whatif", method: .post, headers: Self.form, body: Self.encoded(["file": "policies/strict.yaml", "horizon": "90d", "connector": "crm"])) { response in
                let text = Self.body(response)
                #expect(Self.count(text, "crm", .deletedSooner) == 4 && Self.count(text, "plain", .same) == nil)
                #expect(text.contains(#"<option value="crm" selected>"#))
            }
            // A shorter horizon: 2023-01-15 + 4 years is after 30 days.
            try await client.execute(uri: "/whatif", method: .post, headers: Self.form, body: Self.encoded(["file": "policies/strict.yaml", "horizon": "30d"])) { response in
                #expect(Self.count(Self.body(response), "crm", .deletedSooner) == 3)
            }
        }
        #expect(try await Self.snapshot(harness.store) == before, "a comparison writes nothing")
    }

    /// A field the state does not keep is named with what needs it, in the page's language.
    @Test func aFieldTheStateDoesNotKeepIsExplainedInBothLanguages() async throws {
        let harness = try await Harness(Self.records)
        let other = Self.strict.replacingOccurrences(of: "basis: [created_at, consent_extended_at]", with: "basis: [created_at, last_visit_at]")
        try await harness.test { client in
            for (language, expected, foreign) in [("ko", "규칙의 기준일", "the basis of"), ("en", "the basis of", "규칙의 기준일")] {
                try await client.execute(uri: "/whatif?lang=\(language)", method: .post, headers: Self.form, body: Self.encoded(["policy": other, "horizon": "90d", "file": ""])) { response in
                    #expect(response.status == .ok)
                    let text = Self.body(response)
                    #expect(text.contains("last_visit_at"), "\(language): the missing field is named")
                    #expect(text.contains(expected) && text.contains("marketing"), "\(language): what needs it, in its language")
                    #expect(!text.contains(foreign), "\(language): no text of the other language")
                }
            }
        }
    }

    // MARK: Refusals

    @Test func aBadPolicyIs422WithTheLoadersMessageAndChangesNothing() async throws {
        let harness = try await Harness(Self.records)
        let before = try await Self.snapshot(harness.store)
        let unknownKey = Self.strict.replacingOccurrences(of: "      period: 2y\n      basis: [created_at]\n", with: "      period: 2y\n      basis: [created_at]\n      keep: forever\n")
        let badPeriod = Self.strict.replacingOccurrences(of: "period: 4y", with: "period: four years")
        try await harness.test { client in
            for (policy, message) in [
                (unknownKey, "pasted:12: policy.rules[1].keep"), (badPeriod, "pasted:7: policy.rules[0].period"), ("policy: [unclosed", "pasted:2: YAML syntax error"),
                ("rules: []", "pasted:1"),
            ] {
                try await client.execute(uri: "/whatif?lang=en", method: .post, headers: Self.form, body: Self.encoded(["policy": policy, "horizon": "90d"])) { response in
                    #expect(response.status == .unprocessableContent, "\(message)")
                    let text = Self.body(response)
                    #expect(text.contains("The policy could not be read") && text.contains(message), "\(message): \(text.firstMatch(#"data-problem>([^<]*)<"#) ?? "")")
                    #expect(!text.contains("data-change"), "no result")
                    #expect(text.contains(policy.replacingOccurrences(of: "\"", with: "&quot;")), "the pasted text stays in the form")
                }
            }
            let tooLong = "policy:\n" + String(repeating: "# padding\n", count: 7_000)
            try await client.execute(uri: "/whatif?lang=en", method: .post, headers: Self.form, body: Self.encoded(["policy": tooLong])) { response in
                #expect(response.status == .contentTooLarge)
                #expect(Self.body(response).contains("too long") && !Self.body(response).contains("# padding"))
            }
            for (fields, words) in [
                (["horizon": "90d"], "Choose a policy file or paste a policy."),
                (["file": "policies/strict.yaml", "policy": Self.strict], "not both"),
                (["file": "../../etc/passwd"], "no such policy file"),
                (["file": "policies/strict.yaml", "horizon": "soon"], "The horizon is a period"),
                (["file": "policies/strict.yaml", "connector": "nope"], "There is no such connector."),
            ] {
                try await client.execute(uri: "/whatif?lang=en", method: .post, headers: Self.form, body: Self.encoded(fields)) { response in
                    #expect(response.status == .badRequest, "\(fields)")
                    #expect(Self.body(response).contains(words), "\(fields)")
                }
            }
        }
        let after = try await Self.snapshot(harness.store)
        #expect(after == before, "nothing written")
    }

    @Test func aSessionsFormNeedsItsCSRFTokenAndAnonymousRequestsSeeNoData() async throws {
        let harness = try await Harness(Self.records)
        let reference = try await harness.store.knownReference(connector: "crm", recordID: "SRC-A")
        let fields = ["file": "policies/strict.yaml", "horizon": "90d"]
        try await harness.test { client in
            for headers: HTTPFields in [[:], [.authorization: "Bearer wrong-token"], [.accept: "text/html"]] {
                try await client.execute(uri: "/whatif", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized)
                    #expect(!Self.body(response).contains("strict.yaml"), "no policy file names either")
                }
                try await client.execute(uri: "/whatif", method: .post, headers: headers.merging([.contentType: "application/x-www-form-urlencoded"]), body: Self.encoded(fields)) { response in
                    #expect(response.status == .unauthorized)
                    let text = Self.body(response)
                    #expect(!text.contains(reference) && !text.contains("data-change") && !text.contains("crm"))
                }
            }
            let session = try await AuthHarness.signIn(client, token: Self.kimToken)
            try #require(!session.isEmpty)
            let cookie = AuthHarness.cookie(session)
            let page = Self.body(try await client.execute(uri: "/whatif", method: .get, headers: cookie))
            let csrf = try #require(page.firstMatch(#"name="csrf" value="([^"]+)""#))
            let form = cookie.merging([.contentType: "application/x-www-form-urlencoded"])
            for token in [nil, "wrong"] {
                var sent = fields
                sent["csrf"] = token
                try await client.execute(uri: "/whatif", method: .post, headers: form, body: Self.encoded(sent)) { response in
                    #expect(response.status == .forbidden)
                    #expect(!Self.body(response).contains("data-change") && !Self.body(response).contains(reference))
                }
            }
            try await client.execute(uri: "/whatif", method: .post, headers: form, body: Self.encoded(fields.merging(["csrf": csrf]) { $1 })) { response in
                #expect(response.status == .ok)
                #expect(Self.count(Self.body(response), "crm", .deletedSooner) == 4)
                #expect(Self.body(response).contains("kim"))
            }
        }
        let off = try await Harness(adminToken: nil, operators: [:])
        try await off.test { client in
            try await client.execute(uri: "/whatif", method: .get, headers: Self.bearer) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/whatif", method: .post, headers: Self.form, body: Self.encoded(fields)) { #expect($0.status == .forbidden) }
        }
    }

    // MARK: Words

    @Test func bothLanguagesHaveEveryWordTheTemplateUses() throws {
        #expect(Set(DashboardTexts.whatIfKo.keys) == Set(DashboardTexts.whatIfEn.keys))
        #expect(Set(DashboardTexts.whatIfKo.keys).isDisjoint(with: DashboardTexts.ko.keys), "no word of the other pages is replaced")
        let used = PageTemplates.whatIf.components(separatedBy: "{{t.").dropFirst().map { String($0.prefix { $0 != "}" }) }
        for language in [Hub.Language.ko, .en] {
            let table = DashboardTexts.table(language)
            for key in used + PolicyComparison.Change.allCases.map({ "change_\($0.rawValue)" }) + ["nav_whatif"] {
                #expect(table[key]?.isEmpty == false, "\(language) \(key)")
            }
        }
    }
}
