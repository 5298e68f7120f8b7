public import Foundation

/// The kinds of outbound operation. Raw values are stable: they are stored and exported.
public enum OperationKind: String, Sendable, Codable, CaseIterable, Comparable {
    case notify
    case extend
    case eraseFields = "erase-fields"
    case archive
    case delete

    /// Execution order inside a run: notices first, the archive copy before the delete it protects.
    public var order: Int {
        switch self {
        case .notify: 0
        case .extend: 1
        case .eraseFields: 2
        case .archive: 3
        case .delete: 4
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.order < rhs.order }
}

/// An operation the lifecycle decided on, before it has an id and a place in the outbox.
public struct PlannedOperation: Sendable, Hashable, Codable {
    public var kind: OperationKind
    /// The rule that caused it; `*` for record-level operations (archive, delete).
    public var rule: String
    /// The expiry this operation belongs to. With connector, record, rule and kind it makes the
    /// operation's deterministic id, so the same decision never queues twice.
    public var cycle: Date
    /// For `erase-fields` and `extend`: the fields to write and their new values.
    public var fields: [ErasedField]

    public init(kind: OperationKind, rule: String, cycle: Date, fields: [ErasedField] = []) {
        self.kind = kind
        self.rule = rule
        self.cycle = cycle
        self.fields = fields
    }

    /// The text the deterministic id is derived from.
    public func identity(connector: String, recordID: String) -> String {
        "\(connector)\u{1F}\(recordID)\u{1F}\(rule)\u{1F}\(kind.rawValue)\u{1F}\(Int64(cycle.timeIntervalSince1970))"
    }
}

/// An operation as a write-back target receives it.
public struct WriteOperation: Sendable, Hashable, Codable {
    public var id: String
    public var kind: OperationKind
    public var recordID: String
    /// For `erase-fields` / `extend`: fields by canonical name and their new values.
    public var fields: [ErasedField]

    public init(id: String, kind: OperationKind, recordID: String, fields: [ErasedField] = []) {
        self.id = id
        self.kind = kind
        self.recordID = recordID
        self.fields = fields
    }
}

/// How a target deleted a record, for the destruction register.
public struct DeletionReceipt: Sendable, Equatable {
    public enum Mode: String, Sendable, Codable {
        /// The provider keeps the record restorable for a while (HubSpot 90 days, Salesforce's
        /// Recycle Bin 15 days, Pipedrive 30 days), then purges it.
        case soft
        /// Gone for good (a rewritten file, HubSpot's GDPR delete).
        case permanent
    }

    public var mode: Mode
    /// Soft deletes: until when the provider can restore the record.
    public var restorableUntil: Date?
    /// How the target deleted it, in a few words for the register ("hard delete (Bulk API 2.0)");
    /// nil when the mode says enough. Never personal data.
    public var method: String?

    public init(mode: Mode, restorableUntil: Date? = nil, method: String? = nil) {
        self.mode = mode
        self.restorableUntil = restorableUntil
        self.method = method
    }
}

/// The result of one operation at its target.
public enum OperationOutcome: Sendable {
    /// Applied now (or found already applied: idempotent).
    case applied(detail: String)
    /// A delete applied now, with how it was deleted (a plain `.applied` delete is permanent).
    case deleted(DeletionReceipt)
    /// The target was already gone: a delete counts as done.
    case alreadyGone
    case failed(any ConnectorFailure)
}
