import ArgumentParser
import Foundation
import LetheConfig
import RetentionCore
import RetentionStore

struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Legal holds: a held record gets no operation at all until the hold is removed.",
        subcommands: [Add.self, Remove.self, List.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put records on legal hold.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The connector the records belong to.") var connector: String
        @Option(help: "Why (recorded in the audit log; no personal data).") var reason: String
        @Option(help: "The operator (default: $USER).") var by: String?
        @Argument(help: "Record ids in the source.") var ids: [String]

        func run() async throws {
            try await HoldCommand.change(global: global, connector: connector, ids: ids, add: true, reason: reason, by: by)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release records from legal hold.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The connector the records belong to.") var connector: String
        @Option(help: "Why the hold ends (recorded in the audit log; no personal data).") var reason: String = ""
        @Option(help: "The operator (default: $USER).") var by: String?
        @Argument(help: "Record ids in the source.") var ids: [String]

        func run() async throws {
            try await HoldCommand.change(
                global: global, connector: connector, ids: ids, add: false, reason: reason.trimmingCharacters(in: .whitespacesAndNewlines), by: by)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List legal holds (by pseudonymous reference).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this connector.") var connector: String?

        func run() async throws {
            let workspace = try Workspace(options: global)
            let holds = try await workspace.openStore().holds(connector: connector)
            let output = workspace.environment.output
            if global.json {
                output.out(JSONOutput.line(["holds": holds]))
                return
            }
            if holds.isEmpty { output.out("no holds") }
            for hold in holds {
                output.out("\(hold.connector)  \(hold.reference)  \(ISO8601DateFormatter().string(from: hold.createdAt))  \(hold.createdBy)  \(hold.reason)")
            }
        }
    }

    static func change(global: GlobalOptions, connector: String, ids: [String], add: Bool, reason: String, by: String?) async throws {
        let workspace = try Workspace(options: global)
        _ = try workspace.connectors(named: connector)
        guard !ids.isEmpty else { throw ValidationError("give at least one record id") }
        let store = try await workspace.openStore()
        let who = by ?? workspace.operatorName
        var changed: [String] = []
        for id in ids {
            let reference = try await store.knownReference(connector: connector, recordID: id.trimmingCharacters(in: .whitespaces))
            let didChange = add
                ? try await store.addHold(connector: connector, reference: reference, reason: reason, by: who, at: workspace.clock.now())
                : try await store.removeHold(connector: connector, reference: reference, reason: reason, by: who, at: workspace.clock.now())
            if didChange { changed.append(reference) }
        }
        let output = workspace.environment.output
        if global.json {
            output.out(JSONOutput.line(["changed": changed]))
        } else {
            output.out("\(add ? "held" : "released") \(changed.count) of \(ids.count) records: \(changed.joined(separator: ", "))")
        }
    }
}
