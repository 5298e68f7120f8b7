import Foundation
import RetentionCore
import RetentionStore

/// Follows destructive operations through the audit log (queued, approved, retried, dead, done,
/// cancelled) so a report can tell which were still open at a month's end and what became of them.
/// Audit times follow each command's clock, which `--as-of` may set back: states are judged by
/// time, not by log order.
struct OperationTracker {
    struct Step {
        var at: Date
        /// `queued`, `awaiting-approval`, `retrying`, `dead`, `done` or `cancelled`.
        var state: String
        var note: String
    }

    struct Tracked {
        var connector: String
        var reference: String
        var kind: String
        var rule: String
        var expiry: Date
        var batch: String?
        var steps: [Step] = []
    }

    private(set) var operations: [String: Tracked] = [:]
    /// Approval batch → when and by whom it was approved.
    private var approvals: [String: (at: Date, by: String)] = [:]

    mutating func observe(_ draft: AuditDraft) {
        let detail = draft.detail
        if draft.event == "approval.granted", let batch = detail["batch"] {
            approvals[batch] = (draft.at, detail["operator"] ?? "?")
            return
        }
        guard let id = draft.operation else { return }
        switch draft.event {
        case "operation.queued":
            guard let kind = detail["kind"], ComplianceReport.destructiveKinds.contains(kind),
                  let expiry = detail["cycle"].flatMap(ComplianceReport.instant) else { return }
            var tracked = operations[id] ?? Tracked(connector: draft.connector ?? "", reference: draft.reference ?? "", kind: kind,
                                                     rule: draft.rule ?? "", expiry: expiry)
            tracked.batch = detail["batch"] ?? tracked.batch
            let awaiting = detail["status"] == "awaiting-approval"
            tracked.steps.append(Step(at: draft.at, state: awaiting ? "awaiting-approval" : "queued", note: detail["batch"] ?? ""))
            operations[id] = tracked
        case "operation.retry":
            operations[id]?.steps.append(Step(at: draft.at, state: "retrying", note: detail["code"] ?? "unknown"))
        case "operation.retried":
            operations[id]?.steps.append(Step(at: draft.at, state: "queued", note: "retried by \(detail["operator"] ?? "?")"))
        case "operation.dead":
            operations[id]?.steps.append(Step(at: draft.at, state: "dead", note: detail["code"] ?? "unknown"))
        case "operation.done":
            operations[id]?.steps.append(Step(at: draft.at, state: "done", note: detail["operator"] ?? ""))
        case "operation.cancelled":
            operations[id]?.steps.append(Step(at: draft.at, state: "cancelled", note: detail["reason"] ?? ""))
        default:
            break
        }
    }

    /// Destructions queued before the month's end (or `now`, when earlier), due before it, and
    /// neither done nor cancelled by then; with what happened to each afterwards.
    func pendingAtEnd(of month: ReportMonth, now: Date, grace: (String) -> Period) -> [ComplianceReport.Overdue] {
        let cutoff = min(month.end, now)
        var overdue: [ComplianceReport.Overdue] = []
        for (id, tracked) in operations {
            let steps = tracked.steps.sorted { $0.at < $1.at }
            let before = steps.filter { $0.at < cutoff }
            guard let last = before.last, !["done", "cancelled"].contains(last.state) else { continue }
            let due = grace(tracked.connector).added(to: tracked.expiry, in: month.zone)
            guard due < cutoff else { continue }
            let later = steps.first { $0.at >= cutoff && ["done", "cancelled"].contains($0.state) }
            overdue.append(
                ComplianceReport.Overdue(
                    connector: tracked.connector, reference: tracked.reference, operation: id, kind: tracked.kind, rules: tracked.rule,
                    expiry: tracked.expiry, due: due, destroyedAt: later?.state == "done" ? later?.at : nil, status: "pending",
                    daysLate: ComplianceReport.days(from: due, to: cutoff),
                    resolution: resolution(of: tracked, at: last, cutoff: cutoff, later: later, zone: month.zone)))
        }
        return overdue
    }

    private func resolution(of tracked: Tracked, at last: Step, cutoff: Date, later: Step?, zone: TimeZone) -> String {
        let stamp = DateFormatter()
        stamp.timeZone = zone
        stamp.locale = Locale(identifier: "en_US_POSIX")
        stamp.dateFormat = "yyyy-MM-dd HH:mm"
        var open: String
        switch last.state {
        case "awaiting-approval":
            if let batch = tracked.batch, let approval = approvals[batch], approval.at < cutoff {
                open = "승인 후 미실행 (approved in batch \(batch) by \(approval.by), not yet executed)"
            } else {
                open = "승인 대기 (awaiting approval of batch \(tracked.batch ?? "?"))"
            }
        case "dead": open = "실패 보관 (dead-lettered: \(last.note))"
        case "retrying": open = "재시도 중 (retrying after \(last.note))"
        default: open = "대기 (pending)"
        }
        switch later?.state {
        case "done":
            let approval = tracked.batch.flatMap { approvals[$0] }.map { ", approved by \($0.by)" } ?? ""
            return open + "; 이후 파기 (destroyed \(stamp.string(from: later!.at))\(approval))"
        case "cancelled":
            return open + "; 이후 취소 (cancelled \(stamp.string(from: later!.at)): \(later!.note))"
        default:
            return open + "; 보고 시점 미해결 (still open when the report was made)"
        }
    }
}
