import Foundation
import RetentionCore

/// Turns a provider's list response into `SourceRecord`s, as a manifest's mapping section declares:
///
/// ```yaml
/// records: results            # path of the record array; omitted: the body itself is the array
/// id: id                      # path of the record's key
/// fields:                     # canonical name -> path, or a mapping (see `FieldMapping`)
///   email: properties.email
///   created_at: {path: properties.createdate, type: datetime, zone: UTC}
/// ```
///
/// The mapping never interprets values beyond the declared conversions: the policy does that.
public struct RecordMapping: Sendable, Equatable {
    /// `nil`: the body is the record array.
    var recordsPath: JSONPath?
    var idPath: JSONPath
    var fields: [String: FieldMapping]

    init(recordsPath: JSONPath?, idPath: JSONPath, fields: [String: FieldMapping]) {
        self.recordsPath = recordsPath
        self.idPath = idPath
        self.fields = fields
    }

    static let keys: Set<String> = ["records", "id", "fields"]

    /// Decodes the mapping section. Unknown keys, invalid paths, zones and types are `ConfigError`s
    /// at their own line.
    init(config node: ConfigNode) throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: Self.keys)
        guard let idNode = node["id"] else { throw node.error("config.missing", "id is required") }
        idPath = try Self.path(idNode)
        recordsPath = try node["records"].map { node throws(ConfigError) in try Self.path(node) }
        fields = [:]
        for (name, fieldNode) in try node["fields"]?.entries() ?? [] {
            fields[name] = try FieldMapping(config: fieldNode)
        }
    }

    private static func path(_ node: ConfigNode) throws(ConfigError) -> JSONPath {
        let text = try node.string()
        guard let path = JSONPath(text) else {
            throw node.error("config.path", "expected a path such as results or paging.next.after")
        }
        return path
    }

    /// The records of one list response, in the provider's order.
    ///
    /// `null` at the records path is an empty page (Pipedrive's `data: null`). A record whose id is
    /// missing gets the id `""`, and an element that is not an object also carries a `defect`: the
    /// coordinator quarantines both. Throws `RESTCRMConnectorError` `rest.bad_body` (transient) when
    /// the body is not JSON or has no array at the records path; the message holds no body content.
    func records(fromListResponse data: Data) throws -> [SourceRecord] {
        try elements(of: try Self.document(data)).map { record($0) }
    }

    /// Parses a body, mapping any parse failure to `rest.bad_body`.
    static func document(_ data: Data) throws(RESTCRMConnectorError) -> JSONValue {
        do {
            return try JSONValue.parse(data)
        } catch {
            throw .badBody("not valid JSON (\(data.count) bytes; truncated or malformed)")
        }
    }

    func elements(of document: JSONValue) throws(RESTCRMConnectorError) -> [JSONValue] {
        let place = recordsPath.map { "at '\($0)'" } ?? "at the top level"
        let found = recordsPath.map { $0.evaluate(document) } ?? document
        switch found {
        case .array(let items)?: return items
        case .null?: return []
        case nil: throw .badBody("no record array \(place)")
        case let other?: throw .badBody("expected an array \(place), found \(other.kind)")
        }
    }

    func record(_ element: JSONValue, lookups: [String: OptionTable] = [:]) -> SourceRecord {
        guard case .object = element else {
            return SourceRecord(id: "", fields: [:], defect: "record is \(element.kind), not an object")
        }
        let id = idPath.evaluate(element)?.text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        var values: [String: String] = [:]
        for (name, field) in fields {
            let lookup = field.options.map { lookups[$0] ?? OptionTable() }
            if let value = field.value(in: element, lookup: lookup) { values[name] = value }
        }
        return SourceRecord(id: id, fields: values)
    }
}
