import Foundation
import GRDB
import Testing

/// `lethe sync --config config/examples/<crm>.yaml` against a local fake of each provider that
/// answers 10% of calls with a 5xx, every 7th with its rate-limit answer and cuts successful JSON
/// bodies in half (after acting on the request); Salesforce's access token expires every 8 calls.
@Suite(.serialized)
struct RESTSyncTests {
    static let asOf = "2026-11-29T09:00:00+09:00"

    /// 33 contacts: 15 due for deletion, 6 whose marketing expired while payment keeps them (erase),
    /// 10 kept, one renewed between list and delete (must survive), one deleted in the CRM meanwhile.
    static func seed() -> [[String: Any]] {
        func contact(_ id: String, created: String, purpose: [String], consent: Bool? = nil, interests: String = "", extended: String? = nil) -> [String: Any] {
            ["id": id, "created": created, "updated": "2025-01-01T00:00:00Z", "email": "\(id)@example.com", "firstname": "민준", "lastname": "김",
             "purpose": purpose, "marketing_consent": consent as Any? ?? NSNull(), "interests": interests, "consent_extended_at": extended as Any? ?? NSNull()]
        }
        var records: [[String: Any]] = []
        for n in 1...10 { records.append(contact("d\(n)", created: "2020-06-01T00:00:00Z", purpose: ["payment"])) }
        for n in 1...5 { records.append(contact("m\(n)", created: "2023-01-15T00:00:00Z", purpose: ["marketing"], consent: true, interests: "golf")) }
        for n in 1...6 { records.append(contact("e\(n)", created: "2023-06-01T00:00:00Z", purpose: ["payment", "marketing"], consent: true, interests: "hiking")) }
        for n in 1...10 { records.append(contact("k\(n)", created: "2024-03-01T00:00:00Z", purpose: ["payment"])) }
        records.append(contact("c1", created: "2024-10-01T00:00:00Z", purpose: ["marketing"], consent: true, interests: "golf"))
        records.append(contact("g1", created: "2020-06-01T00:00:00Z", purpose: ["payment"]))
        return records
    }

    static let pipedriveKeys = [
        "PIPEDRIVE_FIELD_PURPOSE", "PIPEDRIVE_FIELD_MARKETING_CONSENT", "PIPEDRIVE_FIELD_INTERESTS", "PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT",
    ]

    static func environment(_ provider: String, fake: FakeCRMProcess, fieldKeys: [String: String]) -> [String: String] {
        var variables = ["LETHE_MAX_DELETE_FRACTION": "1", "LETHE_MAX_DELETES_PER_RUN": "1000"]
        switch provider {
        case "hubspot":
            variables["HUBSPOT_BASE_URL"] = fake.baseURL
            variables["HUBSPOT_TOKEN"] = "test-token"
        case "salesforce":
            variables["SALESFORCE_INSTANCE_URL"] = fake.baseURL
            variables["SALESFORCE_REFRESH_TOKEN"] = "rtoken"
            variables["SALESFORCE_CLIENT_ID"] = "cid"
            variables["SALESFORCE_CLIENT_SECRET"] = "csecret"
        default:
            variables["PIPEDRIVE_BASE_URL"] = fake.baseURL
            variables["PIPEDRIVE_API_TOKEN"] = "test-token"
            variables.merge(fieldKeys) { $1 }
        }
        return variables
    }

