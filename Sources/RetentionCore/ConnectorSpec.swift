/// What a connector accepts in its `settings`. Validation, `lethe connectors list`, generated docs
/// and redaction of secrets all derive from it.
public struct ConnectorSpec: Sendable {
    public var type: String
    public var summary: String
    /// What the connector can do.
    public var capabilities: Set<Capability>
    public var fields: [FieldSpec]

    public enum Capability: String, Sendable, Hashable, CaseIterable {
        case source, writeBack = "write-back", notices, archive
    }

    public init(type: String, summary: String, capabilities: Set<Capability>, fields: [FieldSpec]) {
        self.type = type
        self.summary = summary
        self.capabilities = capabilities
        self.fields = fields
    }

    /// Checks `settings` against the spec: unknown keys, missing required keys, wrong types.
    /// Unset environment variables are not reported here: they fail when read.
    public func validate(_ settings: ConfigNode) throws(ConfigError) {
        try settings.rejectUnknownKeys(allowed: Set(fields.map(\.name)))
        for field in fields {
            guard let node = settings[field.name], !node.isNull else {
                if field.required {
                    throw ConfigError(
                        code: "config.missing",
                        location: settings.location,
                        key: settings.keyPath.isEmpty ? field.name : "\(settings.keyPath).\(field.name)",
                        problem: "required: \(field.summary)"
                    )
                }
                continue
            }
            if case .unresolved = node.value { continue }
            switch field.kind {
            case .string: _ = try node.string()
            case .integer: _ = try node.int()
            case .number: _ = try node.double()
            case .boolean: _ = try node.bool()
            case .map: _ = try node.stringMap()
            case .list: _ = try node.items()
            case .choice(let options):
                let value = try node.string()
                if !options.contains(value) {
                    throw node.error("config.choice", "expected one of \(options.joined(separator: ", ")), found '\(value.prefix(40))'")
                }
            }
        }
    }
}

public struct FieldSpec: Sendable {
    public enum Kind: Sendable, Equatable {
        case string, integer, number, boolean, map, list
        case choice([String])
    }

    public var name: String
    public var kind: Kind
    public var required: Bool
    public var defaultValue: String?
    /// Never printed, logged or exported.
    public var secret: Bool
    public var summary: String

    public init(_ name: String, _ kind: Kind, required: Bool = false, default defaultValue: String? = nil, secret: Bool = false, _ summary: String) {
        self.name = name
        self.kind = kind
        self.required = required
        self.defaultValue = defaultValue
        self.secret = secret
        self.summary = summary
    }
}
