import ArgumentParser
import Foundation
import RetentionCore
import RetentionStore

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put dead-lettered operations back in the outbox; the next sync executes them."
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Retry every dead operation.")
    var all = false

    @Argument(help: "Operation ids (op-…) as shown by `lethe status --json` or the audit log.")
    var operations: [String] = []

    func validate() throws {
        if all == !operations.isEmpty { throw ValidationError("give operation ids or --all (not both)") }
    }

    func run() async throws {
        let workspace = try Workspace(options: global)
        let store = try await workspace.openStore()
        let retried = try await store.retryDead(ids: all ? nil : operations, by: workspace.operatorName, at: workspace.clock.now())
        let output = workspace.environment.output
        if global.json {
            output.out(JSONOutput.line(["retried": retried]))
        } else {
            output.out("\(retried.count) dead operations back in the outbox; run `lethe sync` to execute them")
        }
        if !all, retried.count < operations.count {
            output.err("error: \(operations.count - retried.count) of the given ids are not dead operations")
            throw ExitStatus.badUsage.exitCode
        }
    }
}
