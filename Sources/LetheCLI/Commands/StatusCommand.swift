import ArgumentParser
import Foundation
import LetheConfig
import RetentionCore
import RetentionStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Records by state, operations by outcome, approvals waiting, dead letters, overdue destructions."
    )

    @OptionGroup var global: GlobalOptions

    struct Report: Encodable {
        var records: [String: [String: Int]]
        var operations: [String: [String: Int]]
        var openApprovalBatches: [ApprovalBatch]
        var holds: Int
        var auditEntries: Int64
        var overdueDestructions: [String: Int]
        var deadOperations: Int
        /// Webhook events whose processing failed every attempt, by connector.
        var deadWebhookEvents: [String: Int]
        /// By connector: records or erased fields seen again after Lethe destroyed them (each enforced again).
        var reappeared: [String: Int]
    }

    func run() async throws {
        let workspace = try Workspace(options: global)
        let store = try await workspace.openStore()
        let counts = try await store.statusCounts()
        var overdue: [String: Int] = [:]
        var deadEvents: [String: Int] = [:]
        for connector in workspace.configuration.connectors {
            deadEvents[connector.name] = try await store.webhookEventCounts(connector: connector.name).dead
            let policy = try workspace.policy(for: connector)
            let cutoff = policy.destroyWithin.subtracted(from: workspace.clock.now(), in: policy.zone)
            overdue[connector.name] = try await store.overdueCount(connector: connector.name, expiredBefore: cutoff)
        }
        let dead = counts.operations.values.flatMap { $0 }.filter { $0.key.hasSuffix("/dead") }.map(\.value).reduce(0, +)
        let report = Report(
            records: counts.records, operations: counts.operations, openApprovalBatches: counts.openBatches,
            holds: counts.holds, auditEntries: counts.auditEntries, overdueDestructions: overdue, deadOperations: dead,
            deadWebhookEvents: deadEvents, reappeared: counts.reappeared
        )
        let output = workspace.environment.output
        if global.json {
            output.out(JSONOutput.line(report))
            return
        }
        for connector in workspace.configuration.connectors.map(\.name) {
            let records = (counts.records[connector] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            output.out("\(connector): records \(records.isEmpty ? "none yet" : records.joined(separator: ", "))")
            let operations = (counts.operations[connector] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            if !operations.isEmpty { output.out("  operations: \(operations.joined(separator: ", "))") }
            output.out("  overdue destructions (past expiry + destroyWithin): \(overdue[connector] ?? 0)")
            if let count = counts.reappeared[connector], count > 0 {
                output.out("  reappeared after destruction (enforced again): \(count)")
            }
            if let events = deadEvents[connector], events > 0 {
                output.out("  dead webhook events: \(events) (their processing failed every attempt; the scheduled sync still covers those records)")
            }
        }
        for batch in counts.openBatches {
            let missing = batch.missingRecords > 0 ? ", \(batch.missingRecords) records missing from the source" : ""
            output.out("approval waiting: batch \(batch.id) (\(batch.operationCount) operations\(missing)): `lethe approve \(batch.id)`")
        }
        if dead > 0 { output.out("dead operations: \(dead) (see `lethe status --json`)") }
        output.out("holds: \(counts.holds); audit entries: \(counts.auditEntries)")
    }
}
