import Foundation

/// One record as a source delivers it: its key and its fields by canonical name, as raw text.
///
/// Connectors map their own columns or properties to the canonical names the policy uses
/// (`created_at`, `purpose`, `email`, …). Values are never interpreted by a connector: the policy does
/// that, so every source gets the same date and consent rules.
public struct SourceRecord: Sendable, Hashable, Codable {
    /// The source's key, trimmed. Empty means the record cannot be addressed and is quarantined.
    public var id: String
    /// Field values by canonical name, as text. A missing key and an empty value both mean "empty".
    public var fields: [String: String]
    /// Where the record was found (a 1-based line number in a file), for reports.
    public var line: Int?
    /// A structural defect the connector found (wrong column count, …): the record is quarantined.
    public var defect: String?

    public init(id: String, fields: [String: String], line: Int? = nil, defect: String? = nil) {
        self.id = id
        self.fields = fields
        self.line = line
        self.defect = defect
    }

    /// The trimmed value of a field, `nil` when missing or blank.
    public func value(_ field: String) -> String? {
        guard let raw = fields[field] else { return nil }
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// A page of records pulled from a source, with the watermark to resume after it.
public struct RecordBatch: Sendable {
    public var records: [SourceRecord]
    /// Opaque to the coordinator; persisted after the whole pull succeeded.
    public var watermark: String?

    public init(records: [SourceRecord], watermark: String? = nil) {
        self.records = records
        self.watermark = watermark
    }
}
