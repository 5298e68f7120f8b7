import Foundation
import RetentionCore

/// How one canonical field is read from a provider's record.
///
/// Config: either a path (`email: properties.email`) or a mapping with `path` (required) and the
/// options `type` (`text`, default, or `datetime`), `zone` (IANA name; `datetime` only), `split`,
/// `join` and `values`.
///
/// Reading: the value at `path` (absent when missing or null) becomes a list of elements when it is
/// a JSON array of scalars or when `split` is set (elements trimmed, empty ones dropped); each
/// element is replaced by its option label when `options` names a lookup, then looked up in `values` (raw → canonical; unmapped values pass through), then, for
/// `datetime`, normalised by `DateTimeNormalizer`; a list is joined with `join` (default: `split`,
/// else `,`).
struct FieldMapping: Sendable, Equatable {
    enum Kind: String, Sendable, Equatable {
        case text
        case datetime
    }

    var path: JSONPath
    var kind: Kind
    /// The zone of zone-less date-times; `nil` leaves them as they are.
    var zone: TimeZone?
    var split: String?
    var join: String?
    var values: [String: String]
    /// A lookup (manifest `lookups`) mapping the field's option ids to labels (Pipedrive).
    var options: String?

    init(path: JSONPath, kind: Kind = .text, zone: TimeZone? = nil, split: String? = nil,
                join: String? = nil, values: [String: String] = [:], options: String? = nil) {
        self.options = options
        self.path = path
        self.kind = kind
        self.zone = zone
        self.split = split
        self.join = join
        self.values = values
    }

    static let keys: Set<String> = ["path", "type", "zone", "split", "join", "values", "options"]

    /// Decodes a field's config (a path, or a mapping of options).
    init(config node: ConfigNode) throws(ConfigError) {
        guard case .mapping = node.value else {
            self.init(path: try Self.path(node))
            return
        }
        try node.rejectUnknownKeys(allowed: Self.keys)
        guard let pathNode = node["path"] else { throw node.error("config.missing", "path is required") }
        self.init(path: try Self.path(pathNode))
        if let typeNode = node["type"] {
            let text = try typeNode.string()
            guard let kind = Kind(rawValue: text) else {
                throw typeNode.error("config.type", "expected text or datetime, found '\(text.prefix(40))'")
            }
            self.kind = kind
        }
        if let zoneNode = node["zone"] {
            let name = try zoneNode.string()
            guard let zone = TimeZone(identifier: name) else {
                throw zoneNode.error("config.zone", "unknown time zone '\(name.prefix(40))'")
            }
            guard kind == .datetime else { throw zoneNode.error("config.conflict", "zone needs type: datetime") }
            self.zone = zone
        }
        split = try node["split"].map { node throws(ConfigError) in try Self.separator(node) }
        join = try node["join"].map { node throws(ConfigError) in try Self.separator(node) }
        values = try node["values"]?.stringMap() ?? [:]
        options = try node["options"]?.string()
    }

    private static func path(_ node: ConfigNode) throws(ConfigError) -> JSONPath {
        let text = try node.string()
        guard let path = JSONPath(text) else {
            throw node.error("config.path", "expected a path such as properties.email or email[primary=true].value")
        }
        return path
    }

    private static func separator(_ node: ConfigNode) throws(ConfigError) -> String {
        let text = try node.string()
        guard !text.isEmpty else { throw node.error("config.missing", "a separator cannot be empty") }
        return text
    }

    /// The canonical text of this field in one record, `nil` when absent.
    func value(in record: JSONValue, lookup: OptionTable? = nil) -> String? {
        guard let raw = path.evaluate(record) else { return nil }
        let elements: [String]
        switch raw {
        case .array(let items):
            elements = items.compactMap(\.text).flatMap(splitElements)
        default:
            guard let text = raw.text else { return nil }
            guard split != nil else { return convert(text, lookup: lookup) }
            elements = splitElements(text)
        }
        return elements.map { convert($0, lookup: lookup) }.joined(separator: join ?? split ?? ",")
    }

    private func splitElements(_ text: String) -> [String] {
        let parts = split.map { text.components(separatedBy: $0) } ?? [text]
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private func convert(_ text: String, lookup: OptionTable?) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let labelled = lookup?.label(forID: trimmed) ?? trimmed
        let mapped = values[labelled] ?? (lookup == nil ? text : labelled)
        return kind == .datetime ? DateTimeNormalizer(zone: zone).normalize(mapped) : mapped
    }
}
