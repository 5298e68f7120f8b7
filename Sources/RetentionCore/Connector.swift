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
    /// `read(ids:)` keeping only the named fields of each record (with its id, line and defect): what
    /// the re-check before a delete evaluates. The default reads whole records and keeps those fields;
    /// a source that can decode less (a file) decodes only them.
    func read(ids: [String], fields: [String]) async throws -> [SourceRecord]
    /// Whether `pull` honours a watermark with `full: false` (only what changed since). The daemon
    /// schedules incremental runs only for sources that do.
    var supportsIncrementalPull: Bool { get }
}

extension RecordSource {
    /// Sources read everything on every pull unless they say otherwise.
    public var supportsIncrementalPull: Bool { false }
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

/// A transport that delivers many notices with one durability step (a file outbox syncs the
/// filesystem once for all of them, not once per file).
///
/// Conformers guarantee, for each notice, what `deliver(_:)` guarantees: at most one message per
/// `operationID` in effect, one result per notice in order, a failure of one notice fails only it.
public protocol BatchingNoticeSink: NoticeSink {
    func deliver(_ notices: [Notice]) async -> [Result<String, any Error>]
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

/// The rows a source returned before, by record key (ascending), with the digest each had; a source
/// that can tell a row is unchanged from its bytes need not turn it into a record.
public struct KnownRows: Sendable {
    public let keys: [Int64]
    /// Per key: the digest of the row last read; 0 when it must be read again whatever its digest.
    public let digests: [UInt64]

    public init(keys: [Int64], digests: [UInt64]) {
        precondition(keys.count == digests.count)
        self.keys = keys
        self.digests = digests
    }

    public static let none = KnownRows(keys: [], digests: [])

    /// The position of `key`. Keys are keyed hashes, spread evenly over the 64-bit range, so an
    /// interpolation search finds one in a few probes; it narrows like a binary search otherwise.
    public func index(of key: Int64) -> Int? {
        keys.withUnsafeBufferPointer { Self.index(of: key, in: $0) }
    }

    /// The position of `key` in ascending `keys` (the same search).
    public static func index(of key: Int64, in keys: [Int64]) -> Int? {
        keys.withUnsafeBufferPointer { index(of: key, in: $0) }
    }

