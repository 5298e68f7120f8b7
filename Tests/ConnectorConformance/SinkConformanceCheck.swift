/// One behaviour every sink must show. New cases reach every sink of their kind through
/// `@Test(arguments: SinkConformanceCheck.noticeChecks)` (or `.archiveChecks`).
///
/// Each check runs against fresh sinks from the subject and judges what the subject reads back
/// (messages, entries), not files. Line breaks in bodies compare as LF (mail travels as CRLF);
/// dates compare to the millisecond.
public enum SinkConformanceCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    // MARK: Notice sinks

    /// A delivery returns a non-empty receipt without personal data, and one message arrives.
    case deliveryReturnsReceipt
    /// Delivering the same operation id again returns the same receipt.
    case redeliveryReturnsSameReceipt
    /// Delivering the same operation id again leaves exactly one message.
    case redeliveryDeliversNothingNew
    /// A `BatchingNoticeSink`'s batch gives one result per notice, in order; a bad notice fails only
    /// itself, a repeated one returns its first receipt; the receipts and messages equal those of
    /// single deliveries.
    case batchMatchesSingleDeliveries
    /// Korean subject, bodies (text and HTML) and display name read back exactly, as does the address.
    case koreanTextSurvives
    /// A recipient that is not an address (or smuggles a header) is a permanent failure and nothing
    /// is delivered.
    case badRecipientIsPermanent
    /// A failure of the transport (a folder that cannot be created, nobody listening) is transient
    /// and nothing is delivered.
    case transportFailureIsTransient
    /// No error names the recipient, the display name, the subject, the body or a secret.
    case noticeErrorsHoldNoPersonalData

    // MARK: Archive sinks

    /// Archiving returns a non-empty receipt without personal data, and the entries are stored.
    case archiveReturnsReceipt
    /// Archiving the same operation id again (in a later call or twice in one call) stores nothing new.
    case rearchiveStoresNothingNew
    /// Entries read back exactly: every field (Korean text included), rules, reference, and the
    /// date to the millisecond.
    case entriesReadBackExactly
    /// A connector name that cannot be a folder name is refused permanently and the whole call
    /// stores nothing.
    case unsafeConnectorNameIsRefused
    /// A failure of the storage (a folder that cannot be created) is transient and stores nothing.
    case storageFailureIsTransient
    /// No error names a record id, a reference, a field value or a secret.
    case archiveErrorsHoldNoPersonalData

    /// The kind of sink the check is for.
    public var sink: SinkKind {
        switch self {
        case .deliveryReturnsReceipt, .redeliveryReturnsSameReceipt, .redeliveryDeliversNothingNew,
            .batchMatchesSingleDeliveries, .koreanTextSurvives, .badRecipientIsPermanent,
            .transportFailureIsTransient, .noticeErrorsHoldNoPersonalData:
            .notices
        case .archiveReturnsReceipt, .rearchiveStoresNothingNew, .entriesReadBackExactly,
            .unsafeConnectorNameIsRefused, .storageFailureIsTransient, .archiveErrorsHoldNoPersonalData:
            .archive
        }
    }

    /// Every check for `NoticeSink`s.
    public static var noticeChecks: [SinkConformanceCheck] { allCases.filter { $0.sink == .notices } }
    /// Every check for `ArchiveSink`s.
    public static var archiveChecks: [SinkConformanceCheck] { allCases.filter { $0.sink == .archive } }

    public var description: String { rawValue }
}

/// The two sink protocols of `RetentionCore`.
public enum SinkKind: String, Sendable {
    case notices
    case archive
}
