public import Foundation
public import RetentionCore

/// Lethe's durable state, one small protocol per concern, so that each store (SQLite today,
/// PostgreSQL next) implements the same pieces: records, runs, the outbox, approvals, holds, the audit
/// chain, the webhook inbox, consent decisions, schedules and operator alert marks.
///
/// Every store guarantees:
/// - a write of state changes, new operations and their audit entries happens in ONE transaction;
/// - operation ids are unique: queuing an id that exists changes nothing;
/// - the audit log is append-only and hash-chained, with its head (count and hash) kept beside it;
/// - nothing personal is written: records are kept as keys, references and policy facts (dates,
///   purposes, consent flags), never field values; audit entries carry references only.
public typealias StateStore = RecordStore & RunStore & OutboxStore & OutboxClaimStore & ApprovalStore & HoldStore & AuditStore
    & WebhookInbox & ConsentStore & ScheduleStore & AlertStore & SharedRateBudget

/// The records of each connector: a key, a pseudonymous reference, the source id while the record
/// lives, a digest of its source row, its policy facts and lifecycle state, and when its evaluation
/// may next change.
public protocol RecordStore: Sendable {
    /// The installation's keyed functions (record keys, references, row digests).
    var fingerprints: RecordFingerprints { get }
    /// The installation's keyed operation ids.
    var operationIDs: OperationIdentifier { get }
    /// The pseudonymous reference of a record: stable per installation, not reversible without the
    /// store's secret. A record first stored by an earlier version keeps the reference it had.
    func reference(connector: String, recordID: String) -> String

    /// Every record of a connector (tombstones included), by key: what the next pull compares with.
    func knownRecords(connector: String) async throws -> KnownRecords
    /// The records with these keys (absent keys are left out).
    func records(connector: String, keys: [Int64]) async throws -> [Int64: StoredRecord]
    func record(connector: String, reference: String) async throws -> StoredRecord?
    /// The records with these references, in one read (unknown references are left out).
    func records(connector: String, references: [String]) async throws -> [String: StoredRecord]
    /// Records with an id (live or quarantined), by key, after `after` (nil: from the start).
    func recordPage(connector: String, after: Int64?, limit: Int) async throws -> [StoredRecord]
    /// The lifecycle states of several records at once, by reference; unknown references are absent.
    func states(connector: String, references: [String]) async throws -> [String: LifecycleState]
    /// Writes what a sync decided, in one transaction: records read from the source (replacing what
    /// was kept; a record Lethe destroyed that is written again gets a `record.reappeared` audit
    /// entry), state changes with their operations, moved lines, audit entries. Returns how many
    /// written records had been destroyed.
    @discardableResult
    func write(connector: String, _ writes: RecordWrites) async throws -> Int
    /// Tombstones these live records (phase `gone`, or `deleted`): only the key, the reference and the
    /// phase remain; pending operations are cancelled; held disappearances forgotten. Returns how many were live.
    func tombstone(connector: String, keys: [Int64], phase: RecordPhase, at: Date, via: String) async throws -> Int
    /// Quarantined records with an id: where they are and why.
    func quarantinedRecords(connector: String) async throws -> [QuarantinedRecord]
    /// Records with an id (live or quarantined), and those of them not quarantined.
    func liveCounts(connector: String) async throws -> (live: Int, valid: Int)
    /// The fingerprint of the policy and source settings the stored facts and digests were read
    /// under; setting another one forgets every digest and fact of the connector (every row is read again).
    func readingFingerprint(connector: String) async throws -> String?
    func setReadingFingerprint(connector: String, _ fingerprint: String) async throws
    /// Records that vanished beyond the safety limits wait in `batch` instead of being tombstoned.
    func holdDisappearances(connector: String, keys: [Int64], batch: String, at: Date) async throws
    /// Keys whose disappearance an operator approved; held disappearances of records no longer
    /// missing (not in `stillMissing`) are forgotten.
    func approvedDisappearances(connector: String, stillMissing: [Int64]) async throws -> Set<Int64>
}

