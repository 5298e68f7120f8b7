import Foundation
import GRDB
import RetentionStore
@testable import LetheCLI
import Testing

let asOf = "2026-11-29T09:00:00+09:00"

func expected(_ name: String) throws -> [String: Int] {
    let data = try Data(contentsOf: CLIHarness.repository.appendingPathComponent("Tests/Fixtures/\(name)"))
    return try JSONDecoder().decode([String: Int].self, from: data)
}

@Suite struct SyncCommandTests {
    @Test func theExampleMatchesTheOracleAndDeletesWaitForApproval() async throws {
        let harness = try CLIHarness()
        let oracle = try expected("expected-2026-11-29.json")
        let before = try Data(contentsOf: harness.csv)

        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(first.status == 3)
        let summary = first.json
        #expect(summary["pulled"] as? Int == oracle["pulled"])
        #expect(summary["quarantined"] as? Int == oracle["quarantined"])
        #expect(summary["fieldsErased"] as? Int == oracle["fieldsErased"])
        #expect(summary["noticesSent"] as? Int == oracle["noticesSent"])
        #expect(summary["deleted"] as? Int == 0)
        #expect(summary["awaitingApproval"] as? Int == oracle["deleted"])
        let batch = try #require(summary["approvalBatch"] as? String)
        #expect(first.stdout.split(separator: "\n").count == 1, "--json prints exactly one line")
        #expect(try Data(contentsOf: harness.csv) != before, "erasures were applied")

        let approve = await harness.run(["approve", batch, "--by", "kim"])
        #expect(approve.status == 0)
        let second = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(second.status == 0)
        #expect(second.json["deleted"] as? Int == oracle["deleted"])
        let after = try Data(contentsOf: harness.csv)

        let third = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(third.status == 0)
        for key in ["deleted", "fieldsErased", "noticesSent", "awaitingApproval", "failed"] {
            #expect(third.json[key] as? Int == 0, "a second sync with the same --as-of changes nothing (\(key))")
        }
        #expect(try Data(contentsOf: harness.csv) == after)
        let notices = try FileManager.default.contentsOfDirectory(atPath: harness.state.appendingPathComponent("outbox").path)
        #expect(notices.filter { $0.hasSuffix(".eml") }.count == oracle["noticesSent"])

        let verify = await harness.run(["audit", "verify", "--json"])
        #expect(verify.status == 0)
        #expect(verify.json["ok"] as? Bool == true)
    }

    @Test func aCP949FileStaysCP949AndEndsWithTheRowsThePolicySays() async throws {
        let harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-cp949.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        let oracle = try expected("expected-2026-11-29.json")
        let result = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(result.status == 0)
        #expect(result.json["deleted"] as? Int == oracle["deleted"])
        #expect(result.json["fieldsErased"] as? Int == oracle["fieldsErased"])
        let bytes = try Data(contentsOf: harness.csv)
        #expect(String(data: bytes, encoding: .utf8) == nil, "still CP949, not rewritten as UTF-8")
        let text = try #require(String(data: bytes, encoding: String.Encoding(rawValue: 0x8000_0422)))
        #expect(text.hasPrefix("id,name,email"))
        #expect(text.contains("\r\n"))
        let again = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(again.json["deleted"] as? Int == 0)
        #expect(try Data(contentsOf: harness.csv) == bytes)
    }

    @Test func dryRunNeverExits3AndChangesNoSource() async throws {
        let harness = try CLIHarness()
        let before = try Data(contentsOf: harness.csv)
        let result = await harness.run(["sync", "--as-of", asOf, "--dry-run", "--json"])
        #expect(result.status == 0)
        #expect(result.json["dryRun"] as? Bool == true)
        #expect(try Data(contentsOf: harness.csv) == before)
        #expect(!FileManager.default.fileExists(atPath: harness.state.appendingPathComponent("outbox").path))
    }

