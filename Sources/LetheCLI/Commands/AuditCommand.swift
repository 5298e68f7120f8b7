import ArgumentParser
import Foundation
import LetheConfig
import RetentionCore
import RetentionStore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the hash-chained audit log; export the destruction register.",
        subcommands: [Verify.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check that no audit entry was edited, inserted or removed (exit 1 if so).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let workspace = try Workspace(options: global)
            let result = try await workspace.openStore().verifyAudit()
            let output = workspace.environment.output
            if global.json {
                output.out(JSONOutput.line(VerifyReport(ok: result.ok, entries: result.entries, headHash: result.headHash, problem: result.problem)))
            } else if result.ok {
                output.out("audit log OK: \(result.entries) entries, head \(result.headHash)")
            } else {
                output.out("audit log BROKEN: \(result.problem ?? "unknown problem")")
            }
            if !result.ok { throw ExitStatus.operationalFailure.exitCode }
        }

        struct VerifyReport: Encodable {
            var ok: Bool
            var entries: Int64
            var headHash: String
            var problem: String?
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export the destruction register (파기 관리대장): CSV in UTF-8 with BOM for Excel, or JSON."
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "csv or json.") var format: String = "csv"
        @Option(help: "Write to this file instead of stdout.") var output: String?

        func run() async throws {
            let workspace = try Workspace(options: global)
            let format = global.json ? "json" : format
            guard ["csv", "json"].contains(format) else { throw ValidationError("--format must be csv or json") }
            let register = try await DestructionRegister.load(from: try workspace.openStore())
            let zone = workspace.configuration.policies.values.first?.zone ?? TimeZone(identifier: "Asia/Seoul")!
            let data = format == "csv" ? register.csv(zone: zone) : Data((JSONOutput.line(["register": register.rows]) + "\n").utf8)
            if let output {
                try data.write(to: URL(fileURLWithPath: output), options: .atomic)
                workspace.environment.output.err("wrote \(register.rows.count) register rows to \(output)")
            } else {
                workspace.environment.output.write(data)
            }
        }
    }
}