/// Runs and the watermarks of incremental pulls.
public protocol RunStore: Sendable {
    func beginRun(connector: String, asOf: Date, dryRun: Bool) async throws -> Int64
    func finishRun(_ run: Int64, summary: String) async throws
    func watermark(connector: String) async throws -> String?
    func setWatermark(connector: String, value: String?) async throws
}

/// Operations from the moment they are decided until they are done or dead.
public protocol OutboxStore: Sendable {
    /// Oldest first; operations queued at the same time in the order they were queued; at most
    /// `limit`, after the position `after` (the `position` of the last one of the previous page).
    func operations(connector: String, statuses: Set<OperationStatus>, after: Int64, limit: Int) async throws -> [OutboxOperation]
    func operation(id: String) async throws -> OutboxOperation?
    /// The status of each of these operation ids that is in the outbox.
    func operationStatuses(_ ids: [String]) async throws -> [String: OperationStatus]
    /// Records the outcomes of operations, their effects on the records and their audit entries, all
    /// in one transaction.
    func complete(_ completions: [OperationCompletion]) async throws
    /// Publishes the operations a sync staged (its deletes and archive copies, decided before the
    /// safety check): to `pending`, or to `awaiting-approval` in `batch`; the records of held deletes
    /// take the phase `awaiting-approval`; each operation and phase change gets its audit entry.
    /// Returns how many deletes were staged.
    @discardableResult
    func releaseStaged(connector: String, batch: String?, at: Date) async throws -> Int
    /// How many deletes wait for approval, and in which batch (the first, when several).
    func awaitingDeletes(connector: String) async throws -> (count: Int, batch: String?)
    /// How many deletes a sync staged that are new (not already queued, done or dead).
    func stagedDeletes(connector: String) async throws -> Int
    /// Drops what a sync staged (a dry run).
    func discardStaged(connector: String) async throws
    /// Returns once everything written so far is on disk. A sync's bulk writes (records, staged and
    /// queued operations, completions) may be committed without waiting for the disk; nothing is
    /// acted on before this barrier.
    func makeDurable() async throws
}

/// Approval batches: deletes and disappearances held by the safety limits.
public protocol ApprovalStore: Sendable {
    func openApprovalBatch(connector: String) async throws -> ApprovalBatch?
    func createApprovalBatch(connector: String, at: Date) async throws -> ApprovalBatch
    /// One approval of an open batch, in one transaction with its audit entry. The batch needs
    /// `ApprovalBatch.approvalsRequired(twoPersonAbove:)` approvals by different authenticated
    /// operators (one when `twoPersonAbove` is nil). An authenticated approval is kept as a sign-off
    /// together with the batch's size; a sign-off given at another size (deletes were added since) no
    /// longer counts. While approvals are missing the batch stays open (`approval.signed`, "1 of 2");
    /// the approval that completes them releases its operations to `pending` and sets `approvedBy` to
    /// every approver's `recordedAs`, in order (`approval.granted` names them all). Throws
    /// `approval.unknown_batch`, `approval.not_open` (approved or rejected), `approval.needs_operator`
    /// (two are needed and the approver is not authenticated) or `approval.same_operator` (this operator
    /// already approved it); a refusal changes nothing.
    func approve(batch: String, as approver: Approver, twoPersonAbove: Int?, at: Date) async throws -> ApprovalBatch
    /// Rejects an open batch, in one transaction: its held operations are cancelled (never executed),
    /// the records of its deletes leave `awaiting-approval` for `expiring` and are due for evaluation
    /// at the next sync (which decides their deletes again and holds them in a new batch when they are
    /// still over the safety limits), its held disappearances are forgotten (the next full pull finds
    /// them missing again), and `approval.rejected` records who and why. `reason` must not be blank.
    /// Throws `approval.unknown_batch`, `approval.not_open` or `approval.reason_required`.
    func reject(batch: String, by operator: String, reason: String, at: Date) async throws -> ApprovalBatch
    func approvalBatches() async throws -> [ApprovalBatch]
    /// Puts dead operations (all of them, or the given ids) back to pending with fresh attempts.
    func retryDead(ids: [String]?, by operator: String, at: Date) async throws -> [String]
}

