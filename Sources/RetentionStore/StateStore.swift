public import Foundation
public import RetentionCore

/// Lethe's durable state: the record mirror, lifecycle states, the outbox, approvals, holds,
/// watermarks and the audit chain. SQLite implements it (`SQLiteStateStore`); PostgreSQL will too.
///
/// Conformers guarantee:
/// - `commit` writes state changes, new operations and their audit entries in ONE transaction;
/// - operation ids are unique: queuing an id that exists changes nothing (`INSERT OR IGNORE`);
/// - the audit log is append-only and hash-chained, with its head (count and hash) kept beside it;
/// - nothing personal is written to audit entries (callers pass references, never ids or fields).
public protocol StateStore: Sendable {
    /// The pseudonymous reference of a record: stable per installation, not reversible without the
    /// store's secret.
    func reference(connector: String, recordID: String) -> String

    /// A throw-away copy of the whole state (same records, states and secrets) for a dry run, which
    /// must change nothing: it works on the copy, which `discard` removes.
    func scratchCopy() async throws -> ScratchState

    // MARK: Runs and ingest
    func beginRun(connector: String, asOf: Date, dryRun: Bool) async throws -> Int64
    func finishRun(_ run: Int64, summary: String) async throws
    /// Upserts the records of one batch into the mirror and marks them seen in `run`. A second row
    /// with the same id in the same run marks the record as duplicated (its lines are kept). A record
    /// Lethe destroyed that is seen again starts afresh, with a `record.reappeared` audit entry; returns
    /// how many did.
    @discardableResult
    func ingest(connector: String, run: Int64, records: [SourceRecord]) async throws -> Int
    /// Live records (with an id) not seen in `run`, by reference: what a complete full pull says vanished.
    func unseenReferences(connector: String, run: Int64) async throws -> [String]
    /// Tombstones these live records as `gone` (no operation follows) and forgets any held
    /// disappearance of them. Returns how many were live.
    func markGone(connector: String, references: [String], at: Date, via: String) async throws -> Int
    /// Records that vanished beyond the safety limits wait in `batch` instead of being tombstoned;
    /// one audit entry says how many.
    func holdDisappearances(connector: String, references: [String], batch: String, at: Date) async throws
    /// References whose disappearance an operator approved (`approve(batch:)`): no longer counted
    /// against the limits. Held disappearances of records seen again in `run` are forgotten.
    func approvedDisappearances(connector: String, seenIn run: Int64) async throws -> Set<String>
    /// Live (not tombstoned) records, ordered by reference, after `cursor`.
    func liveRecords(connector: String, after cursor: String?, limit: Int) async throws -> [StoredRecord]
    /// Live records in the order the store keeps them (cheapest to walk and update), one page after
    /// `cursor` (nil: from the start). Paging with each page's `next` visits every live record once;
    /// the order is the store's own, not by reference.
    func liveRecordPage(connector: String, after cursor: String?, limit: Int) async throws -> LiveRecordPage
    func record(connector: String, reference: String) async throws -> StoredRecord?
    /// The lifecycle states of several records at once, by reference; unknown references are absent.
    func states(connector: String, references: [String]) async throws -> [String: LifecycleState]

    // MARK: Lifecycle and outbox
    /// Persists state changes, new operations and audit entries in one transaction.
    func commit(_ changes: [RecordChange], audit: [AuditDraft]) async throws
    /// Oldest first; operations queued at the same time in the order they were queued.
    func operations(connector: String, statuses: Set<OperationStatus>) async throws -> [OutboxOperation]
    func operation(id: String) async throws -> OutboxOperation?
    /// The status of each of these operation ids that is in the outbox.
    func operationStatuses(_ ids: [String]) async throws -> [String: OperationStatus]
    /// Records the outcomes of operations, their effects on the records and their audit entries, all
    /// in one transaction.
    func complete(_ completions: [OperationCompletion]) async throws

    // MARK: Approvals
    func openApprovalBatch(connector: String) async throws -> ApprovalBatch?
    func createApprovalBatch(connector: String, at: Date) async throws -> ApprovalBatch
    /// Releases the batch's operations to `pending`. Throws when unknown or not open.
    func approve(batch: String, by operator: String, at: Date) async throws -> ApprovalBatch
    func approvalBatches() async throws -> [ApprovalBatch]
    /// Puts dead operations (all of them, or the given ids) back to pending with fresh attempts.
    func retryDead(ids: [String]?, by operator: String, at: Date) async throws -> [String]

