import Foundation
public import RetentionCore

/// A REST CRM described in YAML: how to reach it (`HTTPConfiguration`), list, read, delete and
/// update its records, and how its records map to Lethe's canonical fields. The reference is
/// docs/connectors/rest.md; the shipped manifests are config/connectors/*.yaml.
public struct Manifest: Sendable {
    var name: String
    var summary: String
    var http: HTTPConfiguration
    var list: ListSpec
    var incremental: IncrementalSpec?
    public var mapping: RecordMapping
    var absentWhen: StopCondition?
    var readOne: ReadSpec?
    var readBatch: ReadSpec?
    var delete: DeleteSpec?
    var update: UpdateSpec?
    var gone: GoneSpec
    var lookups: [String: LookupSpec]

    static let ownKeys: Set<String> = [
        "name", "summary", "list", "incremental", "mapping", "absentWhen", "read", "delete", "update", "gone", "lookups",
    ]
    static let connectionKeys: Set<String> = ["baseURL", "headers", "timeout", "connectTimeout", "tls", "auth", "rateLimit", "errors"]

    public init(config node: ConfigNode) throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: Self.ownKeys.union(Self.connectionKeys))
        name = try node["name"]?.string() ?? "rest"
        summary = try node["summary"]?.string() ?? ""
        http = try HTTPConfiguration(config: node)
        guard let listNode = node["list"] else { throw node.error("config.missing", "list is required") }
        list = try ListSpec(config: listNode)
        guard let mappingNode = node["mapping"] else { throw node.error("config.missing", "mapping is required") }
        mapping = try RecordMapping(config: mappingNode)
        absentWhen = try StopCondition(config: node["absentWhen"])
        lookups = [:]
        for (lookupName, lookupNode) in try node["lookups"]?.entries() ?? [] {
            lookups[lookupName] = try LookupSpec(config: lookupNode)
        }
        for (fieldName, field) in mapping.fields {
            if let lookup = field.options, lookups[lookup] == nil {
                throw mappingNode.error("config.unknown_lookup", "field \(fieldName) uses options '\(lookup)', which lookups does not declare")
            }
        }
        gone = try GoneSpec(config: node["gone"])
        let fullList = list
        incremental = try node["incremental"].map { child throws(ConfigError) in try IncrementalSpec(config: child, list: fullList) }
        if let incremental, mapping.fields[incremental.field] == nil {
            throw node["incremental"]!.error("config.incremental", "field '\(incremental.field)' is not in mapping.fields")
        }
        if let readNode = node["read"] {
            try readNode.rejectUnknownKeys(allowed: ["one", "batch"])
            readOne = try readNode["one"].map { child throws(ConfigError) in try ReadSpec(config: child, batch: false) }
            readBatch = try readNode["batch"].map { child throws(ConfigError) in try ReadSpec(config: child, batch: true) }
        }
        delete = try node["delete"].map { child throws(ConfigError) in try DeleteSpec(config: child) }
        if delete?.confirmedIDs != nil, readOne == nil, readBatch == nil, let confirmedNode = node["delete"]?["batch"]?["confirmedIDs"] {
            throw confirmedNode.error("config.missing", "confirmedIDs needs read.one or read.batch: an id the answer leaves out is re-read")
        }
        let declared = lookups
        update = try node["update"].map { child throws(ConfigError) in try UpdateSpec(config: child, lookups: declared) }
    }

    var canWrite: Bool { delete != nil || update != nil }
}

/// `list:` — the full listing.
struct ListSpec: Sendable, Equatable {
    var endpoint: Endpoint
    var pageSize: Int
    var pagination: Pagination
    var stop: StopCondition?
    /// More pages than this in one pull fail it (`rest.pagination_loop`): a bound on an API that never ends.
    var maxPages: Int

    init(config node: ConfigNode) throws(ConfigError) {
        endpoint = try Endpoint(config: node, extraKeys: ["pageSize", "pagination", "stop", "maxPages"])
        pageSize = try node["pageSize"]?.int() ?? 100
        guard pageSize > 0 else { throw node["pageSize"]!.error("config.range", "pageSize must be positive") }
        maxPages = try node["maxPages"]?.int() ?? 1_000_000
        guard maxPages > 0 else { throw node["maxPages"]!.error("config.range", "maxPages must be positive") }
        pagination = try node["pagination"].map { child throws(ConfigError) in try Pagination(config: child) } ?? .none
        stop = try StopCondition(config: node["pagination"]?["stop"])
    }
}