/// Legal holds. Adding or lifting one makes its record due for evaluation at once.
public protocol HoldStore: Sendable {
    func addHold(connector: String, reference: String, reason: String, by: String, at: Date) async throws -> Bool
    /// Lifts a hold; `reason` (why it may go now; no personal data) goes to the audit entry.
    func removeHold(connector: String, reference: String, reason: String, by: String, at: Date) async throws -> Bool
    func holds(connector: String?) async throws -> [Hold]
    func heldReferences(connector: String) async throws -> Set<String>
}

/// The hash-chained audit log and the counts reported from the state.
public protocol AuditStore: Sendable {
    func appendAudit(_ drafts: [AuditDraft]) async throws
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry]
    func verifyAudit() async throws -> AuditVerification
    /// The public half of the installation's audit signing key (an Ed25519 key created on first use
    /// and kept in the state).
    func auditPublicKey() async throws -> AuditPublicKey
    /// Signs the current head and appends an `audit.checkpoint` entry recording the checkpoint, in
    /// one transaction; returns the checkpoint (it covers the entries before its own). With
    /// `unlessCurrent`, when the last entry already is a checkpoint (nothing happened since), appends
    /// nothing and returns that one: a run that changed nothing leaves the log as it was.
    func appendAuditCheckpoint(at: Date, unlessCurrent: Bool) async throws -> AuditCheckpoint
    /// The checkpoint of the last `audit.checkpoint` entry, if any.
    func latestAuditCheckpoint() async throws -> AuditCheckpoint?
    func statusCounts() async throws -> StoreStatus
    /// Live, non-held records whose final expiry is before `cutoff` (now − destroyWithin): overdue destructions.
    func overdueCount(connector: String, expiredBefore cutoff: Date) async throws -> Int
}

/// Webhook events, persisted before they are acknowledged.
public protocol WebhookInbox: Sendable {
    /// Persists a delivery's events in one transaction; events already seen (same connector and
    /// event id) are ignored. Returns how many were new and how many were replays.
    func acceptWebhookEvents(connector: String, events: [WebhookEventDraft], at: Date) async throws -> WebhookAcceptance
    /// Accepted events not processed, not dead and due by `dueBy` (a failed event waits for its
    /// retry time), oldest first.
    func pendingWebhookEvents(connector: String, limit: Int, dueBy: Date) async throws -> [PendingWebhookEvent]
    /// How many accepted events wait to be processed, and how many were dead-lettered (`/api/status`).
    func webhookEventCounts(connector: String) async throws -> (pending: Int, dead: Int)
    /// Marks events processed: each then keeps only a keyed digest of its event id and its times.
    func finishWebhookEvents(_ seqs: [Int64], at: Date) async throws
    /// Forgets processed events (digest included) processed before `cutoff`; returns how many.
    func purgeWebhookEvents(processedBefore cutoff: Date) async throws -> Int
    /// Counts a failed attempt of these events: each waits until `retryAt`, or is dead-lettered
    /// (kept, visible, never processed again) when `retryAt` is nil.
    func failWebhookEvents(_ seqs: [Int64], error: String, retryAt: Date?, at: Date) async throws
}

/// Decisions made through the links of notices.
public protocol ConsentStore: Sendable {
    /// Records a consent decision and, in the same transaction, the change it causes (an extend
    /// operation). `false` when this record, rule and cycle already have a decision: nothing changes.
    func recordConsentDecision(
        connector: String, reference: String, rule: String, cycle: Date, action: String, at: Date, change: RecordChange?
    ) async throws -> Bool
    /// Records a decision made while the connector was busy (a sync held it): its operations are
    /// queued later by `applyConsentDecision`. `false` when the record, rule and cycle already have one.
    func recordPendingConsentDecision(connector: String, reference: String, rule: String, cycle: Date, action: String, at: Date) async throws -> Bool
    /// Decisions recorded but not applied yet, oldest first.
    func pendingConsentDecisions(connector: String) async throws -> [PendingConsentDecision]
    /// Marks a pending decision applied and, in the same transaction, writes the change it causes.
    /// `false` when it was applied already (nothing written).
    func applyConsentDecision(_ decision: PendingConsentDecision, change: RecordChange?, at: Date) async throws -> Bool
    /// The decision for a record, rule and cycle, if one was made.
    func consentDecision(connector: String, reference: String, rule: String, cycle: Date) async throws -> String?
}

