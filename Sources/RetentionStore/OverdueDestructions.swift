public import Foundation
public import RetentionCore

extension AuditStore {
    /// Overdue destructions of a connector at `now`: live, non-held records whose final expiry lies
    /// more than the policy's `destroyWithin` (5 days by default) before `now`, in the policy's zone.
    /// The one computation behind the dashboard, `/api/status`, the metrics and operator alerts.
    public func overdueCount(connector: String, policy: Policy, now: Date) async throws -> Int {
        try await overdueCount(connector: connector, expiredBefore: policy.destroyWithin.subtracted(from: now, in: policy.zone))
    }
}
