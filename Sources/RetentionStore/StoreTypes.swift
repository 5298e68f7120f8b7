public import Foundation
public import RetentionCore

/// One record as the store keeps it.
public struct StoredRecord: Sendable, Equatable {
    public var connector: String
    public var reference: String
    /// The source key; nil once the record is tombstoned.
    public var recordID: String?
    /// The last version seen (nil once tombstoned).
    public var record: SourceRecord?
    public var state: LifecycleState?
    /// Lines of every row with this id in the last run, when there was more than one.
    public var duplicateLines: [Int]
    public var seenRun: Int64

    public init(connector: String, reference: String, recordID: String?, record: SourceRecord?, state: LifecycleState?, duplicateLines: [Int], seenRun: Int64) {
        self.connector = connector
        self.reference = reference
        self.recordID = recordID
        self.record = record
        self.state = state
        self.duplicateLines = duplicateLines
        self.seenRun = seenRun
    }
}

/// A page of `StateStore.liveRecordPage`.
public struct LiveRecordPage: Sendable, Equatable {
    public var records: [StoredRecord]
    /// The cursor for the next page; nil when this page is empty.
    public var next: String?

    public init(records: [StoredRecord], next: String?) {
        self.records = records
        self.next = next
    }
}

public enum OperationStatus: String, Sendable, Codable, CaseIterable {
    case pending
    case awaitingApproval = "awaiting-approval"
    case done
    case dead
    case cancelled
}

/// An operation in the outbox.
public struct OutboxOperation: Sendable, Equatable {
    public var id: String
    public var connector: String
    public var reference: String
    public var recordID: String?
    public var kind: OperationKind
    public var rule: String
    public var cycle: Date
    public var fields: [ErasedField]
    public var status: OperationStatus
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastError: String?
    public var batch: String?
    public var receipt: String?
    public var createdAt: Date

    public init(
        id: String, connector: String, reference: String, recordID: String?, kind: OperationKind, rule: String, cycle: Date,
        fields: [ErasedField] = [], status: OperationStatus = .pending, attempts: Int = 0, nextAttemptAt: Date? = nil,
        lastError: String? = nil, batch: String? = nil, receipt: String? = nil, createdAt: Date
    ) {
        self.id = id
        self.connector = connector
        self.reference = reference
        self.recordID = recordID
        self.kind = kind
        self.rule = rule
        self.cycle = cycle
        self.fields = fields
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.batch = batch
        self.receipt = receipt
        self.createdAt = createdAt
    }
}

/// A lifecycle change for one record, with the operations it causes.
public struct RecordChange: Sendable {
    public var connector: String
    public var reference: String
    public var state: LifecycleState
    public var operations: [OutboxOperation]

    public init(connector: String, reference: String, state: LifecycleState, operations: [OutboxOperation]) {
        self.connector = connector
        self.reference = reference
        self.state = state
        self.operations = operations
    }
}

/// What happened to an operation, and what that does to its record.
public struct OperationCompletion: Sendable {
    public enum RecordEffect: Sendable, Equatable {
        case none
        /// The record is destroyed: keep only a pseudonymous tombstone, cancel what is pending for it.
        case tombstone(phase: RecordPhase)
        /// Fields were rewritten: update the mirror's copy.
        case fieldsChanged([ErasedField])
    }

    public var operationID: String
    public var status: OperationStatus
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var error: String?
    public var receipt: String?
    public var effect: RecordEffect
    public var audit: [AuditDraft]

    public init(operationID: String, status: OperationStatus, attempts: Int, nextAttemptAt: Date? = nil, error: String? = nil, receipt: String? = nil, effect: RecordEffect = .none, audit: [AuditDraft]) {
        self.operationID = operationID
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.error = error
        self.receipt = receipt
        self.effect = effect
        self.audit = audit
    }
}

public struct ApprovalBatch: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable { case open, approved }
    public var id: String
    public var connector: String
    public var status: Status
    public var createdAt: Date
    public var approvedAt: Date?
    public var approvedBy: String?
    public var operationCount: Int
    /// Records missing from the source that wait in this batch before they are marked gone.
    public var missingRecords: Int

    public init(
        id: String, connector: String, status: Status, createdAt: Date, approvedAt: Date?, approvedBy: String?, operationCount: Int,
        missingRecords: Int = 0
    ) {
        self.id = id
        self.connector = connector
        self.status = status
        self.createdAt = createdAt
        self.approvedAt = approvedAt
        self.approvedBy = approvedBy
        self.operationCount = operationCount
        self.missingRecords = missingRecords
    }
}

public struct Hold: Sendable, Equatable, Codable {
    public var connector: String
    public var reference: String
    public var reason: String
    public var createdBy: String
    public var createdAt: Date
}

/// An audit entry before it is chained. `detail` must hold no personal data.
public struct AuditDraft: Sendable, Equatable {
    public var at: Date
    public var event: String
    public var connector: String?
    public var reference: String?
    public var rule: String?
    public var operation: String?
    public var detail: [String: String]

    public init(at: Date, event: String, connector: String? = nil, reference: String? = nil, rule: String? = nil, operation: String? = nil, detail: [String: String] = [:]) {
        self.at = at
        self.event = event
        self.connector = connector
        self.reference = reference
        self.rule = rule
        self.operation = operation
        self.detail = detail
    }
}

public struct AuditEntry: Sendable, Equatable {
    public var seq: Int64
    public var draft: AuditDraft
    public var previousHash: String
    public var hash: String
}

public struct AuditVerification: Sendable, Equatable {
    public var ok: Bool
    public var entries: Int64
    public var headHash: String
    /// The first problem found, with the sequence number where it is.
    public var problem: String?
}

public struct StoreStatus: Sendable, Equatable {
    /// Records by connector and phase.
    public var records: [String: [String: Int]]
    /// Operations by connector, kind and status: "kind/status" -> count.
    public var operations: [String: [String: Int]]
    public var openBatches: [ApprovalBatch]
    public var holds: Int
    public var auditEntries: Int64
    /// By connector: how often records or their erased fields came back after Lethe destroyed them.
    public var reappeared: [String: Int] = [:]
    /// Live records whose final expiry + destroyWithin has passed are computed by the caller.
}

/// One record event of a webhook delivery, as persisted: no body, no field values.
public struct WebhookEventDraft: Sendable, Equatable {
    public var eventID: String
    public var recordID: String
    /// The record was deleted at the source (a tombstone follows, no operation).
    public var deleted: Bool

    public init(eventID: String, recordID: String, deleted: Bool) {
        self.eventID = eventID
        self.recordID = recordID
        self.deleted = deleted
    }
}

public struct WebhookAcceptance: Sendable, Equatable {
    public var accepted: Int
    public var replayed: Int

    public init(accepted: Int, replayed: Int) {
        self.accepted = accepted
        self.replayed = replayed
    }
}

public struct PendingWebhookEvent: Sendable, Equatable {
    public var seq: Int64
    public var eventID: String
    public var recordID: String
    public var deleted: Bool
    public var receivedAt: Date
    /// Failed processing attempts so far.
    public var attempts: Int

    public init(seq: Int64, eventID: String, recordID: String, deleted: Bool, receivedAt: Date, attempts: Int = 0) {
        self.seq = seq
        self.eventID = eventID
        self.recordID = recordID
        self.deleted = deleted
        self.receivedAt = receivedAt
        self.attempts = attempts
    }
}
