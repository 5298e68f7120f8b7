public import Foundation
public import RetentionCore

/// One record as the store keeps it: no field value, only what the policy needs.
public struct StoredRecord: Sendable, Equatable {
    public var connector: String
    public var reference: String
    /// The record's place in the state (`RecordFingerprints.key` of its source id).
    public var key: Int64
    /// The source key; nil once the record is tombstoned.
    public var recordID: String?
    /// The policy's inputs as last read; nil when they must be read again from the source.
    public var facts: SourceFacts?
    public var state: LifecycleState?
    /// Where the record was when it was last read (a CSV line), for reports.
    public var line: Int?
    /// Lines of every row with this id in the last read, when there was more than one.
    public var duplicateLines: [Int]
    /// The digest of its source row when last read; nil: read it again.
    public var digest: UInt64?
    /// When its evaluation may change without the record changing; nil: only a change can.
    public var nextDue: Date?
    /// How often it (or its erased fields) came back after Lethe destroyed it.
    public var reappeared: Int
    /// Why it is quarantined, when it is.
    public var reason: QuarantineReason?

    public init(
        connector: String, reference: String, key: Int64, recordID: String?, facts: SourceFacts?, state: LifecycleState?, line: Int? = nil,
        duplicateLines: [Int] = [], digest: UInt64? = nil, nextDue: Date? = nil, reappeared: Int = 0, reason: QuarantineReason? = nil
    ) {
        self.reason = reason
        self.connector = connector
        self.reference = reference
        self.key = key
        self.recordID = recordID
        self.facts = facts
        self.state = state
        self.line = line
        self.duplicateLines = duplicateLines
        self.digest = digest
        self.nextDue = nextDue
        self.reappeared = reappeared
    }
}

/// Every record of a connector in key order, as a sync compares them with what it pulls: compact
/// columns, a few bytes per record.
public struct KnownRecords: Sendable {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// It has a source id (not tombstoned).
        public static let live = Flags(rawValue: 1)
        public static let quarantined = Flags(rawValue: 2)
        /// Tombstoned after Lethe deleted it.
        public static let deleted = Flags(rawValue: 4)
        /// Its facts are known (it need not be read again to be evaluated).
        public static let facts = Flags(rawValue: 8)
        /// Its id was on more than one row when last read (quarantined as a duplicate).
        public static let duplicated = Flags(rawValue: 16)
        /// On legal hold (its phase).
        public static let held = Flags(rawValue: 32)
    }

    public var keys: [Int64] = []
    /// The row digest of each record (0: none kept).
    public var digests: [UInt64] = []
    /// When each record is next due for evaluation (seconds since 1970; `.infinity`: not time-based).
    public var dues: [Double] = []
    public var flags: [Flags] = []

    public init() {}

    public var count: Int { keys.count }

    /// The same records in ascending key order.
    package func sortedByKey() -> KnownRecords {
        let order = keys.indices.sorted { keys[$0] < keys[$1] }
        var sorted = KnownRecords()
        sorted.keys = order.map { keys[$0] }
        sorted.digests = order.map { digests[$0] }
        sorted.dues = order.map { dues[$0] }
        sorted.flags = order.map { flags[$0] }
        return sorted
    }

    /// The rows a source may skip: live records with known facts and a digest.
    public var skippable: KnownRows {
        KnownRows(keys: keys, digests: zip(digests, flags).map { digest, flags in
            flags.contains(.live) && flags.contains(.facts) && !flags.contains(.duplicated) ? digest : 0
        })
    }

    public func index(of key: Int64) -> Int? {
        KnownRows.index(of: key, in: keys)
    }
}

/// A record read from its source, evaluated, to be written whole.
public struct RecordUpsert: Sendable {
    public var key: Int64
    public var reference: String
    public var recordID: String
    public var digest: UInt64?
    public var facts: SourceFacts? { didSet { encoded = nil } }
    public var line: Int?
    public var duplicateLines: [Int]
    public var state: LifecycleState { didSet { encoded = nil } }
    public var nextDue: Date?
    /// Why it is quarantined (code and detail), for reports.
    public var reason: QuarantineReason?
    public var operations: [OutboxOperation]
    /// The key was not in the state when the sync started (no row to replace, unless an earlier
    /// version's tombstone of the same record).
    public var isNew: Bool
    /// `facts` and `state` as the stores keep them, encoded by `encode()` where a core is free, so
    /// that the store's one writer only binds bytes; nil (also after either changes): the store encodes.
    public private(set) var encoded: (facts: Data?, state: Data)?