/// `incremental:` — what changed since the last pull.
///
/// ```yaml
/// incremental:
///   field: updated_at           # a mapped datetime field; its greatest value is the next watermark
///   format: epoch-ms            # how {{watermark}} is written: iso8601 (default), epoch-ms, date-time (YYYY-MM-DD HH:MM:SS UTC)
///   list: {…}                   # a filtered list (HubSpot search, SOQL WHERE); default: the full list
///   order: ascending            # ascending: `cap` restarts the query from the last value seen;
///                               # descending: stop at the first record not newer than the watermark
///   cap: 10000                  # results one query can return (HubSpot search)
/// ```
struct IncrementalSpec: Sendable, Equatable {
    enum Order: String, Sendable { case ascending, descending }
    enum Format: String, Sendable { case iso8601, epochMilliseconds = "epoch-ms", dateTime = "date-time" }

    var field: String
    var format: Format
    var list: ListSpec
    var order: Order
    var cap: Int?

    init(config node: ConfigNode, list full: ListSpec) throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: ["field", "format", "list", "order", "cap"])
        guard let fieldNode = node["field"] else { throw node.error("config.missing", "field is required") }
        field = try fieldNode.string()
        format = try Self.choice(node["format"], default: .iso8601)
        order = try Self.choice(node["order"], default: .ascending)
        list = try node["list"].map { child throws(ConfigError) in try ListSpec(config: child) } ?? full
        cap = try node["cap"]?.int()
    }

    static func choice<T: RawRepresentable>(_ node: ConfigNode?, default value: T) throws(ConfigError) -> T where T.RawValue == String {
        guard let node else { return value }
        let text = try node.string()
        guard let choice = T(rawValue: text) else { throw node.error("config.choice", "unexpected value '\(text.prefix(30))'") }
        return choice
    }

    /// The watermark text a request carries, from the stored (ISO-8601 UTC) watermark.
    func render(_ watermark: String) -> String {
        guard let date = DateParser(zone: TimeZone(secondsFromGMT: 0)!).parse(watermark) else { return watermark }
        if format == .epochMilliseconds { return String(Int64((date.timeIntervalSince1970 * 1000).rounded())) }
        // To the second, rounded down: a filter with >= then re-reads at most a second's records.
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let (year, month, day) = DateParser.civilFromDays(Int(days))
        let rest = seconds - days * 86_400
        let time = String(format: "%02d:%02d:%02d", Int(rest / 3600), Int(rest % 3600 / 60), Int(rest % 60))
        let calendarDay = String(format: "%04d-%02d-%02d", year, month, day)
        return format == .iso8601 ? "\(calendarDay)T\(time)Z" : "\(calendarDay) \(time)"
    }
}

/// `read.one` / `read.batch`: the current version of given records.
struct ReadSpec: Sendable, Equatable {
    var endpoint: Endpoint
    /// Where the record (one) or records (batch) are in the body; `nil`: the body itself.
    var records: JSONPath?
    var max: Int

    init(config node: ConfigNode, batch: Bool) throws(ConfigError) {
        endpoint = try Endpoint(config: node, extraKeys: batch ? ["records", "max"] : ["record"])
        records = try Pagination.path(node, batch ? "records" : "record")
        max = batch ? try node["max"]?.int() ?? 100 : 1
        guard max > 0 else { throw node["max"]!.error("config.range", "max must be positive") }
        let needed = batch ? "ids" : "id"
        guard endpoint.variables.contains(where: { $0 == needed || $0.hasPrefix("ids:") }) else {
            throw node.error("config.template", "this request must use {{\(needed)}}")
        }
    }
}

/// `delete:` — single and batch deletes and the delete mode.
///
/// ```yaml
/// delete:
///   mode: soft                  # soft: the provider can restore it for `restorable`; permanent
///   restorable: 90d
///   one: {method: DELETE, path: /crm/v3/objects/contacts/{{id}}}
///   batch: {method: POST, path: …/batch/archive, body: '{"inputs": "{{ids:id}}"}', max: 100,
///           results: {records: "", id: id, success: success, code: "errors[0].statusCode"}}
///   # or, for an answer that lists the ids it deleted (Pipedrive v1 `{"data": {"id": [1, 2]}}`):
///   batch: {method: DELETE, path: /v1/persons, query: {ids: "{{ids}}"}, confirmedIDs: data.id}
///   purge: {…}                  # permanent mode: a request that makes the delete permanent, per {{id}} or {{ids}}
///   job: {…}                    # permanent mode: a bulk job deletes permanently instead (`DeleteJobSpec`)
/// ```
struct DeleteSpec: Sendable, Equatable {
    enum Mode: String, Sendable { case soft, permanent }