    @Test func heldRecordsAreNotDeleted() async throws {
        var harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        // A first sync holds every delete for approval (no more than 0 per run), so the plan lists them.
        harness.variables["LETHE_MAX_DELETES_PER_RUN"] = "0"
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(first.status == 3)
        let batch = try #require(first.json["approvalBatch"] as? String)
        let plan = await harness.run(["plan", "--as-of", asOf, "--horizon", "0d", "--json"])
        #expect(plan.status == 0)
        let events = try #require(plan.json["events"] as? [[String: Any]])
        let deletes = events.filter { $0["kind"] as? String == "delete" }
        #expect(deletes.count == (try expected("expected-small-2026-11-29.json"))["deleted"])
        // Find the id of the first delete's line in the CSV, and hold it.
        let line = try #require(deletes.first?["line"] as? Int)
        let rows = try String(contentsOf: harness.csv, encoding: .utf8).components(separatedBy: "\r\n")
        let id = String(rows[line - 1].split(separator: ",").first ?? "").replacingOccurrences(of: "\u{FEFF}", with: "")
        let hold = await harness.run(["hold", "add", "--connector", "contacts", "--reason", "litigation", id])
        #expect(hold.status == 0)
        #expect(await harness.run(["approve", batch, "--by", "kim"]).status == 0)
        let sync = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(sync.json["deleted"] as? Int == deletes.count - 1)
        #expect(sync.json["held"] as? Int == 1)
        #expect(try String(contentsOf: harness.csv, encoding: .utf8).contains("\r\n\(id),"))
        let list = await harness.run(["hold", "list", "--json"])
        #expect((list.json["holds"] as? [Any])?.count == 1)
        let lift = await harness.run(["hold", "remove", "--connector", "contacts", "--reason", "case closed", "--by", "lee", id, "--json"])
        #expect(lift.status == 0)
        #expect((lift.json["changed"] as? [String])?.count == 1)
        #expect(((await harness.run(["hold", "list", "--json"])).json["holds"] as? [Any])?.isEmpty == true)
        let store = try SQLiteStateStore(path: harness.state.appendingPathComponent("lethe.sqlite"))
        let lifted = try await store.auditEntries(after: 0, limit: 100_000).map(\.draft).last { $0.event == "hold.removed" }
        #expect(lifted?.detail == ["operator": "lee", "reason": "case closed"], "who lifted the hold and why are in the audit log")
    }

    /// The state keeps dates, purposes, consent flags, lifecycle and keyed references: none of the
    /// contacts' e-mails, names, phones or free text, not even for the notices and deletes still pending.
    @Test func theStateHoldsNoPersonalData() async throws {
        let harness = try CLIHarness()
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(first.status == 3, "deletes held for approval: live records and pending work stay in the state")
        let text = try String(contentsOf: harness.csv, encoding: .utf8)
        let rows = text.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        // id,name,email,phone,…: every name, e-mail and phone (of six bytes or more).
        let needles = Set(rows.flatMap { $0.count > 3 ? [$0[1], $0[2], $0[3]] : [] }.filter { $0.utf8.count >= 6 && !$0.hasPrefix("\"") })
        #expect(needles.count > 100)
        var bytes = Data()
        for name in try FileManager.default.contentsOfDirectory(atPath: harness.state.path) where name.hasPrefix("lethe.sqlite") {
            bytes += try Data(contentsOf: harness.state.appendingPathComponent(name))
        }
        #expect(bytes.count > 10_000)
        let found = needles.filter { bytes.range(of: Data($0.utf8)) != nil }
        #expect(found.isEmpty, "\(found.count) personal values found in the state")
    }

    @Test func noPersonalDataInLogs() async throws {
        let harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        let result = await harness.run(["sync", "--as-of", asOf, "--verbose"])
        #expect(result.status == 0)
        #expect(!result.stderr.contains("@example"))
        #expect(!result.stderr.contains("010-"))
    }
}