    public init(
        key: Int64, reference: String, recordID: String, digest: UInt64?, facts: SourceFacts?, line: Int?, duplicateLines: [Int] = [],
        state: LifecycleState, nextDue: Date?, reason: QuarantineReason?, operations: [OutboxOperation] = [], isNew: Bool = false
    ) {
        self.isNew = isNew
        self.key = key
        self.reference = reference
        self.recordID = recordID
        self.digest = digest
        self.facts = facts
        self.line = line
        self.duplicateLines = duplicateLines
        self.state = state
        self.nextDue = nextDue
        self.reason = reason
        self.operations = operations
    }

    /// Encodes `facts` and `state` now (see `encoded`).
    public mutating func encode() {
        encoded = encoding
    }

    /// `facts` and `state` as the stores keep them: encoded earlier, or now.
    package var encodedForStore: (facts: Data?, state: Data) {
        encoded ?? encoding
    }

    private var encoding: (facts: Data?, state: Data) {
        (facts.map(StoreCodec.encode(facts:)), StoreCodec.encode(state: state))
    }
}

/// What a sync writes in one transaction.
public struct RecordWrites: Sendable {
    public var upserts: [RecordUpsert] = []
    public var changes: [RecordChange] = []
    /// Records that moved without changing (a quarantined row's new line).
    public var lines: [(key: Int64, line: Int)] = []
    /// Records whose id was on several rows of one read: quarantined (`duplicate_id`) with those lines,
    /// what they had queued cancelled; `wasQuarantined`: already quarantined before this read (no
    /// new audit entry).
    public var duplicates: [(key: Int64, lines: [Int], wasQuarantined: Bool)] = []
    public var audit: [AuditDraft] = []
    /// When (the sync's "now"), for the audit entries the store adds.
    public var at: Date

    public init(at: Date, upserts: [RecordUpsert] = [], changes: [RecordChange] = [], audit: [AuditDraft] = []) {
        self.at = at
        self.upserts = upserts
        self.changes = changes
        self.audit = audit
    }

    public var isEmpty: Bool { upserts.isEmpty && changes.isEmpty && lines.isEmpty && duplicates.isEmpty && audit.isEmpty }
}

/// A quarantined record, for reports: where and why.
public struct QuarantinedRecord: Sendable, Equatable {
    public var reference: String
    public var line: Int?
    public var duplicateLines: [Int]
    public var reason: QuarantineReason

    public init(reference: String, line: Int?, duplicateLines: [Int], reason: QuarantineReason) {
        self.reference = reference
        self.line = line
        self.duplicateLines = duplicateLines
        self.reason = reason
    }
}

public enum OperationStatus: String, Sendable, Codable, CaseIterable {
    /// Decided by a sync that has not yet counted it against the safety limits.
    case staged
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
    /// Its place in the outbox, for paging (0 until stored).
    public var position: Int64 = 0
    /// The key of its record in the state, when the operation is queued by a sync.
    public var recordKey: Int64?