    var mode: Mode
    var restorable: Period?
    var one: Endpoint?
    var batch: Endpoint?
    var batchMax: Int
    var results: ItemResults?
    /// Where a 2xx batch answer lists the ids it deleted. Those are deleted; every other id of the
    /// batch is re-read: gone → already gone, still there → a transient failure (`rest.item_unconfirmed`).
    var confirmedIDs: JSONPath?
    var purge: Endpoint?
    /// Permanent mode: the bulk job that deletes (`one`, `batch` and `purge` are then not used).
    var job: DeleteJobSpec?

    init(config node: ConfigNode) throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: ["mode", "restorable", "one", "batch", "purge", "job"])
        mode = try IncrementalSpec.choice(node["mode"], default: .soft)
        restorable = try node["restorable"]?.period()
        one = try node["one"].map { child throws(ConfigError) in try Endpoint(config: child, defaultMethod: "DELETE") }
        batchMax = 100
        if let batchNode = node["batch"] {
            batch = try Endpoint(config: batchNode, extraKeys: ["max", "results", "confirmedIDs"], defaultMethod: "POST")
            batchMax = try batchNode["max"]?.int() ?? 100
            guard batchMax > 0 else { throw batchNode["max"]!.error("config.range", "max must be positive") }
            results = try batchNode["results"].map { child throws(ConfigError) in try ItemResults(config: child) }
            confirmedIDs = try Pagination.path(batchNode, "confirmedIDs")
            if results != nil, let confirmedNode = batchNode["confirmedIDs"] {
                throw confirmedNode.error("config.conflict", "a batch answer has per-item results or confirmedIDs, not both")
            }
        }
        purge = try node["purge"].map { child throws(ConfigError) in try Endpoint(config: child, defaultMethod: "DELETE") }
        job = try node["job"].map { child throws(ConfigError) in try DeleteJobSpec(config: child) }
        guard one != nil || batch != nil || (mode == .permanent && job != nil) else {
            throw node.error("config.missing", mode == .permanent ? "delete needs one, batch or job" : "delete needs one or batch")
        }
        if mode == .soft, restorable == nil {
            throw node.error("config.missing", "a soft delete needs restorable (how long the provider keeps deleted records, e.g. 90d)")
        }
    }
}

/// Per-item results of a batch call: `[{"id": …, "success": true, "errors": [{"statusCode": …}]}]`.
struct ItemResults: Sendable, Equatable {
    var records: JSONPath?
    var id: JSONPath
    var success: JSONPath
    var code: JSONPath?

    init(config node: ConfigNode) throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: ["records", "id", "success", "code"])
        let recordsText = try node["records"]?.string() ?? ""
        records = recordsText.isEmpty ? nil : try Pagination.path(node, "records")
        id = try Pagination.path(node, "id", required: true)!
        success = try Pagination.path(node, "success", required: true)!
        code = try Pagination.path(node, "code")
    }
}

/// `update:` — erasures and extensions write only the fields an operation changes.
struct UpdateSpec: Sendable, Equatable {
    var endpoint: Endpoint
    var fields: [String: WriteField]

    init(config node: ConfigNode, lookups: [String: LookupSpec]) throws(ConfigError) {
        endpoint = try Endpoint(config: node, extraKeys: ["fields"], defaultMethod: "PATCH")
        guard endpoint.variables.contains("fields"), endpoint.variables.contains("id") else {
            throw node.error("config.template", "an update uses {{id}} and {{fields}}")
        }
        fields = [:]
        for (name, fieldNode) in try node["fields"]?.entries() ?? [] {
            let field = try WriteField(config: fieldNode)
            if let lookup = field.options, lookups[lookup] == nil {
                throw fieldNode.error("config.unknown_lookup", "options '\(lookup)' is not declared under lookups")
            }
            fields[name] = field
        }
    }
}

/// How one canonical field is written back.
///
/// ```yaml
/// marketing_consent: {name: Lethe_Marketing_Consent__c, type: boolean, values: {N: "false", Y: "true"}}
/// interests: {name: lethe_interests, empty: null}      # "" is written as JSON null
/// consent_extended_at: {name: lethe_consent_extended_at, format: epoch-ms}
/// marketing_consent: {name: "${PIPEDRIVE_FIELD_MARKETING_CONSENT}", values: {N: "No", Y: "Yes"}, options: personFields}
/// ```
struct WriteField: Sendable, Equatable {
    enum Kind: String, Sendable { case string, boolean, number }
    enum Format: String, Sendable { case asIs = "as-is", iso8601, epochMilliseconds = "epoch-ms", date }

    var name: String
    var kind: Kind
    var values: [String: String]
    var emptyIsNull: Bool
    var format: Format
    var options: String?
    /// The zone a `date` is written in (default UTC).
    var zone: TimeZone

