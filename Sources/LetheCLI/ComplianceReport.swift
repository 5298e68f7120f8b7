import Foundation
import RetentionCore
import RetentionStore

/// What a month of enforcement did, read from the audit log and the approval batches: completed
/// operations by connector, purpose and legal basis, overdue destructions and how they ended, legal
/// holds, approvals with their approvers, and the month's rows of the destruction register.
/// Records appear only by their pseudonymous reference, as in the audit log.
struct ComplianceReport: Encodable {
    /// Completed operations of one kind with the same connector, purposes and legal basis.
    struct Tally: Encodable, Hashable {
        var connector: String
        /// `delete`, `erase-fields`, `extend`, `notify`, `archive`, `archive-purge`, or `dead:KIND:CODE`.
        var action: String
        var rules: String
        var legalBasis: String
        var count: Int
    }

    /// A destruction done later than its expiry plus the policy's `destroyWithin`, or still not done
    /// at the end of the month although that time had passed.
    struct Overdue: Encodable {
        var connector: String
        var reference: String
        var operation: String
        var kind: String
        var rules: String
        var expiry: Date
        var due: Date
        /// When it was destroyed (nil: not by the time the report was made).
        var destroyedAt: Date?
        /// `destroyed-late` (destroyed in the month, after `due`) or `pending` (open at the month's end).
        var status: String
        /// Whole days between `due` and the destruction (or the month's end when still pending).
        var daysLate: Int
        var resolution: String
    }

    struct HoldEvent: Encodable {
        var at: Date
        var connector: String
        var reference: String
        /// `placed` or `lifted`.
        var action: String
        var operatorName: String
        var reason: String
    }

    struct Approval: Encodable {
        var batch: String
        var connector: String
        var requestedAt: Date
        var approvedAt: Date?
        var approvedBy: String?
        var operations: Int
        var missingRecords: Int
    }

    struct Summary: Encodable, Equatable {
        var destroyed = 0
        var erased = 0
        var extended = 0
        var notified = 0
        var archived = 0
        var archivePurged = 0
        var deadLettered = 0
        var overdueLate = 0
        var overduePending = 0
        var holdsPlaced = 0
        var holdsLifted = 0
        var approvalsGranted = 0
    }

    var month: String
    var zone: String
    var start: Date
    var end: Date
    var generatedAt: Date
    var summary = Summary()
    var actions: [Tally] = []
    var overdue: [Overdue] = []
    var holds: [HoldEvent] = []
    var approvals: [Approval] = []
    /// The destruction register's rows destroyed within the month.
    var register: [DestructionRegister.Row] = []

    /// Kinds of operation that destroy personal data and so must be done within `destroyWithin`.
    static let destructiveKinds: Set<String> = ["delete", "erase-fields"]

    /// `destroyWithin` by connector (connectors no longer configured get the PIPA default of 5 days).
    static func load(
        from store: any StateStore, month: ReportMonth, now: Date, destroyWithin: [String: Period]
    ) async throws -> ComplianceReport {
        var report = ComplianceReport(month: month.label, zone: month.zone.identifier, start: month.start, end: month.end, generatedAt: now)
        let grace = { (connector: String) in destroyWithin[connector] ?? Period(days: 5) }
        var tallies: [Tally: Int] = [:]
        var tracker = OperationTracker()
        var after: Int64 = 0
        while true {
            let entries = try await store.auditEntries(after: after, limit: 5000)
            guard let last = entries.last else { break }
            after = last.seq
            for entry in entries {
                let draft = entry.draft
                tracker.observe(draft)
                guard month.contains(draft.at) else { continue }
                report.count(draft, into: &tallies, grace: grace)
            }
        }
        report.actions = tallies.map { key, count in
            var tally = key
            tally.count = count
            return tally
        }.sorted { ($0.connector, $0.action, $0.rules, $0.legalBasis) < ($1.connector, $1.action, $1.rules, $1.legalBasis) }
        report.overdue += tracker.pendingAtEnd(of: month, now: now, grace: grace)
        report.overdue.sort { ($0.connector, $0.due, $0.operation) < ($1.connector, $1.due, $1.operation) }
        report.summary.overdueLate = report.overdue.count { $0.status == "destroyed-late" }
        report.summary.overduePending = report.overdue.count { $0.status == "pending" }
        report.approvals = try await store.approvalBatches()
            .filter { month.contains($0.createdAt) || $0.approvedAt.map(month.contains) == true }
            .map { Approval(batch: $0.id, connector: $0.connector, requestedAt: $0.createdAt, approvedAt: $0.approvedAt,
                            approvedBy: $0.approvedBy, operations: $0.operationCount, missingRecords: $0.missingRecords) }
            .sorted { ($0.requestedAt, $0.batch) < ($1.requestedAt, $1.batch) }
        report.summary.approvalsGranted = report.approvals.count { $0.approvedAt.map(month.contains) == true }
        report.register = try await DestructionRegister.load(from: store).rows.filter { month.contains($0.destroyedAt) }
        return report
    }

