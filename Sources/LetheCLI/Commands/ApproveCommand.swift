import ArgumentParser
import Foundation
import HubServer
import LetheConfig
import RetentionCore
import RetentionStore

struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Release a batch held by the safety limits; the next sync executes exactly its deletes and marks its missing records gone.",
        discussion: """
            With approval.twoPersonAbove in the config, a batch with more deletes needs two approvals by two different \
            operators, each proving who they are with their own token: put it in an environment variable and name it \
            with --token-env (LETHE_OPERATOR_TOKEN is read when set); LETHE_ADMIN_TOKEN is the operator `admin`. The \
            first approval leaves the batch waiting ("1 of 2"); the second releases it, and both names go to the audit \
            log and the destruction register. A name given with --by does not count toward the two.

            --reject BATCH --reason TEXT rejects a batch instead: its deletes are cancelled and never executed, its \
            records stay. The next sync decides them again: still over the safety limits, they wait in a new batch.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The approval batch id printed by `lethe sync` (e.g. contacts-1).")
    var batch: String?

    @Option(help: "Reject this batch instead of approving one (needs --reason).")
    var reject: String?

    @Option(help: "Why the batch is rejected (recorded in the audit log; no personal data).")
    var reason: String?

    @Option(help: "The environment variable holding your operator token (default: LETHE_OPERATOR_TOKEN, when set).")
    var tokenEnv: String?

    @Option(help: "The operator recorded in the audit log and the destruction register (default: $USER); not proof of who you are.")
    var by: String?

    func validate() throws {
        guard (batch == nil) != (reject == nil) else {
            throw ValidationError("give either a batch to approve or --reject BATCH")
        }
        if reject != nil, (reason ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--reject needs --reason TEXT (why the batch is rejected)")
        }
        if reject == nil, reason != nil { throw ValidationError("--reason goes with --reject") }
    }

    func run() async throws {
        let workspace = try Workspace(options: global)
        let output = workspace.environment.output
        let approver = try self.approver(workspace)
        let store = try await workspace.openStore()
        let result: ApprovalBatch
        do {
            if let reject {
                result = try await store.reject(batch: reject, by: approver.recordedAs, reason: reason ?? "", at: workspace.clock.now())
            } else {
                result = try await store.approve(
                    batch: batch ?? "", as: approver, twoPersonAbove: workspace.configuration.approval.twoPersonAbove, at: workspace.clock.now())
            }
        } catch let error as StoreError {
            output.err("error: \(error.message)")
            throw ExitStatus.badUsage.exitCode
        }
        if global.json {
            output.out(JSONOutput.line(result))
            return
        }
        var parts = ["\(result.operationCount) operations"]
        if result.missingRecords > 0 { parts.append("\(result.missingRecords) records missing from the source") }
        switch result.status {
        case .rejected:
            output.out("rejected batch \(result.id) (\(parts.joined(separator: ", "))) by \(result.rejectedBy ?? "?"): its deletes are cancelled; the next sync decides them again")
        case .approved:
            output.out("approved batch \(result.id) (\(parts.joined(separator: ", "))) by \(result.approvedBy ?? "?"); run `lethe sync` to apply it")
        case .open:
            let required = result.approvalsRequired(twoPersonAbove: workspace.configuration.approval.twoPersonAbove)
            let names = result.signoffs.map(\.recordedAs).joined(separator: ", ")
            output.out("batch \(result.id) (\(parts.joined(separator: ", "))): \(result.signoffs.count) of \(required) approvals (\(names)); another operator must approve it")
        }
    }

    /// The operator a token proves (`--token-env`, or LETHE_OPERATOR_TOKEN when set), else the stated name.
    func approver(_ workspace: Workspace) throws -> Approver {
        let variables = workspace.environment.variables
        let variable = tokenEnv ?? (variables["LETHE_OPERATOR_TOKEN"].map { _ in "LETHE_OPERATOR_TOKEN" })
        guard let variable else { return .stated(by ?? workspace.operatorName) }
        guard by == nil else {
            throw ConfigError(code: "config.usage", location: nil, key: "--by", problem: "the token names the operator; leave out --by")
        }
        guard let token = variables[variable], !token.isEmpty else {
            throw ConfigError(code: "config.environment", location: nil, key: variable, problem: "is not set or empty (it should hold your operator token)")
        }
        guard let name = workspace.operatorAuthenticator().operatorName(token: token) else {
            throw ConfigError(code: "config.unknown_operator", location: nil, key: variable,
                              problem: "holds no configured operator's token (operators: in the config, or LETHE_ADMIN_TOKEN)")
        }
        return .authenticated(name)
    }
}
