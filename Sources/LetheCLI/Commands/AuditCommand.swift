import ArgumentParser
import Foundation
import LetheConfig
import RetentionCore
import RetentionStore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the hash-chained audit log; publish signed checkpoints; export the destruction register.",
        discussion: """
            The chain shows edits on its own; a checkpoint kept outside the state also shows entries removed from \
            the end or a chain rebuilt consistently. Every sync ends with a signed checkpoint (in `lethe sync --json`); \
            `checkpoint` makes one now, `pubkey` prints the key that signs them, `verify --checkpoint FILE \
            --pubkey KEY` checks the log against checkpoints kept elsewhere.
            """,
        subcommands: [Verify.self, Checkpoint.self, Pubkey.self, Export.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that no audit entry was edited, inserted or removed (exit 1 if so).",
            discussion: """
                With --checkpoint, the log must also still hold what each checkpoint in FILE signed (entry N with \
                its hash), and each signature must verify with --pubkey (default: the key in the state, which an \
                attacker holding the state could have replaced: pass the key exported with `lethe audit pubkey`).
                """
        )
        @OptionGroup var global: GlobalOptions
        @Option(
            help: "A file of checkpoints kept outside the state: JSON lines as `lethe audit checkpoint` or `lethe sync --json` print them."
        )
        var checkpoint: String?
        @Option(help: "The public key that signed the checkpoints: base64 as `lethe audit pubkey` prints it, or a file holding it.")
        var pubkey: String?

        func run() async throws {
            let workspace = try Workspace(options: global)
            guard checkpoint != nil || pubkey == nil else { throw ValidationError("--pubkey needs --checkpoint") }
            let checkpoints = try checkpoint.map(Self.readCheckpoints)
            let key = try pubkey.map(Self.readPublicKey)
            let store = try await workspace.openStore()
            var report: VerifyReport
            if let checkpoints {
                let result = try await store.verifyAudit(against: checkpoints, publicKey: key)
                report = VerifyReport(result.chain)
                report.checkpoint = CheckpointReport(ok: result.problem == nil, seq: result.checkpoint.seq, problem: result.problem)
                report.ok = result.ok
            } else {
                report = VerifyReport(try await store.verifyAudit())
            }
            let output = workspace.environment.output
            if global.json {
                output.out(JSONOutput.line(report))
            } else {
                if report.problem == nil {
                    output.out("audit log OK: \(report.entries) entries, head \(report.headHash)")
                } else {
                    output.out("audit log BROKEN: \(report.problem ?? "unknown problem")")
                }
                if let checkpoint = report.checkpoint {
                    output.out(
                        checkpoint.ok
                            ? "checkpoint OK: entry \(checkpoint.seq) is as signed"
                            : "checkpoint FAILED: \(checkpoint.problem ?? "unknown problem")")
                }
            }
            if !report.ok { throw ExitStatus.operationalFailure.exitCode }
        }

        static func readCheckpoints(_ path: String) throws -> [AuditCheckpoint] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("--checkpoint: cannot read \(path)")
            }
            do {
                return try AuditCheckpoint.parse(String(decoding: data, as: UTF8.self))
            } catch let error as StoreError {
                throw ValidationError("--checkpoint: \(path): \(error.message)")
            }
        }

        /// Base64 of the raw key, or a file holding it (or the `--json` output of `lethe audit pubkey`).
        static func readPublicKey(_ text: String) throws -> AuditPublicKey {
            if let key = AuditPublicKey(base64: text) { return key }
            guard let data = FileManager.default.contents(atPath: text) else {
                throw ValidationError("--pubkey: neither a base64 Ed25519 public key nor a readable file")
            }
            struct Exported: Decodable { var publicKey: String }
            let content = String(decoding: data, as: UTF8.self)
            let exported = try? JSONDecoder().decode(Exported.self, from: data)
            guard let key = AuditPublicKey(base64: exported?.publicKey ?? content) else {
                throw ValidationError("--pubkey: \(text) holds no base64 Ed25519 public key")
            }
            return key
        }

        struct VerifyReport: Encodable {
            var ok: Bool
            var entries: Int64
            var headHash: String
            var problem: String?
            var checkpoint: CheckpointReport?

            init(_ chain: AuditVerification) {
                ok = chain.ok
                entries = chain.entries
                headHash = chain.headHash
                problem = chain.problem
            }
        }

        struct CheckpointReport: Encodable {
            var ok: Bool
            var seq: Int64
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
            let register = try await DestructionRegister.load(from: try await workspace.openStore())
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
