import Crypto
import Foundation
@testable import LetheCLI
import RetentionStore
import Testing

/// `lethe approve` with operators' tokens (the four-eyes rule) and `--reject`.
@Suite struct ApproveCommandTests {
    static let kimToken = "kim-token-for-the-cli-tests-0123456789abcdef"
    static let leeToken = "lee-token-for-the-cli-tests-0123456789abcdef"

    static func hash(_ token: String) -> String {
        "sha256:" + SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The shipped config with `tail` appended, beside links to the shipped policies and templates.
    static func config(_ harness: CLIHarness, tail: String) throws -> String {
        let folder = harness.root.appendingPathComponent("conf")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["policies", "templates"] {
            try FileManager.default.createSymbolicLink(
                at: folder.appendingPathComponent(name), withDestinationURL: CLIHarness.repository.appendingPathComponent("config/\(name)"))
        }
        let text = try String(contentsOf: CLIHarness.repository.appendingPathComponent("config/lethe.yaml"), encoding: .utf8)
        let file = folder.appendingPathComponent("lethe.yaml")
        try (text + "\n" + tail).write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static let operators = """
        operators:
          - name: kim
            tokenHash: \(hash(kimToken))
          - name: lee
            tokenHash: \(hash(leeToken))
        approval:
          twoPersonAbove: 1
        """

    @Test func aLargeBatchNeedsTwoOperatorsTokensAndTheRegisterNamesBoth() async throws {
        var harness = try CLIHarness()
        let config = try Self.config(harness, tail: Self.operators)
        let first = await harness.run(["sync", "--as-of", asOf, "--json"], config: config)
        #expect(first.status == 3)
        let waiting = try #require(first.json["awaitingApproval"] as? Int)
        #expect(waiting > 1)
        let batch = try #require(first.json["approvalBatch"] as? String)

        let stated = await harness.run(["approve", batch, "--by", "kim"], config: config)
        #expect(stated.status == 2, "a name given with --by does not count: \(stated.stdout)")
        #expect(stated.stderr.contains("--by does not count"))

        harness.variables["KIM_TOKEN"] = Self.kimToken
        harness.variables["WRONG_TOKEN"] = Self.kimToken + "x"
        let wrong = await harness.run(["approve", batch, "--token-env", "WRONG_TOKEN"], config: config)
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("no configured operator"))

        let kim = await harness.run(["approve", batch, "--token-env", "KIM_TOKEN"], config: config)
        #expect(kim.status == 0, "\(kim.stderr)")
        #expect(kim.stdout.contains("1 of 2 approvals (kim)"))
        let again = await harness.run(["approve", batch, "--token-env", "KIM_TOKEN"], config: config)
        #expect(again.status == 2)
        #expect(again.stderr.contains("kim already approved"))

        let stillWaiting = await harness.run(["sync", "--as-of", asOf, "--json"], config: config)
        #expect(stillWaiting.status == 3)
        #expect(stillWaiting.json["deleted"] as? Int == 0, "one approval releases nothing")

        harness.variables["LETHE_OPERATOR_TOKEN"] = Self.leeToken
        let lee = await harness.run(["approve", batch], config: config)
        #expect(lee.status == 0, "\(lee.stderr)")
        #expect(lee.stdout.contains("by kim, lee"))
        let second = await harness.run(["sync", "--as-of", asOf, "--json"], config: config)
        #expect(second.json["deleted"] as? Int == waiting)

        let export = harness.root.appendingPathComponent("register.csv")
        #expect(await harness.run(["audit", "export", "--output", export.path], config: config).status == 0)
        let rows = try String(contentsOf: export, encoding: .utf8).split(separator: "\r\n").dropFirst()
        let deletes = rows.filter { $0.contains("레코드 전체") }
        #expect(deletes.count == waiting)
        #expect(deletes.allSatisfy { $0.contains("\"kim, lee\"") }, "the approver column names both: \(deletes.first ?? "")")
        let store = try SQLiteStateStore(path: harness.state.appendingPathComponent("lethe.sqlite"))
        let granted = try await store.auditEntries(after: 0, limit: 100_000).map(\.draft).filter { $0.event == "approval.granted" }
        #expect(granted.map { $0.detail["operator"] } == ["kim, lee"])
        #expect(await harness.run(["audit", "verify"], config: config).status == 0)
    }

    @Test func aRejectedBatchDeletesNothingAndTheNextSyncHoldsItsDeletesAgain() async throws {
        let harness = try CLIHarness()
        let before = try String(contentsOf: harness.csv, encoding: .utf8)
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(first.status == 3)
        let waiting = try #require(first.json["awaitingApproval"] as? Int)
        let batch = try #require(first.json["approvalBatch"] as? String)
        #expect(await harness.run(["approve", "--reject", batch]).status == 2, "a rejection needs a reason")
        let rejected = await harness.run(["approve", "--reject", batch, "--reason", "the export looked truncated", "--by", "kim"])
        #expect(rejected.status == 0, "\(rejected.stderr)")
        #expect(rejected.stdout.contains("rejected batch \(batch)"))
        #expect(await harness.run(["approve", batch, "--by", "kim"]).status == 2, "a rejected batch cannot be approved")

        let next = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(next.status == 3)
        #expect(next.json["deleted"] as? Int == 0)
        #expect(next.json["awaitingApproval"] as? Int == waiting, "the same deletes wait again")
        let newBatch = try #require(next.json["approvalBatch"] as? String)
        #expect(newBatch != batch)
        let lines = { (text: String) in text.split(separator: "\r\n").count }
        #expect(lines(try String(contentsOf: harness.csv, encoding: .utf8)) == lines(before), "no row was deleted")

        #expect(await harness.run(["approve", newBatch, "--by", "kim"]).status == 0, "without the rule one stated approval suffices, as before")
        let applied = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(applied.json["deleted"] as? Int == waiting)
        let store = try SQLiteStateStore(path: harness.state.appendingPathComponent("lethe.sqlite"))
        let audit = try await store.auditEntries(after: 0, limit: 100_000).map(\.draft)
        let entry = try #require(audit.first { $0.event == "approval.rejected" })
        #expect(entry.detail["operator"] == "kim" && entry.detail["reason"] == "the export looked truncated")
    }
}
