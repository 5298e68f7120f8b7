public import Foundation

/// What one `sync` did, for people (`lethe sync`) and machines (`--json`). Counts only: no personal data.
public struct SyncSummary: Sendable, Codable, Equatable {
    public struct QuarantinedRow: Sendable, Codable, Equatable {
        public var line: Int?
        public var reference: String?
        public var code: String
        public var reason: String
    }

    public var connector: String
    public var dryRun: Bool
    public var asOf: Date
    public var pulled = 0
    public var quarantined = 0
    public var noticesSent = 0
    public var extended = 0
    public var fieldsErased = 0
    public var archived = 0
    public var deleted = 0
    public var failed = 0
    /// Operations that failed transiently and wait, pending, for a later run (not deferred ones).
    public var pending = 0
    public var cancelled = 0
    public var awaitingApproval = 0
    /// Records missing from a full pull beyond the safety limits: not marked gone until approved.
    public var missingAwaitingApproval = 0
    public var approvalBatch: String?
    public var gone = 0
    /// Records (or erased fields) seen again after Lethe destroyed them, enforced again in this run.
    public var reappeared = 0
    public var held = 0
    public var liveRecords = 0
    public var quarantinedRows: [QuarantinedRow] = []

    public init(connector: String, dryRun: Bool, asOf: Date) {
        self.connector = connector
        self.dryRun = dryRun
        self.asOf = asOf
    }

    /// Adds another connector's counts (for a sync of several connectors).
    public mutating func add(_ other: SyncSummary) {
        pulled += other.pulled
        quarantined += other.quarantined
        noticesSent += other.noticesSent
        extended += other.extended
        fieldsErased += other.fieldsErased
        archived += other.archived
        deleted += other.deleted
        failed += other.failed
        pending += other.pending
        cancelled += other.cancelled
        awaitingApproval += other.awaitingApproval
        missingAwaitingApproval += other.missingAwaitingApproval
        approvalBatch = approvalBatch ?? other.approvalBatch
        gone += other.gone
        reappeared += other.reappeared
        held += other.held
        liveRecords += other.liveRecords
        quarantinedRows += other.quarantinedRows
    }
}
