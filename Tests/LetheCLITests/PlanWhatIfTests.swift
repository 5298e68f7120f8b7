import Foundation
@testable import LetheCLI
import Testing

/// `lethe plan --policy FILE`: what another policy would change, from the state alone.
@Suite struct PlanWhatIfTests {
    static let fixture = "Tests/Fixtures/whatif-contacts.csv"

    /// The shipped kr-pipa policy with one change, written beside the harness's state.
    static func variant(_ harness: CLIHarness, replacing old: String, with new: String, name: String = "other.yaml") throws -> String {
        let shipped = try String(contentsOf: CLIHarness.repository.appendingPathComponent("config/policies/kr-pipa.yaml"), encoding: .utf8)
        #expect(shipped.components(separatedBy: old).count == 2, "the shipped policy holds '\(old)' once")
        let file = harness.root.appendingPathComponent(name)
        try shipped.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func synced(csvFixture: String = fixture) async throws -> CLIHarness {
        let harness = try CLIHarness(csvFixture: csvFixture)
        let sync = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect([0, 3].contains(sync.status), "the sync ran: \(sync.stderr)")
        return harness
    }

    static func connector(_ result: CLIHarness.Result) throws -> [String: Any] {
        let connectors = try #require(result.json["connectors"] as? [[String: Any]])
        return try #require(connectors.first { $0["connector"] as? String == "contacts" })
    }

    @Test func aShorterDisputePeriodDeletesTheDisputeRecordsThatReachItWithinTheHorizonSooner() async throws {
        let harness = try await Self.synced()
        let other = try Self.variant(harness, replacing: "period: 3y", with: "period: 2y")
        let result = await harness.run(["plan", "--as-of", asOf, "--horizon", "90d", "--policy", other, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let contacts = try Self.connector(result)
        let changes = try #require(contacts["changes"] as? [String: Int])
        // W001-W003 (2 years old within 90 days) and W009 (2 years old already); W004 only after the horizon,
        // W005 kept by payment, W006-W008 have no dispute purpose.
        #expect(changes["deletedSooner"] == 4)
        #expect(changes["same"] == 5)
        #expect(changes.filter { !["deletedSooner", "same"].contains($0.key) }.values.allSatisfy { $0 == 0 })
        #expect(contacts["records"] as? Int == 9)
        #expect((contacts["missingFields"] as? [Any])?.isEmpty == true)
        let examples = try #require(contacts["examples"] as? [[String: Any]])
        #expect(examples.count == 3, "three examples per change")
        for example in examples {
            #expect(example["change"] as? String == "deletedSooner")
            #expect([365, 91].contains(example["days"] as? Int ?? 0), "a year sooner, or now instead of 2027-03-01")
            let reference = try #require(example["reference"] as? String)
            #expect(reference.hasPrefix("r-"), "pseudonymous references, never ids")
            #expect(!reference.contains("W00"))
        }
        #expect(result.json["horizon"] as? String == "90d")
        #expect(result.json["policy"] as? String == "kr-pipa")

        let table = await harness.run(["plan", "--as-of", asOf, "--horizon", "90d", "--policy", other])
        #expect(table.status == 0)
        #expect(table.stdout.contains("deleted-sooner"))
        #expect(table.stdout.contains("(365 days)"))
        #expect(!table.stdout.contains("W001"), "no source ids in the output")
    }

    @Test func theCurrentPolicyItselfChangesNothing() async throws {
        let harness = try await Self.synced(csvFixture: "config/examples/contacts.csv")
        let same = CLIHarness.repository.appendingPathComponent("config/policies/kr-pipa.yaml").path
        let result = await harness.run(["plan", "--as-of", asOf, "--horizon", "1y", "--policy", same, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let contacts = try Self.connector(result)
        let changes = try #require(contacts["changes"] as? [String: Int])
        let records = try #require(contacts["records"] as? Int)
        #expect(records > 1_900)
        #expect(changes["same"] == records)
        #expect(changes.values.reduce(0, +) == records)
        #expect((contacts["examples"] as? [Any])?.isEmpty == true)
        #expect((contacts["missingFields"] as? [Any])?.isEmpty == true)
    }

    @Test func aFieldTheStateDoesNotKeepIsNamed() async throws {
        let harness = try await Self.synced()
        let other = CLIHarness.repository.appendingPathComponent("config/policies/kr-marketing-5y.yaml").path
        let result = await harness.run(["plan", "--as-of", asOf, "--horizon", "90d", "--policy", other, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let missing = try #require(try Self.connector(result)["missingFields"] as? [[String: String]])
        #expect(missing.map { $0["field"] } == ["marketing_confirmed_at"])
        #expect(missing.first?["kind"] == "date")
        #expect(missing.first?["neededFor"]?.contains("'marketing'") == true)

        let table = await harness.run(["plan", "--as-of", asOf, "--horizon", "90d", "--policy", other])
        #expect(table.stdout.contains("the state does not keep marketing_confirmed_at"))
    }

    @Test func aNewEraseFieldAndConsentAreNamed() async throws {
        let harness = try await Self.synced()
        let other = try Self.variant(
            harness, replacing: "erase: {interests: \"\", marketing_consent: \"N\"}",
            with: "erase: {interests: \"\", phone: \"\", marketing_consent: \"N\"}\n      endsWithoutConsent: sms_consent")
        let result = await harness.run(["plan", "--as-of", asOf, "--horizon", "90d", "--policy", other, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let missing = try #require(try Self.connector(result)["missingFields"] as? [[String: String]])
        #expect(Set(missing.compactMap { $0["field"] }) == ["phone", "sms_consent"])
        #expect(missing.first { $0["field"] == "phone" }?["kind"] == "erasable")
        #expect(missing.first { $0["field"] == "sms_consent" }?["kind"] == "consent")
    }

    @Test func aBadPolicyFileExits2NamingFileLineAndKeyAndChangesNothing() async throws {
        let harness = try await Self.synced()
        let other = try Self.variant(harness, replacing: "period: 3y", with: "period: 3 years", name: "bad.yaml")
        let line = try #require(try String(contentsOfFile: other, encoding: .utf8).components(separatedBy: "\n").firstIndex { $0.contains("period: 3 years") }) + 1
        let before = try ConcurrentRunTests.dump(harness)
        let result = await harness.run(["plan", "--as-of", asOf, "--policy", other, "--json"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("bad.yaml:\(line)"), "\(result.stderr)")
        #expect(result.stderr.contains("rules[1].period"), "\(result.stderr)")
        #expect(try ConcurrentRunTests.dump(harness) == before)

        let missing = await harness.run(["plan", "--as-of", asOf, "--policy", harness.root.appendingPathComponent("none.yaml").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("none.yaml"))
        let csv = await harness.run(["plan", "--as-of", asOf, "--policy", other, "--format", "csv"])
        #expect(csv.status == 2)
    }

    @Test func theStateIsUnchanged() async throws {
        let harness = try await Self.synced(csvFixture: "config/examples/contacts.csv")
        let other = try Self.variant(harness, replacing: "period: 3y", with: "period: 1y")
        let before = try ConcurrentRunTests.dump(harness)
        #expect(before.contains("== audit_head"))
        for arguments in [["--json"], []] {
            let result = await harness.run(["plan", "--as-of", asOf, "--horizon", "2y", "--policy", other] + arguments)
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try ConcurrentRunTests.dump(harness) == before, "not a row of the state changed, the audit head included")
        let verify = await harness.run(["audit", "verify", "--json"])
        #expect(verify.json["ok"] as? Bool == true)
    }
}
