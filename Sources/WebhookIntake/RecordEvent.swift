public import Foundation

/// One change to one record, as a webhook delivery reported it.
///
/// Events are not deduplicated here: the same `eventID` may occur twice (a retried delivery, or twice in one
/// body), and the store decides that the second one changes nothing.
public struct RecordEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        /// Created, changed, merged or restored: fetch the record and evaluate it.
        case changed
        /// Deleted at the source: leave a tombstone, produce no operation.
        case deleted
    }

    /// The provider's event id, or a stable digest of the event when it has none (see `WebhookEvents`).
    public var eventID: String
    public var recordID: String
    public var kind: Kind
    public var occurredAt: Date?

    public init(eventID: String, recordID: String, kind: Kind, occurredAt: Date? = nil) {
        self.eventID = eventID
        self.recordID = recordID
        self.kind = kind
        self.occurredAt = occurredAt
    }
}