    static func index(of key: Int64, in keys: UnsafeBufferPointer<Int64>) -> Int? {
        var low = 0
        var high = keys.count - 1
        var probes = 0
        while low <= high {
            let lowKey = keys[low]
            let highKey = keys[high]
            if key < lowKey || key > highKey { return nil }
            var middle: Int
            if probes < 4, highKey > lowKey {
                // Where the key would sit if keys were evenly spread between the bounds.
                let span = Double(highKey) - Double(lowKey)
                middle = low + Int(Double(high - low) * ((Double(key) - Double(lowKey)) / span))
                middle = min(max(middle, low), high)
            } else {
                middle = (low + high) >> 1
            }
            probes += 1
            let found = keys[middle]
            if found == key { return middle }
            if found < key { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}

/// A row a scan found unchanged: its position in `KnownRows` and the line it is on now.
public struct UnchangedRow: Sendable, Equatable {
    public var index: Int32
    public var line: Int32

    public init(index: Int32, line: Int32) {
        self.index = index
        self.line = line
    }
}

/// One batch of a scan: unchanged rows by position, every other row with its key and digest.
public struct ScanBatch: Sendable {
    public var unchanged: [UnchangedRow] = []
    public var rows: [ScannedRow] = []
    public var watermark: String?

    public init(unchanged: [UnchangedRow] = [], rows: [ScannedRow] = [], watermark: String? = nil) {
        self.unchanged = unchanged
        self.rows = rows
        self.watermark = watermark
    }
}

/// A row a scan read: its trimmed id, line, key (`RecordFingerprints.key`, 0 without an id) and row
/// digest, and either the record or, when the scan was given the policy (`ScanKeys.reading`), only the
/// policy's facts of it (`Policy.facts(reading:id:defect:layout:)`: no other field is decoded).
public struct ScannedRow: Sendable {
    public enum Content: Sendable {
        case record(SourceRecord)
        case facts(SourceFacts)
    }

    public var id: String
    public var line: Int?
    public var key: Int64
    public var digest: UInt64
    public var content: Content

    public init(id: String, line: Int?, key: Int64, digest: UInt64, content: Content) {
        self.id = id
        self.line = line
        self.key = key
        self.digest = digest
        self.content = content
    }

    /// Why a row without an id is quarantined (a structural defect, else the missing id).
    public var unaddressable: QuarantineReason {
        switch content {
        case .record(let record): record.defect.map { QuarantineReason(code: "malformed_row", detail: $0) } ?? .emptyID
        case .facts(let facts): facts.quarantine ?? .emptyID
        }
    }
}

/// How a scan names and digests rows: the installation's fingerprints, the connector, the digester,
/// and optionally the policy whose facts a scan may read instead of whole records.
public struct ScanKeys: Sendable {
    public var fingerprints: RecordFingerprints
    public var connector: String
    public var digests: RowDigester
    public var reading: PolicyReading?

    public init(fingerprints: RecordFingerprints, connector: String, digests: RowDigester, reading: PolicyReading? = nil) {
        self.fingerprints = fingerprints
        self.connector = connector
        self.digests = digests
        self.reading = reading
    }
}

/// A policy with its layout: what a scan needs to read a row's facts.
public struct PolicyReading: Sendable {
    public let policy: Policy
    public let layout: PolicyLayout

    public init(policy: Policy, layout: PolicyLayout) {
        self.policy = policy
        self.layout = layout
    }
}

/// A source that can tell unchanged rows from their raw bytes (a file), so a sync never turns them
/// into records: the common case of a scheduled re-sync.
///
/// Conformers guarantee: every row is reported exactly once per scan, as unchanged only when its key
/// is in `known` with a non-zero digest equal to the row's own; a record's key and digest are those
/// `keys` gives for its trimmed id and its row; the same contracts as `pull` otherwise.
public protocol ScanningSource: RecordSource {
    func scan(_ request: PullRequest, known: KnownRows, keys: ScanKeys) -> AsyncThrowingStream<ScanBatch, any Error>
}

extension RecordSource {
    public func read(ids: [String], fields: [String]) async throws -> [SourceRecord] {
        let kept = Set(fields)
        return try await read(ids: ids).map { record in
            var narrowed = record
            narrowed.fields = record.fields.filter { kept.contains($0.key) }
            return narrowed
        }
    }

    /// `scan` for any source: pulls records and digests their fields (nothing is skipped unread, but
    /// unchanged records are still recognised).
    public func scanRecords(_ request: PullRequest, known: KnownRows, keys: ScanKeys) -> AsyncThrowingStream<ScanBatch, any Error> {
        if let scanning = self as? any ScanningSource { return scanning.scan(request, known: known, keys: keys) }
        var batches = pull(request).makeAsyncIterator()
        return AsyncThrowingStream {
            guard let batch = try await batches.next() else { return nil }
            var scanned = ScanBatch(watermark: batch.watermark)
            for record in batch.records {
                let id = FastText.trimmed(record.id, newlines: true)
                let digest = keys.digests.digest(record)
                var key: Int64 = 0
                if !id.isEmpty {
                    key = keys.fingerprints.key(connector: keys.connector, id: id)
                    if let index = known.index(of: key), known.digests[index] != 0, known.digests[index] == digest {
                        scanned.unchanged.append(UnchangedRow(index: Int32(index), line: Int32(clamping: record.line ?? 0)))
                        continue
                    }
                }
                scanned.rows.append(ScannedRow(id: id, line: record.line, key: key, digest: digest, content: .record(record)))
            }
            return scanned
        }
    }
}