    init(config node: ConfigNode) throws(ConfigError) {
        zone = TimeZone(secondsFromGMT: 0)!
        if case .scalar = node.value {
            name = try node.string()
            kind = .string
            values = [:]
            emptyIsNull = false
            format = .asIs
            return
        }
        try node.rejectUnknownKeys(allowed: ["name", "type", "values", "empty", "format", "options", "zone"])
        if let zoneNode = node["zone"] {
            let text = try zoneNode.string()
            guard let zone = TimeZone(identifier: text) else { throw zoneNode.error("config.zone", "unknown time zone '\(text.prefix(40))'") }
            self.zone = zone
        }
        guard let nameNode = node["name"] else { throw node.error("config.missing", "name is required") }
        name = try nameNode.string()
        guard !name.isEmpty else { throw nameNode.error("config.missing", "name is empty") }
        kind = try IncrementalSpec.choice(node["type"], default: .string)
        values = try node["values"]?.stringMap() ?? [:]
        if let emptyNode = node["empty"] {
            switch emptyNode.value {
            case .null: emptyIsNull = true
            default:
                let text = try emptyNode.string()
                guard text == "null" || text.isEmpty else { throw emptyNode.error("config.choice", "empty is null or \"\"") }
                emptyIsNull = text == "null"
            }
        } else {
            emptyIsNull = false
        }
        format = try IncrementalSpec.choice(node["format"], default: .asIs)
        options = try node["options"]?.string()
    }

    /// The provider value of a canonical value; `lookup` maps option labels to ids.
    func value(_ canonical: String, lookup: OptionTable?) -> JSONValue {
        var text = values[canonical] ?? canonical
        if let lookup, let id = lookup.id(forLabel: text) { text = id }
        if text.isEmpty { return emptyIsNull ? .null : .string("") }
        switch kind {
        case .boolean:
            if let yes = ConsentValue.parse(text) { return .bool(yes) }
            return .string(text)
        case .number:
            if let integer = Int64(text) { return .integer(integer) }
            if let number = Double(text) { return .number(number) }
            return .string(text)
        case .string:
            return .string(formatted(text))
        }
    }

    private func formatted(_ text: String) -> String {
        guard format != .asIs, let date = DateParser(zone: TimeZone(secondsFromGMT: 0)!).parse(text) else { return text }
        switch format {
        case .asIs: return text
        case .epochMilliseconds: return String(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        case .iso8601: return DateTimeNormalizer.format(date)
        case .date:
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        }
    }
}

/// `gone:` — answers meaning "the record is already gone" (a delete counts as done, a read finds nothing).
struct GoneSpec: Sendable, Equatable {
    var statuses: Set<Int>
    var codes: Set<String>

    init(config node: ConfigNode?) throws(ConfigError) {
        statuses = [404, 410]
        codes = []
        guard let node else { return }
        try node.rejectUnknownKeys(allowed: ["statuses", "codes"])
        if let list = node["statuses"] {
            statuses = Set(try list.items().map { item throws(ConfigError) in try item.int() })
        }
        codes = Set(try node["codes"]?.items().map { item throws(ConfigError) in try item.string() } ?? [])
    }
}

/// `lookups.NAME:` — option ids and labels of enumerated fields, read from the provider
/// (Pipedrive `personFields`): `{request: {path: /v1/personFields}, records: data, key: key,
/// options: options, id: id, label: label}`. A field uses it with `options: NAME`; its `path`
/// (read) or `name` (write) is the field's key.
struct LookupSpec: Sendable, Equatable {
    var endpoint: Endpoint
    var pagination: Pagination
    var records: JSONPath?
    var key: JSONPath
    var options: JSONPath
    var id: JSONPath
    var label: JSONPath

    init(config node: ConfigNode) throws(ConfigError) {
        try node.rejectUnknownKeys(allowed: ["request", "records", "key", "options", "id", "label", "pagination"])
        guard let requestNode = node["request"] else { throw node.error("config.missing", "request is required") }
        endpoint = try Endpoint(config: requestNode)
        pagination = try node["pagination"].map { child throws(ConfigError) in try Pagination(config: child) } ?? .none
        records = try Pagination.path(node, "records")
        key = try Pagination.path(node, "key") ?? JSONPath("key")!
        options = try Pagination.path(node, "options") ?? JSONPath("options")!
        id = try Pagination.path(node, "id") ?? JSONPath("id")!
        label = try Pagination.path(node, "label") ?? JSONPath("label")!
    }
}

/// The options of one enumerated field: id ↔ label.
struct OptionTable: Sendable, Equatable {
    var labels: [String: String] = [:]

    func label(forID id: String) -> String? { labels[id] }

    func id(forLabel label: String) -> String? {
        labels.first { $0.value == label }?.key
    }
}