    // MARK: Holds
    func addHold(connector: String, reference: String, reason: String, by: String, at: Date) async throws -> Bool
    func removeHold(connector: String, reference: String, by: String, at: Date) async throws -> Bool
    func holds(connector: String?) async throws -> [Hold]
    func heldReferences(connector: String) async throws -> Set<String>

    // MARK: Watermarks
    func watermark(connector: String) async throws -> String?
    func setWatermark(connector: String, value: String?) async throws

    // MARK: Audit
    func appendAudit(_ drafts: [AuditDraft]) async throws
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry]
    func verifyAudit() async throws -> AuditVerification

    // MARK: Status
    func statusCounts() async throws -> StoreStatus
    /// Live, non-held records whose final expiry is before `cutoff` (now − destroyWithin): overdue destructions.
    func overdueCount(connector: String, expiredBefore cutoff: Date) async throws -> Int

    // Webhook intake
    /// Persists a delivery's events in one transaction; events already seen (same connector and
    /// event id) are ignored. Returns how many were new and how many were replays.
    func acceptWebhookEvents(connector: String, events: [WebhookEventDraft], at: Date) async throws -> WebhookAcceptance
    /// Accepted events not processed, not dead and due by `dueBy` (a failed event waits for its
    /// retry time), oldest first.
    func pendingWebhookEvents(connector: String, limit: Int, dueBy: Date) async throws -> [PendingWebhookEvent]
    /// How many accepted events wait to be processed, and how many were dead-lettered (`/api/status`).
    func webhookEventCounts(connector: String) async throws -> (pending: Int, dead: Int)
    func finishWebhookEvents(_ seqs: [Int64], at: Date) async throws
    /// Counts a failed attempt of these events: each waits until `retryAt`, or is dead-lettered
    /// (kept, visible, never processed again) when `retryAt` is nil.
    func failWebhookEvents(_ seqs: [Int64], error: String, retryAt: Date?, at: Date) async throws
    /// Records with an id (live or quarantined) of a connector.
    func liveCount(connector: String) async throws -> Int

    // Consent
    /// Records a consent decision and, in the same transaction, the change it causes (an extend
    /// operation). `false` when this record, rule and cycle already have a decision: nothing changes.
    func recordConsentDecision(
        connector: String, reference: String, rule: String, cycle: Date, action: String, at: Date, change: RecordChange?
    ) async throws -> Bool
    /// The decision for a record, rule and cycle, if one was made.
    func consentDecision(connector: String, reference: String, rule: String, cycle: Date) async throws -> String?

    // Scheduler
    /// When each schedule key (`connector/kind`) last started a run.
    func scheduleMarks() async throws -> [String: Date]
    func setScheduleMark(_ key: String, startedAt: Date) async throws
}

/// A copy of a store that is thrown away.
public struct ScratchState: Sendable {
    public var store: any StateStore
    public var discard: @Sendable () -> Void

    public init(store: any StateStore, discard: @escaping @Sendable () -> Void) {
        self.store = store
        self.discard = discard
    }
}

extension StateStore {
    /// By reference, for stores without an order of their own.
    public func liveRecordPage(connector: String, after cursor: String?, limit: Int) async throws -> LiveRecordPage {
        let records = try await liveRecords(connector: connector, after: cursor, limit: limit)
        return LiveRecordPage(records: records, next: records.last?.reference)
    }

    /// Tombstones live records not seen in `run` (after a complete full pull), whatever their number.
    public func markUnseenGone(connector: String, run: Int64, at: Date) async throws -> Int {
        try await markGone(connector: connector, references: try await unseenReferences(connector: connector, run: run), at: at, via: "pull")
    }

    /// Tombstones these records (a re-read found them gone from the source): no operation follows.
    public func markGone(connector: String, recordIDs: [String], at: Date) async throws -> Int {
        try await markGone(connector: connector, references: recordIDs.map { reference(connector: connector, recordID: $0) }, at: at, via: "webhook")
    }

    /// Which of these operation ids are already in the outbox and not cancelled.
    public func existingOperationIDs(_ ids: [String]) async throws -> Set<String> {
        Set(try await operationStatuses(ids).filter { $0.value != .cancelled }.keys)
    }

    /// Every accepted event not processed and not dead, whatever its retry time.
    public func pendingWebhookEvents(connector: String, limit: Int) async throws -> [PendingWebhookEvent] {
        try await pendingWebhookEvents(connector: connector, limit: limit, dueBy: .distantFuture)
    }

    /// Records one outcome (see `complete(_:)` for many).
    public func complete(_ completion: OperationCompletion) async throws {
        try await complete([completion])
    }
}
