import Foundation
import LetheConfig
import RetentionCore
import SyncCoordinator

extension PlanCommand {
    struct WhatIfReport: Encodable {
        var asOf: Date
        var horizon: String
        /// The other policy's name and file.
        var policy: String
        var file: String
        var connectors: [PolicyComparison.Report]
    }

    /// `lethe plan --policy FILE`: per connector, the records whose outcome within the horizon would
    /// differ under the policy in FILE, from the state alone. The file is loaded and checked like a
    /// policy of the configuration (a bad one fails before the state is opened); nothing is written.
    func whatIf(policyFile: String, period: Period, format: String) async throws {
        let workspace = try Workspace(options: global)
        let other = try ConfigLoader(environment: workspace.environment.variables).loadPolicy(file: URL(fileURLWithPath: policyFile))
        let store = try await workspace.openStore()
        let now = workspace.clock.now()
        let connectors = try workspace.connectors(named: connector).map { (name: $0.name, policy: try workspace.policy(for: $0)) }
        let reports = try await PolicyComparison.reports(connectors: connectors, other: other, now: now, horizon: period, store: store)
        for report in reports where report.records == 0 && report.notRead == 0 {
            workspace.environment.output.err(
                "\(report.connector): nothing is known of this connector yet: run `lethe sync` (or `lethe sync --dry-run` to see what it would do)")
        }
        let output = workspace.environment.output
        if format == "json" {
            output.out(JSONOutput.line(WhatIfReport(asOf: now, horizon: period.description, policy: other.name, file: policyFile, connectors: reports)))
            return
        }
        let stamp = ISO8601DateFormatter()
        stamp.timeZone = other.zone
        let day = DateFormatter()
        day.dateFormat = "yyyy-MM-dd"
        day.timeZone = other.zone
        output.out("what-if: policy \(other.name) (\(policyFile)) instead of the current one, as of \(stamp.string(from: now)), horizon \(period):")
        let columns = PolicyComparison.Change.allCases
        let header = ["connector", "current", "records"] + columns.map(\.label)
        let rows = reports.map { report in
            [report.connector, report.currentPolicy, String(report.records)] + columns.map { String(report.changes[$0.rawValue] ?? 0) }
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            let cells = row.indices.map { $0 == row.count - 1 ? row[$0] : row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
            output.out("  " + cells.joined(separator: "  "))
        }
        for report in reports {
            if report.notRead > 0 {
                output.out("  \(report.connector): \(report.notRead) records not compared (their facts are read again by the next sync)")
            }
            for missing in report.missingFields {
                output.out("  \(report.connector): the state does not keep \(missing.field) (\(missing.kind)), needed for \(missing.neededFor): read as empty")
            }
            for example in report.examples {
                let dates = [example.current, example.other].map { $0.map(day.string(from:)) ?? "-" }.joined(separator: " -> ")
                let days = example.days.map { "  (\($0) days)" } ?? ""
                let detail = example.detail.map { "  (\($0))" } ?? ""
                output.out("  \(report.connector)  \(example.change.label)  \(example.reference)  \(dates)\(days)\(detail)")
            }
        }
    }
}
