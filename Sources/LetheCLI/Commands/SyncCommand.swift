import ArgumentParser
import FileArchiveSink
import Foundation
import RetentionStore
import LetheConfig
import RetentionCore
import SyncCoordinator

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Pull, evaluate every live record and execute the due operations.",
        discussion: """
            Quarantines bad records, sends extension notices, erases expired optional fields and deletes expired \
            records. Deletes over the safety limits wait for `lethe approve BATCH` (exit 3). --dry-run reads and \
            evaluates and reports what would happen, and writes nothing: not the state, the sources or the sinks. \
            With `alerts:` in the config, operators are then mailed, once per event, about batches waiting for \
            approval, dead operations and overdue destructions.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "Sync only this connector.")
    var connector: String?

    @Flag(name: .customLong("dry-run"), help: "Read, evaluate and report what would happen; write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Pull only what changed since the last sync (connectors with an incremental pull); vanished records are not detected.")
    var incremental = false

    func run() async throws {
        let workspace = try Workspace(options: global)
        try workspace.checkSecrets()
        let store = try await workspace.openStore()
        let coordinator = try workspace.coordinator(store: store)
        let targets = try workspace.connectors(named: connector)
        let runtimes = try targets.map { try workspace.runtime($0) }
        var report = SyncReport(total: SyncSummary(connector: connector ?? "*", dryRun: dryRun, asOf: workspace.clock.now()))
        for runtime in runtimes {
            do {
                let summary = try await coordinator.sync(runtime, options: .init(dryRun: dryRun, incremental: incremental))
                report.total.add(summary)
                report.connectors.append(summary)
            } catch {
                let message = (error as? any LetheError)?.message ?? "\(type(of: error))"
                report.errors.append("\(runtime.name): \(message)")
                // The code names what broke without any of the message's paths or values.
                workspace.log(.error, "sync failed", ["connector": runtime.name, "code": (error as? any LetheError)?.code ?? "\(type(of: error))"])
            }
        }
        for runtime in runtimes { await runtime.shutdown?() }
        // The archive's own retention: what outlived its `keep` is destroyed and recorded, then a
        // checkpoint covers those entries too.
        if !dryRun, connector == nil, let maintenance = try? ArchiveCommand.maintenance(workspace), maintenance.keep != nil {
            do {
                if try await !ArchiveCommand.purge(maintenance, workspace: workspace, store: store).isEmpty {
                    _ = try await store.appendAuditCheckpoint(at: workspace.clock.now(), unlessCurrent: true)
                }
            } catch {
                report.errors.append("archive purge: \((error as? any LetheError)?.message ?? "\(type(of: error))")")
                workspace.log(.error, "archive purge failed", [:])
            }
        }
        // Operator alerts (`alerts:`): batches waiting, dead operations, overdue destructions, each mailed once.
        // A mail that cannot be sent is logged and tried again at the next check; it does not change the exit status.
        if !dryRun, let alerts = try workspace.operatorAlerts(store: store) { await alerts.checkLogged() }
        report.total.quarantined = report.total.quarantinedRows.count
        if !dryRun { report.checkpoint = try? await store.latestAuditCheckpoint() }
        let output = workspace.environment.output
        if global.json {
            output.out(JSONOutput.line(report))
        } else {
            output.out(report.text(workspace: workspace))
        }
        let status = report.exitStatus(dryRun: dryRun)
        if status != .success { throw status.exitCode }
    }
}

/// The result of `lethe sync`: totals at the top level, one summary per connector.
struct SyncReport: Encodable {
    var total: SyncSummary
    var connectors: [SyncSummary] = []
    var errors: [String] = []
    /// The signed audit checkpoint the run ended with (none for a dry run): keep it outside the state
    /// for `lethe audit verify --checkpoint`.
    var checkpoint: AuditCheckpoint?

    private enum CodingKeys: String, CodingKey { case connectors, errors, checkpoint }

    func encode(to encoder: any Encoder) throws {
        try total.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(connectors, forKey: .connectors)
        try container.encode(errors, forKey: .errors)
        try container.encodeIfPresent(checkpoint, forKey: .checkpoint)
    }

    func exitStatus(dryRun: Bool) -> ExitStatus {
        if total.failed > 0 || total.pending > 0 || !errors.isEmpty { return .operationalFailure }
        if !dryRun, total.awaitingApproval > 0 || total.missingAwaitingApproval > 0 { return .awaitingApproval }
        return .success
    }

    func text(workspace: Workspace) -> String {
        var lines: [String] = []
        let mode = total.dryRun ? " (dry run: nothing was queued or changed)" : ""
        for summary in connectors {
            lines.append(
                "\(summary.connector): pulled \(summary.pulled), quarantined \(summary.quarantinedRows.count), "
                    + "notices \(summary.noticesSent), fields erased \(summary.fieldsErased), archived \(summary.archived), "
                    + "deleted \(summary.deleted), failed \(summary.failed)\(mode)"
            )
            if summary.awaitingApproval > 0 {
                let batch = summary.approvalBatch ?? "?"
                lines.append("  \(summary.awaitingApproval) deletes wait for approval in batch \(batch): run `lethe approve \(batch)`")
            }
            if summary.missingAwaitingApproval > 0 {
                let batch = summary.approvalBatch ?? "?"
                lines.append("  \(summary.missingAwaitingApproval) records missing from the source (more than the safety limits allow) "
                    + "are not marked gone: check the source, or run `lethe approve \(batch)` if they really went")
            }
            if summary.pending > 0 {
                lines.append("  \(summary.pending) operations failed for now and stay pending: the next run retries them")
            }
            if summary.cancelled > 0 { lines.append("  \(summary.cancelled) operations cancelled after re-check") }
            for row in summary.quarantinedRows.prefix(10) {
                lines.append("  quarantined: line \(row.line.map(String.init) ?? "?"): \(row.code) (\(row.reason))")
            }
            if summary.quarantinedRows.count > 10 {
                lines.append("  … and \(summary.quarantinedRows.count - 10) more quarantined rows (see --json or `lethe plan`)")
            }
        }
        for error in errors { lines.append("error: \(error)") }
        return lines.joined(separator: "\n")
    }
}
