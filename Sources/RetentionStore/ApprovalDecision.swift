package import Foundation

/// What an approval or a rejection decides, whatever the store: the four-eyes rule's checks, who
/// approved, and the audit detail. The store supplies the batch as it stands and writes the outcome.
package enum ApprovalDecision {
    /// The approvers once `approver` has approved `current` (earlier sign-offs first), how many the
    /// batch needs, and the detail of its audit entry. Throws `approval.needs_operator` or
    /// `approval.same_operator` when the approval cannot count.
    package static func approve(
        _ current: ApprovalBatch, as approver: Approver, twoPersonAbove: Int?
    ) throws -> (approvers: [String], required: Int, detail: [String: String]) {
        let size = current.deletes + current.missingRecords
        let required = current.approvalsRequired(twoPersonAbove: twoPersonAbove)
        if required > 1 {
            guard let name = approver.operatorName else {
                throw StoreError(
                    code: "approval.needs_operator",
                    message: "batch '\(current.id)' holds \(size) deletes, more than approval.twoPersonAbove (\(twoPersonAbove ?? 0)): it needs "
                        + "approvals by two different operators, each with their own token (lethe approve --token-env, the admin API or "
                        + "the dashboard); a name given with --by does not count")
            }
            if current.signoffs.contains(where: { $0.operatorName == name }) {
                throw StoreError(
                    code: "approval.same_operator", message: "\(name) already approved batch '\(current.id)'; the second approval must come from another operator")
            }
        }
        var approvers = current.signoffs.filter { $0.operatorName != approver.operatorName }.map(\.recordedAs)
        approvers.append(approver.recordedAs)
        var detail = [
            "batch": current.id, "operations": String(current.operationCount), "missingRecords": String(current.missingRecords),
            "approvals": "\(approvers.count) of \(required)",
        ]
        detail["operator"] = approvers.count >= required ? approvers.joined(separator: ", ") : approver.recordedAs
        return (approvers, required, detail)
    }

    /// A rejection's reason on one line; throws `approval.reason_required` when it is blank.
    package static func rejectionReason(_ reason: String) throws -> String {
        let reason = reason.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        guard !reason.isEmpty else {
            throw StoreError(code: "approval.reason_required", message: "say why the batch is rejected (--reason); nothing was changed")
        }
        return reason
    }

    /// The batch when it is open; throws `approval.not_open` when it was approved or rejected.
    package static func requireOpen(_ batch: ApprovalBatch) throws -> ApprovalBatch {
        switch batch.status {
        case .open: return batch
        case .approved: throw StoreError(code: "approval.not_open", message: "approval batch '\(batch.id)' was already approved")
        case .rejected: throw StoreError(code: "approval.not_open", message: "approval batch '\(batch.id)' was rejected")
        }
    }
}
