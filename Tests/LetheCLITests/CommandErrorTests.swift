import Foundation
import GRDB
@testable import LetheCLI
import Testing

@Suite struct CommandErrorTests {
    @Test func aBadSettingNamesFileLineAndKeyAndExits2() async throws {
        let harness = try CLIHarness(variables: ["LETHE_MAX_DELETES_PER_RUN": "abc"])
        let result = await harness.run(["sync", "--as-of", asOf])
        #expect(result.status == 2)
        #expect(result.stderr.contains("lethe.yaml:"))
        #expect(result.stderr.contains("maxDeletesPerRun"))
        let validate = await harness.run(["config", "validate"])
        #expect(validate.status == 2)
        #expect(validate.stderr.contains("maxDeletesPerRun"))
    }

    @Test func theShippedConfigValidates() async throws {
        let harness = try CLIHarness()
        let result = await harness.run(["config", "validate", "--json"])
        #expect(result.status == 0)
        #expect(result.json["ok"] as? Bool == true)
    }

    @Test(arguments: [
        ["sync", "--as-of", "yesterday"],
        ["sync", "--bogus"],
        ["frobnicate"],
        ["approve"],
        ["plan", "--format", "xml"],
        ["sync", "--connector", "nope"],
        ["plan", "--horizon", "1000000000000y"],
        ["plan", "--horizon", "1001y"],
    ])
    func badUsageExits2(_ arguments: [String]) async throws {
        let harness = try CLIHarness()
        let result = await harness.run(arguments)
        #expect(result.status == 2)
        #expect(!result.stderr.isEmpty)
    }

    @Test func approvingAnUnknownBatchExits2() async throws {
        let harness = try CLIHarness()
        let result = await harness.run(["approve", "contacts-99"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("contacts-99"))
    }

    @Test func aMissingCSVIsAClearFailure() async throws {
        var harness = try CLIHarness()
        harness.variables["LETHE_CSV_PATH"] = harness.root.appendingPathComponent("missing.csv").path
        let result = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(result.status == 1)
        #expect((result.json["errors"] as? [String])?.first?.contains("missing.csv") == true)
        // The log names what broke by its code, without the message's path.
        let verbose = await harness.run(["sync", "--as-of", asOf, "--json", "-v"])
        let line = verbose.stderr.split(separator: "\n").first { $0.contains("sync failed") } ?? ""
        #expect(line.contains("code=csv.file_missing"), "\(verbose.stderr)")
        #expect(!line.contains("missing.csv"))
    }

    @Test func auditVerifyFailsAfterAnyEditOfTheAuditData() async throws {
        let harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        #expect(await harness.run(["sync", "--as-of", asOf]).status == 0)
        #expect(await harness.run(["audit", "verify"]).status == 0)
        let database = try DatabaseQueue(path: harness.state.appendingPathComponent("lethe.sqlite").path)
        try await database.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_delete")
            try db.execute(sql: "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
        }
        let result = await harness.run(["audit", "verify"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("BROKEN"))
    }

    @Test func theRegisterIsExcelReadyCSV() async throws {
        let harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        _ = await harness.run(["sync", "--as-of", asOf])
        let path = harness.root.appendingPathComponent("register.csv").path
        let result = await harness.run(["audit", "export", "--format", "csv", "--output", path])
        #expect(result.status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF])
        let text = String(decoding: data.dropFirst(3), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        let expectedCounts = try expected("expected-small-2026-11-29.json")
        #expect(lines.count == 1 + expectedCounts["deleted"]! + expectedCounts["fieldsErased"]!)
        #expect(lines[0].hasPrefix("파기일시"))
        #expect(!text.contains("@example"))
    }

    @Test(arguments: [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-2", "'-2"), ("@x", "'@x"), ("a,b", "\"a,b\""), ("q\"q", "\"q\"\"q\""), ("plain", "plain")])
    func registerCellsAreEscaped(_ input: String, _ output: String) {
        #expect(DestructionRegister.cell(input) == output)
    }
}

@Suite struct HelpTests {
    @Test(arguments: [["--help"], ["sync", "--help"], ["audit", "export", "--help"], ["hold", "add", "--help"]])
    func helpIsPrintedAndExits0(_ arguments: [String]) async throws {
        let harness = try CLIHarness()
        let result = await harness.run(arguments)
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE"))
    }

    @Test func rootHelpListsEveryCommandAndTheExitCodes() async throws {
        let result = await (try CLIHarness()).run(["--help"])
        for command in ["sync", "plan", "status", "approve", "hold", "retry", "audit", "connectors", "config"] {
            #expect(result.stdout.contains(command))
        }
        // Help text is wrapped to the terminal's width: compare with the line breaks folded.
        let text = result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("3 deletes or records missing from the source wait for approval"))
        #expect(text.contains("operations stay pending for the next run"))
    }
}
