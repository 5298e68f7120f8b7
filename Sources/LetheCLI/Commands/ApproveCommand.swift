import ArgumentParser
import Foundation
import LetheConfig
import RetentionCore
import RetentionStore

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Release a batch held by the safety limits; the next sync executes exactly its deletes and marks its missing records gone."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The approval batch id printed by `lethe sync` (e.g. contacts-1).")
    var batch: String

    @Option(help: "The operator recorded in the audit log and the destruction register (default: $USER).")
    var by: String?

    func run() async throws {
        let workspace = try Workspace(options: global)
        let store = try await workspace.openStore()
        let approved: ApprovalBatch
        do {
            approved = try await store.approve(batch: batch, by: by ?? workspace.operatorName, at: workspace.clock.now())
        } catch let error as StoreError {
            workspace.environment.output.err("error: \(error.message)")
            throw ExitStatus.badUsage.exitCode
        }
        let output = workspace.environment.output
        if global.json {
            output.out(JSONOutput.line(approved))
        } else {
            var parts = ["\(approved.operationCount) operations"]
            if approved.missingRecords > 0 { parts.append("\(approved.missingRecords) records missing from the source") }
            output.out("approved batch \(approved.id) (\(parts.joined(separator: ", "))) by \(approved.approvedBy ?? "?"); run `lethe sync` to apply it")
        }
    }
}