/// The daemon's scheduler marks.
public protocol ScheduleStore: Sendable {
    /// When each schedule key (`connector/kind`) last started a run.
    func scheduleMarks() async throws -> [String: Date]
    func setScheduleMark(_ key: String, startedAt: Date) async throws
}

extension OutboxStore {
    /// Every operation with these statuses, oldest first (for small sets: one page after another).
    public func operations(connector: String, statuses: Set<OperationStatus>) async throws -> [OutboxOperation] {
        var all: [OutboxOperation] = []
        var after: Int64 = 0
        while true {
            let page = try await operations(connector: connector, statuses: statuses, after: after, limit: 10_000)
            all += page
            guard let last = page.last, page.count == 10_000 else { return all }
            after = last.position
        }
    }

    /// Which of these operation ids are already in the outbox and not cancelled.
    public func existingOperationIDs(_ ids: [String]) async throws -> Set<String> {
        Set(try await operationStatuses(ids).filter { $0.value != .cancelled && $0.value != .staged }.keys)
    }

    /// Records one outcome (see `complete(_:)` for many).
    public func complete(_ completion: OperationCompletion) async throws {
        try await complete([completion])
    }
}

extension ApprovalStore {
    /// One approval by a stated name with no four-eyes rule: releases the batch (what `lethe approve
    /// --by` did before operators had tokens).
    public func approve(batch: String, by operator: String, at: Date) async throws -> ApprovalBatch {
        try await approve(batch: batch, as: .stated(`operator`), twoPersonAbove: nil, at: at)
    }
}

extension AuditStore {
    /// Signs the current head and appends its `audit.checkpoint` entry (see `appendAuditCheckpoint(at:unlessCurrent:)`).
    public func appendAuditCheckpoint(at date: Date) async throws -> AuditCheckpoint {
        try await appendAuditCheckpoint(at: date, unlessCurrent: false)
    }
}

extension HoldStore {
    /// Lifts a hold without a stated reason.
    public func removeHold(connector: String, reference: String, by holder: String, at: Date) async throws -> Bool {
        try await removeHold(connector: connector, reference: reference, reason: "", by: holder, at: at)
    }
}

extension WebhookInbox {
    /// Every accepted event not processed and not dead, whatever its retry time.
    public func pendingWebhookEvents(connector: String, limit: Int) async throws -> [PendingWebhookEvent] {
        try await pendingWebhookEvents(connector: connector, limit: limit, dueBy: .distantFuture)
    }
}

extension RecordStore {
    /// Tombstones the live records with these source ids as `gone` (a re-read found them gone).
    public func markGone(connector: String, recordIDs: [String], at: Date) async throws -> Int {
        try await tombstone(connector: connector, keys: recordIDs.map { fingerprints.key(connector: connector, id: $0) }, phase: .gone, at: at, via: "webhook")
    }

    /// The reference of the record with this source id as the state knows it (a record stored by an
    /// earlier version keeps its reference), else the one it will get.
    public func knownReference(connector: String, recordID: String) async throws -> String {
        let key = fingerprints.key(connector: connector, id: recordID)
        return try await records(connector: connector, keys: [key])[key]?.reference ?? reference(connector: connector, recordID: recordID)
    }

    /// Records with an id (live or quarantined) of a connector.
    public func liveCount(connector: String) async throws -> Int {
        try await liveCounts(connector: connector).live
    }
}