    @Test(arguments: ["hubspot", "salesforce", "pipedrive", "pipedrive-v1"])
    func syncDeletesExactlyTheDueRecordsUnderFaults(provider: String) async throws {
        // Salesforce access tokens expire (refreshed through OAuth); HubSpot and Pipedrive tokens do not.
        // Salesforce answers few JSON bodies (updates are 204s): cut more of them.
        let expiry = provider == "salesforce" ? ["--token-expires-after", "8", "--truncate-every", "3"] : ["--truncate-every", "11"]
        let fake = try FakeCRMProcess(
            provider: provider, seed: Self.seed(),
            arguments: ["--token", "test-token", "--seed", "7", "--fail-5xx", "0.10", "--rate-limit-every", "7", "--max-page", "10"] + expiry)
        defer { fake.stop() }
        let fieldKeys = try await fake.pipedriveFieldKeys()
        var harness = try CLIHarness()
        harness.variables.merge(Self.environment(provider, fake: fake, fieldKeys: fieldKeys)) { $1 }
        let config = CLIHarness.repository.appendingPathComponent("config/examples/\(provider).yaml").path
        let before = try await fake.records()
        let id = { (name: String) in before.first { $0["email"] as? String == "\(name)@example.com" }!["provider_id"]! }
        // Between the list and the delete, c1 renews its consent and g1 is deleted in the CRM.
        try await fake.afterList(["provider_id": id("c1"), "patch": ["consent_extended_at": "2026-11-20T00:00:00Z"]])
        try await fake.afterList(["provider_id": id("g1"), "delete": true])

        let first = await harness.run(["sync", "--as-of", Self.asOf, "--json"], config: config)
        #expect(first.status == 0, "\(first.stderr)")
        let summary = first.json
        #expect(summary["pulled"] as? Int == 33)
        #expect(summary["fieldsErased"] as? Int == 6)
        #expect(summary["failed"] as? Int == 0)
        #expect(summary["deleted"] as? Int == 16, "15 due + g1, gone at the re-check")
        // Its requests took turns in the account's budget kept in the state, keyed by the fake's host and
        // a fingerprint of the credentials (never the credentials themselves).
        let accounts = try await DatabaseQueue(path: harness.state.appendingPathComponent("lethe.sqlite").path).read { db in
            try String.fetchAll(db, sql: "SELECT account FROM rate_budgets")
        }
        #expect(accounts.count == 1, "\(provider): \(accounts)")
        #expect(accounts.allSatisfy { $0.contains("#") && !$0.contains("test-token") && !$0.contains("rtoken") && !$0.contains("cid") })

        let after = try await fake.records()
        func state(_ name: String) -> [String: Any] { after.first { $0["email"] as? String == "\(name)@example.com" }! }
        for name in (1...10).map({ "d\($0)" }) + (1...5).map({ "m\($0)" }) {
            #expect(state(name)["deleted"] as? Bool == true, "\(provider): \(name) should be deleted")
        }
        for name in (1...10).map({ "k\($0)" }) {
            #expect(state(name)["deleted"] as? Bool == false)
            #expect(state(name)["updates"] as? Int == 0)
        }
        for name in (1...6).map({ "e\($0)" }) {
            #expect(state(name)["deleted"] as? Bool == false)
            #expect(state(name)["interests"] as? String ?? "" == "", "\(provider): \(name) interests erased")
            #expect(state(name)["marketing_consent"] as? Bool != true, "\(provider): \(name) consent withdrawn")
        }
        #expect(state("c1")["deleted"] as? Bool == false, "\(provider): renewed between list and delete")
        let stats = try await fake.stats()
        #expect((stats["rate_limited"] as? Int ?? 0) > 0)
        #expect((stats["failed_5xx"] as? Int ?? 0) > 0)
        #expect((stats["truncated"] as? Int ?? 0) > 0)
        if provider == "salesforce" { #expect((stats["token_refreshes"] as? Int ?? 0) >= 2, "a first token and a refresh after expiry") }

        // The register records soft deletes with the provider's restore window.
        let export = harness.root.appendingPathComponent("register.csv")
        let exported = await harness.run(["audit", "export", "--output", export.path], config: config)
        #expect(exported.status == 0, "\(exported.stderr)")
        let register = try String(contentsOf: export, encoding: .utf8)
        #expect(register.contains("복구 가능 삭제 (soft"))

        // A second sync changes nothing.
        let requestsBefore = stats["by_route"] as? [String: Int] ?? [:]
        let second = await harness.run(["sync", "--as-of", Self.asOf, "--json"], config: config)
        #expect(second.status == 0, "\(second.stderr)")
        let again = second.json
        #expect(again["deleted"] as? Int == 0)
        #expect(again["fieldsErased"] as? Int == 0)
        let routes = try await fake.stats()["by_route"] as? [String: Int] ?? [:]
        let writes = routes.filter { $0.key.hasPrefix("DELETE") || $0.key.hasPrefix("PATCH") || $0.key.hasPrefix("PUT") || $0.key.contains("archive") }
        for (route, count) in writes { #expect(count == requestsBefore[route], "\(provider): \(route) called again") }
        #expect(!first.stdout.contains("test-token") && !first.stderr.contains("test-token"))
    }
}

extension FakeCRMProcess {
    /// Pipedrive's custom field keys as the fake declares them (Tests/FakeCRMs/README.md).
    func pipedriveFieldKeys() async throws -> [String: String] {
        guard provider.hasPrefix("pipedrive") else { return [:] }
        return [
            "PIPEDRIVE_FIELD_PURPOSE": "cc35be25ec2b9702c1f883bcb1e5ee7255aa8a58",
            "PIPEDRIVE_FIELD_MARKETING_CONSENT": "52628b6bab956f26190a1ecae501b7f385363913",
            "PIPEDRIVE_FIELD_INTERESTS": "48263d97b2f52983e656de70bc08b46fd8f7b792",
            "PIPEDRIVE_FIELD_CONSENT_EXTENDED_AT": "a6c2db92912f8dce6b72e679c5db94311e54d081",
        ]
    }
}
