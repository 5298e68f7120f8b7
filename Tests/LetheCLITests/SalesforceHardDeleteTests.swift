import Foundation
import Testing

/// `lethe sync` on config/examples/salesforce.yaml with SALESFORCE_DELETE_MODE=permanent against the
/// fake Salesforce: due contacts are deleted by Bulk API 2.0 hardDelete jobs and the destruction
/// register says so; only what the job's results confirm is recorded as destroyed.
@Suite(.serialized)
struct SalesforceHardDeleteTests {
    static let asOf = "2026-11-29T09:00:00+09:00"

    /// d1…d4 are due for deletion (payment kept 5 years from 2020), k1 and k2 are kept.
    static func seed() -> [[String: Any]] {
        func contact(_ id: String, created: String) -> [String: Any] {
            ["id": id, "created": created, "updated": "2025-01-01T00:00:00Z", "email": "\(id)@example.com", "firstname": "민준",
             "lastname": "김", "purpose": ["payment"], "marketing_consent": NSNull(), "interests": "", "consent_extended_at": NSNull()]
        }
        return (1...4).map { contact("d\($0)", created: "2020-06-01T00:00:00Z") } + (1...2).map { contact("k\($0)", created: "2024-03-01T00:00:00Z") }
    }

    struct Run {
        var sync: CLIHarness.Result
        var records: [String: [String: Any]]
        var register: String
        var routes: [String: Int]
    }

    /// One sync with the given fake faults (set before it runs); `ids` maps seed names to Salesforce ids.
    static func sync(mode: String?, faults: ([String: String]) -> [String: Any] = { _ in [:] }) async throws -> Run {
        let fake = try FakeCRMProcess(provider: "salesforce", seed: seed(), arguments: ["--token", "test-token"])
        defer { fake.stop() }
        let before = try await fake.records()
        var ids: [String: String] = [:]
        for record in before { ids[(record["email"] as? String ?? "").replacingOccurrences(of: "@example.com", with: "")] = record["provider_id"] as? String }
        let settings = faults(ids)
        if !settings.isEmpty { try await fake.faults(settings) }
        var harness = try CLIHarness()
        harness.variables.merge(RESTSyncTests.environment("salesforce", fake: fake, fieldKeys: [:])) { $1 }
        if let mode { harness.variables["SALESFORCE_DELETE_MODE"] = mode }
        let config = CLIHarness.repository.appendingPathComponent("config/examples/salesforce.yaml").path
        let sync = await harness.run(["sync", "--as-of", asOf, "--json"], config: config)
        let export = harness.root.appendingPathComponent("register.csv")
        let exported = await harness.run(["audit", "export", "--output", export.path], config: config)
        #expect(exported.status == 0, "\(exported.stderr)")
        var records: [String: [String: Any]] = [:]
        for record in try await fake.records() {
            records[(record["email"] as? String ?? "").replacingOccurrences(of: "@example.com", with: "")] = record
        }
        let routes = try await fake.stats()["by_route"] as? [String: Int] ?? [:]
        return Run(sync: sync, records: records, register: try String(contentsOf: export, encoding: .utf8), routes: routes)
    }

    @Test func dueContactsAreHardDeletedAndTheRegisterSaysPermanent() async throws {
        // The job is still running at the first two status checks.
        let run = try await Self.sync(mode: "permanent") { _ in ["job_polls_in_progress": 2] }
        #expect(run.sync.status == 0, "\(run.sync.stderr)")
        #expect(run.sync.json["deleted"] as? Int == 4)
        #expect(run.sync.json["failed"] as? Int == 0)
        for name in ["d1", "d2", "d3", "d4"] {
            #expect(run.records[name]?["permanently_deleted"] as? Bool == true, "\(name) is gone for good")
        }
        for name in ["k1", "k2"] { #expect(run.records[name]?["deleted"] as? Bool == false) }
        #expect(run.routes["POST /services/data/v60.0/jobs/ingest"] == 1, "four ids, one job")
        #expect(run.routes["GET /services/data/v60.0/jobs/ingest/{id}"] == 3, "polled until JobComplete")
        #expect(run.routes["DELETE /services/data/v60.0/composite/sobjects"] == nil, "no soft delete")
        let rows = run.register.components(separatedBy: "\r\n").filter { $0.contains("hard delete (Bulk API 2.0)") }
        #expect(rows.count == 4)
        #expect(rows.allSatisfy { $0.contains("영구 삭제 (permanent)") })
        #expect(!run.register.contains("복구 가능 삭제 (soft"))
    }

    @Test func aRecordTheJobRefusesStaysAndOnlyItIsFailed() async throws {
        let run = try await Self.sync(mode: "permanent") { ids in
            ["job_record_errors": [ids["d2"]!: "DELETE_FAILED:Your attempt to delete this contact could not be completed:--"]]
        }
        #expect(run.sync.status == 1, "a dead operation: \(run.sync.stderr)")
        #expect(run.sync.json["deleted"] as? Int == 3)
        #expect(run.sync.json["failed"] as? Int == 1)
        #expect(run.records["d2"]?["deleted"] as? Bool == false)
        for name in ["d1", "d3", "d4"] { #expect(run.records[name]?["permanently_deleted"] as? Bool == true) }
        #expect(run.register.components(separatedBy: "\r\n").filter { $0.contains("hard delete (Bulk API 2.0)") }.count == 3)
        #expect(!run.sync.stdout.contains("Your attempt") && !run.sync.stderr.contains("Your attempt"), "provider messages stay out")
    }

    @Test func aFailedJobDestroysNothingInTheRegister() async throws {
        let run = try await Self.sync(mode: "permanent") { _ in ["job_end_state": "Failed"] }
        #expect(run.sync.status == 1)
        #expect(run.sync.json["deleted"] as? Int == 0)
        for name in ["d1", "d2", "d3", "d4"] { #expect(run.records[name]?["deleted"] as? Bool == false) }
        #expect(!run.register.contains("원본 레코드 삭제"), "no destruction recorded")
    }

    @Test func withoutTheSettingSalesforceDeletesAreSoft() async throws {
        let run = try await Self.sync(mode: nil)
        #expect(run.sync.status == 0, "\(run.sync.stderr)")
        #expect(run.sync.json["deleted"] as? Int == 4)
        for name in ["d1", "d2", "d3", "d4"] {
            #expect(run.records[name]?["deleted"] as? Bool == true)
            #expect(run.records[name]?["permanently_deleted"] as? Bool == false, "in the Recycle Bin")
        }
        #expect(run.routes["POST /services/data/v60.0/jobs/ingest"] == nil)
        #expect(run.register.contains("복구 가능 삭제 (soft"))
        #expect(!run.register.contains("hard delete"))
    }
}
