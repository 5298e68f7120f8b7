public import Foundation

/// What a sync asks of a source.
public struct PullRequest: Sendable, Equatable {
    /// Where the last complete pull ended (nil: from the start).
    public var watermark: String?
    /// Read everything, ignoring the watermark (a full sweep also reveals records that vanished).
    public var full: Bool

    public init(watermark: String? = nil, full: Bool = true) {
        self.watermark = watermark
        self.full = full
    }
}

/// A place records come from.
///
/// Conformers guarantee: `pull` yields every record of the source exactly once per full pull, in
/// bounded memory; a failure ends the stream with an error (the coordinator then keeps the old
/// watermark and changes nothing it has not seen); no field value is ever logged.
public protocol RecordSource: Sendable {
    /// Cheap reachability and configuration check (file exists, credentials accepted).
    func check() async throws
    /// The records, in batches.
    func pull(_ request: PullRequest) -> AsyncThrowingStream<RecordBatch, any Error>
    /// The current version of the given records; ids that no longer exist are absent. Used to
    /// re-check a record right before it is deleted.
    func read(ids: [String]) async throws -> [SourceRecord]
}

/// A source that Lethe can change: deletes, erasures, extensions.
///
/// Conformers guarantee: every operation is idempotent (deleting what is gone is `.alreadyGone`,
/// erasing what is erased is `.applied`); one outcome per operation, in order; an error thrown
/// from `apply` means none of the batch was applied.
public protocol RecordWriter: Sendable {
    func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome]
}

/// One rendered notice, ready to deliver.
public struct Notice: Sendable, Equatable {
    /// The outbox operation id: a transport delivers one notice per id at most once in effect.
    public var operationID: String
    public var recipient: String
    public var recipientName: String?
    public var sender: String
    public var subject: String
    public var textBody: String
    public var htmlBody: String?
    public var date: Date
    public var headers: [String: String]

    public init(
        operationID: String,
        recipient: String,
        recipientName: String?,
        sender: String,
        subject: String,
        textBody: String,
        htmlBody: String? = nil,
        date: Date,
        headers: [String: String] = [:]
    ) {
        self.operationID = operationID
        self.recipient = recipient
        self.recipientName = recipientName
        self.sender = sender
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.date = date
        self.headers = headers
    }
}

/// Where notices go (a file outbox, SMTP).
///
/// Conformers guarantee: delivering the same `operationID` twice produces at most one message in
/// effect; errors are `ConnectorFailure`s that say whether a retry may help.
public protocol NoticeSink: Sendable {
    /// Returns a short receipt for the audit log (a file name, a Message-ID) with no personal data.
    func deliver(_ notice: Notice) async throws -> String
}

/// One record copied to separated storage before it is deleted (PIPA Art. 21(3)).
public struct ArchiveEntry: Sendable, Equatable, Codable {
    public var operationID: String
    public var connector: String
    public var recordID: String
    /// The pseudonymous reference used in the audit log.
    public var reference: String
    public var fields: [String: String]
    public var rules: [String]
    public var archivedAt: Date

    public init(operationID: String, connector: String, recordID: String, reference: String, fields: [String: String], rules: [String], archivedAt: Date) {
        self.operationID = operationID
        self.connector = connector
        self.recordID = recordID
        self.reference = reference
        self.fields = fields
        self.rules = rules
        self.archivedAt = archivedAt
    }
}

/// Separated storage.
///
/// Conformers guarantee: an entry is durable when `archive` returns; archiving the same
/// `operationID` again does not store it twice.
public protocol ArchiveSink: Sendable {
    /// Returns a short receipt (the file written) for the audit log.
    func archive(_ entries: [ArchiveEntry]) async throws -> String
}
