package import Foundation
package import RetentionCore

/// The small texts every store writes the same way: a quarantine reason in its column, the detail of
/// an `operation.queued` or `hold.removed` audit entry.
package enum StoreText {
    /// A quarantine reason as stored: its code and detail, separated by U+001F.
    package static func reasonText(_ reason: QuarantineReason?) -> String? {
        reason.map { "\($0.code)\u{1F}\($0.detail)" }
    }

    package static func reason(_ text: String?) -> QuarantineReason? {
        guard let text else { return nil }
        let parts = text.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false)
        return QuarantineReason(code: String(parts[0]), detail: parts.count > 1 ? String(parts[1]) : "")
    }

    /// The detail of a `hold.removed` entry: who lifted it, and why when a reason was given.
    package static func holdRemoved(by holder: String, reason: String) -> [String: String] {
        reason.isEmpty ? ["operator": holder] : ["operator": holder, "reason": reason]
    }

    /// The detail of an operation's `operation.queued` entry.
    package static func queuedDetail(_ operation: OutboxOperation) -> [String: String] {
        queuedDetail(kind: operation.kind.rawValue, status: operation.status, cycle: operation.cycle, batch: operation.batch)
    }

    package static func queuedDetail(kind: String, status: OperationStatus, cycle: Date, batch: String?) -> [String: String] {
        var detail = ["kind": kind, "status": status.rawValue, "cycle": StoreCoding.timestamp(cycle)]
        if let batch { detail["batch"] = batch }
        return detail
    }
}