    private mutating func count(_ draft: AuditDraft, into tallies: inout [Tally: Int], grace: (String) -> Period) {
        let connector = draft.connector ?? ""
        let detail = draft.detail
        switch draft.event {
        case "operation.done":
            guard let kind = detail["kind"] else { return }
            let key = Tally(connector: connector, action: kind, rules: detail["rules"] ?? draft.rule ?? "",
                            legalBasis: detail["legalBasis"] ?? "", count: 0)
            tallies[key, default: 0] += 1
            switch kind {
            case "delete": summary.destroyed += 1
            case "erase-fields": summary.erased += 1
            case "extend": summary.extended += 1
            case "notify": summary.notified += 1
            case "archive": summary.archived += 1
            default: break
            }
            guard Self.destructiveKinds.contains(kind), let expiry = detail["expiry"].flatMap(Self.instant) else { return }
            let due = grace(connector).added(to: expiry, in: TimeZone(identifier: zone) ?? .gmt)
            guard draft.at > due else { return }
            let approval = detail["batch"].map { " after approval of batch \($0) by \(detail["operator"] ?? "?")" } ?? ""
            overdue.append(
                Overdue(
                    connector: connector, reference: draft.reference ?? "", operation: draft.operation ?? "", kind: kind,
                    rules: detail["rules"] ?? draft.rule ?? "", expiry: expiry, due: due, destroyedAt: draft.at,
                    status: "destroyed-late", daysLate: Self.days(from: due, to: draft.at),
                    resolution: "파기 완료 (destroyed late\(approval))"))
        case "operation.dead":
            let key = Tally(connector: connector, action: "dead:\(detail["kind"] ?? "?"):\(detail["code"] ?? "unknown")",
                            rules: draft.rule ?? "", legalBasis: "", count: 0)
            tallies[key, default: 0] += 1
            summary.deadLettered += 1
        case "archive.purged":
            let entries = Int(detail["entries"] ?? "") ?? 0
            let key = Tally(connector: connector, action: "archive-purge", rules: "",
                            legalBasis: "archive keep \(detail["keep"] ?? "?") elapsed", count: 0)
            tallies[key, default: 0] += entries
            summary.archivePurged += entries
        case "hold.added", "hold.removed":
            let placed = draft.event == "hold.added"
            holds.append(
                HoldEvent(at: draft.at, connector: connector, reference: draft.reference ?? "", action: placed ? "placed" : "lifted",
                          operatorName: detail["operator"] ?? "", reason: detail["reason"] ?? ""))
            if placed { summary.holdsPlaced += 1 } else { summary.holdsLifted += 1 }
        default:
            break
        }
    }

    /// Reads the audit log's ISO-8601 instants (`2026-11-29T00:00:00Z`, with or without fractions).
    static func instant(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        plain.formatOptions.insert(.withFractionalSeconds)
        return plain.date(from: text)
    }

    static func days(from start: Date, to end: Date) -> Int {
        max(0, Int((end.timeIntervalSince(start) / 86_400).rounded(.up)))
    }
}