    public init(
        id: String, connector: String, reference: String, recordID: String?, kind: OperationKind, rule: String, cycle: Date,
        fields: [ErasedField] = [], status: OperationStatus = .pending, attempts: Int = 0, nextAttemptAt: Date? = nil,
        lastError: String? = nil, batch: String? = nil, receipt: String? = nil, createdAt: Date, position: Int64 = 0
    ) {
        self.position = position
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
    public var key: Int64
    public var state: LifecycleState
    /// When its evaluation may next change; nil: only a change of the record can change it.
    public var nextDue: Date?
    public var operations: [OutboxOperation]

    public init(connector: String, reference: String, key: Int64, state: LifecycleState, nextDue: Date?, operations: [OutboxOperation]) {
        self.connector = connector
        self.reference = reference
        self.key = key
        self.state = state
        self.nextDue = nextDue
        self.operations = operations
    }
}

/// What happened to an operation, and what that does to its record.
public struct OperationCompletion: Sendable {
    public enum RecordEffect: Sendable, Equatable {
        case none
        /// The record is destroyed: keep only a pseudonymous tombstone, cancel what is pending for it.
        case tombstone(phase: RecordPhase)
        /// Fields were rewritten: the record's facts are now `facts` (nil: read it again at the next
        /// pull), and the consent values it tracks follow what Lethe wrote.
        case fieldsChanged([ErasedField], facts: SourceFacts?)
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
    public enum Status: String, Sendable, Codable { case open, approved, rejected }
    public var id: String
    public var connector: String
    public var status: Status
    public var createdAt: Date
    public var approvedAt: Date?
    /// Who released it: every approver, in order, separated by ", " (two under the four-eyes rule).
    public var approvedBy: String?
    public var operationCount: Int
    /// Records missing from the source that wait in this batch before they are marked gone.
    public var missingRecords: Int
    /// The delete operations among `operationCount` (the rest are archive copies).
    public var deletes: Int
    /// Approvals by authenticated operators: for an open batch those given at its present size (the
    /// first of two under the four-eyes rule); for an approved one, who released it.
    public var signoffs: [ApprovalSignoff]
    public var rejectedAt: Date?
    public var rejectedBy: String?
    /// Why it was rejected, as the operator wrote it.
    public var rejectionReason: String?

    public init(
        id: String, connector: String, status: Status, createdAt: Date, approvedAt: Date?, approvedBy: String?, operationCount: Int,
        missingRecords: Int = 0, deletes: Int = 0, signoffs: [ApprovalSignoff] = [], rejectedAt: Date? = nil, rejectedBy: String? = nil,
        rejectionReason: String? = nil
    ) {
        self.id = id
        self.connector = connector
        self.status = status
        self.createdAt = createdAt
        self.approvedAt = approvedAt
        self.approvedBy = approvedBy
        self.operationCount = operationCount
        self.missingRecords = missingRecords
        self.deletes = deletes
        self.signoffs = signoffs
        self.rejectedAt = rejectedAt
        self.rejectedBy = rejectedBy
        self.rejectionReason = rejectionReason
    }

    /// How many different operators must approve it: two when its deletes (delete operations and
    /// records missing from the source) are more than `twoPersonAbove`, else one.
    public func approvalsRequired(twoPersonAbove: Int?) -> Int {
        guard let twoPersonAbove else { return 1 }
        return deletes + missingRecords > twoPersonAbove ? 2 : 1
    }
}

public struct Hold: Sendable, Equatable, Codable {
    public var connector: String
    public var reference: String
    public var reason: String
    public var createdBy: String
    public var createdAt: Date

    package init(connector: String, reference: String, reason: String, createdBy: String, createdAt: Date) {
        self.connector = connector
        self.reference = reference
        self.reason = reason
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
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

    package init(seq: Int64, draft: AuditDraft, previousHash: String, hash: String) {
        self.seq = seq
        self.draft = draft
        self.previousHash = previousHash
        self.hash = hash
    }
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

    package init(
        records: [String: [String: Int]], operations: [String: [String: Int]], openBatches: [ApprovalBatch], holds: Int, auditEntries: Int64,
        reappeared: [String: Int]
    ) {
        self.records = records
        self.operations = operations
        self.openBatches = openBatches
        self.holds = holds
        self.auditEntries = auditEntries
        self.reappeared = reappeared
    }
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

/// A consent decision recorded while its connector was busy, waiting to be applied.
public struct PendingConsentDecision: Sendable, Equatable {
    public var connector: String
    public var reference: String
    public var rule: String
    public var cycle: Date
    public var action: String
    public var decidedAt: Date

    public init(connector: String, reference: String, rule: String, cycle: Date, action: String, decidedAt: Date) {
        self.connector = connector
        self.reference = reference
        self.rule = rule
        self.cycle = cycle
        self.action = action
        self.decidedAt = decidedAt
    }
}
