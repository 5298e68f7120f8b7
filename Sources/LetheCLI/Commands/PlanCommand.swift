import ArgumentParser
import Foundation
import RetentionStore
import LetheConfig
import RetentionCore
import SyncCoordinator

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "What will happen within a horizon (notices, erasures, deletes, quarantine). Changes nothing.",
        discussion: """
            Reads the state as the last sync left it (no source is read) and writes nothing; a record changed \
            in its source since then is planned as it was. Event kinds: delete (or \
            archive-then-delete), erase-fields, notify (extension notice), reconfirm (the 2-year consent \
            re-confirmation of policies with reconfirm:), quarantined, held.

            With --policy FILE: what adopting the policy in FILE instead would change, per connector — records \
            deleted sooner or later, newly deleted, no longer deleted, erasing or noticed otherwise within the \
            horizon, with a few examples by pseudonymous reference, and the fields FILE needs that the state does \
            not keep (read as empty). Writes nothing.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "How far ahead to look (e.g. 30d, 6m, 1y).")
    var horizon: String = "30d"

    @Option(help: "table, json or csv.")
    var format: String = "table"

    @Option(help: "Plan only this connector.")
    var connector: String?

    @Option(help: "Compare the current policy with the policy in this file (table or json).")
    var policy: String?

    struct Report: Encodable {
        var asOf: Date
        var horizon: String
        var counts: [String: Int]
        var events: [Planner.Event]
    }

    func run() async throws {
        let format = global.json ? "json" : format
        guard ["table", "json", "csv"].contains(format) else { throw ValidationError("--format must be table, json or csv") }
        guard let period = Period(parsing: horizon) else { throw ValidationError("--horizon: '\(horizon)' is not a period such as 30d (at most 1000y)") }
        if let policy {
            guard format != "csv" else { throw ValidationError("--policy reports as a table or json, not csv") }
            return try await whatIf(policyFile: policy, period: period, format: format)
        }
        let workspace = try Workspace(options: global)
        let store = try await workspace.openStore()
        let now = workspace.clock.now()
        var events: [Planner.Event] = []
        for configured in try workspace.connectors(named: connector) {
            let policy = try workspace.policy(for: configured)
            let planned = try await Planner(policy: policy, now: now, horizon: period).events(connector: configured.name, store: store)
            if planned.isEmpty, try await store.liveCount(connector: configured.name) == 0 {
                workspace.environment.output.err(
                    "\(configured.name): nothing is known of this connector yet: run `lethe sync` (or `lethe sync --dry-run` to see what it would do)")
            }
            events += planned
        }
        events.sort { ($0.date, $0.kind, $0.line ?? 0) < ($1.date, $1.kind, $1.line ?? 0) }
        let counts = Dictionary(grouping: events, by: \.kind).mapValues(\.count)
        let report = Report(asOf: now, horizon: period.description, counts: counts, events: events)
        let output = workspace.environment.output
        switch format {
        case "json":
            output.out(JSONOutput.line(report))
        case "csv":
            output.write(csv(events, zone: workspace.configuration.policies.values.first?.zone ?? .current))
        default:
            let stamp = ISO8601DateFormatter()
            stamp.timeZone = workspace.configuration.policies.values.first?.zone ?? .current
            output.out("plan as of \(stamp.string(from: now)), horizon \(period):")
            output.out("  " + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd"
            formatter.timeZone = workspace.configuration.policies.values.first?.zone
            for event in events {
                let line = event.line.map { "line \($0)" } ?? ""
                output.out("  \(formatter.string(from: event.date))  \(event.kind)  \(event.rule)  \(event.connector)  \(event.reference ?? "-")  \(line)  \(event.reason ?? "")")
            }
        }
    }

    private func csv(_ events: [Planner.Event], zone: TimeZone) -> Data {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        var text = "date,kind,rule,connector,reference,line,reason\r\n"
        for event in events {
            let cells = [formatter.string(from: event.date), event.kind, event.rule, event.connector, event.reference ?? "", event.line.map(String.init) ?? "", event.reason ?? ""]
            text += cells.map(DestructionRegister.cell).joined(separator: ",") + "\r\n"
        }
        return Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)
    }
}


