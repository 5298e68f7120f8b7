public import RetentionCore

extension WebhookEvents {
    enum FormatName: String, CaseIterable {
        case hubspot, pipedrive, generic

        var keys: Set<String> {
            switch self {
            case .hubspot: ["format", "objectType"]
            case .pipedrive: ["format", "object"]
            case .generic: ["format", "events", "id", "eventID", "type", "deleted", "occurredAt", "occurredAtUnit"]
            }
        }
    }

    enum TimeUnit: String, CaseIterable { case seconds, milliseconds }

    /// The keys of every format.
    public static let keys: Set<String> = FormatName.allCases.reduce(into: []) { $0.formUnion($1.keys) }

    /// Decodes the event part of a connector's `webhook:` mapping.
    ///
    /// - `format`: `hubspot`, `pipedrive` or `generic`; defaults to `hubspot` when `scheme` is a HubSpot one,
    ///   and is required otherwise.
    /// - `hubspot`: `objectType` (default `contact`; also `company`, `deal`, `ticket`).
    /// - `pipedrive`: `object` (default `person`).
    /// - `generic`: `id` (required), the record id's path within an event; `events`, the path of the event
    ///   array (absent: the body is the array, or a single event object); `eventID`, the event id's path
    ///   (absent: `sha256:` + the SHA-256 of the event's canonical JSON); `type` and `deleted`, the event type's
    ///   path and the list of types meaning deletion (anything else means changed); `occurredAt`, a path to an
    ///   ISO 8601 date or an epoch number, with `occurredAtUnit` `seconds` (default) or `milliseconds`.
    ///   Paths are dot-separated keys with `[n]` indexes (`data.items[0].id`); `$` is the body itself.
    public init(config: ConfigNode) throws(ConfigError) {
        try config.rejectUnknownKeys(allowed: WebhookConfiguration.keys)
        let name: FormatName
        if let node = config["format"], !node.isNull {
            name = try node.choice(FormatName.self)
        } else if let scheme = config["scheme"], case .scalar(let text) = scheme.value, text.hasPrefix("hubspot-") {
            name = .hubspot
        } else {
            throw ConfigError(
                code: "config.missing", location: config.location, key: config.childPath("format"),
                problem: "an event format is required (one of: hubspot, pipedrive, generic)")
        }
        try config.rejectKeys(of: Self.keys, except: name.keys, what: "format \(name.rawValue)")
        switch name {
        case .hubspot:
            self = .hubspot(objectType: try config["objectType"]?.string() ?? "contact")
        case .pipedrive:
            self = .pipedrive(object: try config["object"]?.string() ?? "person")
        case .generic:
            let deleted = try config["deleted"].map { node throws(ConfigError) in
                try node.items().map { item throws(ConfigError) in try item.string() }
            }
            if let node = config["deleted"], deleted != nil, config["type"] == nil {
                throw node.error("config.invalid", "needs type, the path of the event type")
            }
            guard let id = try Self.path(config, "id") else {
                throw ConfigError(
                    code: "config.missing", location: config.location, key: config.childPath("id"),
                    problem: "the path of the record id is required")
            }
            self.init(
                format: .generic(
                    GenericMapping(
                        events: try Self.path(config, "events"),
                        id: id,
                        eventID: try Self.path(config, "eventID"),
                        type: try Self.path(config, "type"),
                        deleted: Set(deleted ?? []),
                        occurredAt: try Self.path(config, "occurredAt"),
                        occurredAtInMilliseconds: try config["occurredAtUnit"]?.choice(TimeUnit.self) == .milliseconds)))
        }
    }

    static func path(_ config: ConfigNode, _ key: String) throws(ConfigError) -> JSONPath? {
        guard let node = config[key], !node.isNull else { return nil }
        let text = try node.string()
        guard let path = JSONPath(text) else {
            throw node.error("config.path", "expected a path such as data.items or meta.id ($ for the body), found '\(text.prefix(40))'")
        }
        return path
    }
}
