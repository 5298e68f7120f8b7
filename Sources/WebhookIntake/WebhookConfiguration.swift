public import RetentionCore

/// A connector's `webhook:` mapping: how deliveries authenticate and how their bodies map to record events.
///
/// ```yaml
/// webhook:
///   scheme: hubspot-v3             # hubspot-v3 | hubspot-v2 | hubspot-v1 | hmac-sha256 | shared-secret | basic
///   secret: ${HUBSPOT_WEBHOOK_SECRET}
///   maxAge: 5m                     # hubspot-v3, hmac-sha256 with timestampHeader; whole seconds or 30s/5m/1h
///   format: hubspot                # hubspot | pipedrive | generic (default hubspot for hubspot-* schemes)
/// ```
/// Keys of each scheme and format: see `WebhookAuthentication(config:)` and `WebhookEvents(config:)`.
public struct WebhookConfiguration: Sendable {
    public var authentication: WebhookAuthentication
    public var events: WebhookEvents

    public init(authentication: WebhookAuthentication, events: WebhookEvents) {
        self.authentication = authentication
        self.events = events
    }

    public init(config: ConfigNode) throws(ConfigError) {
        self.authentication = try WebhookAuthentication(config: config)
        self.events = try WebhookEvents(config: config)
    }

    /// Every key a `webhook:` mapping may hold (each scheme and format then accepts its own subset).
    public static let keys: Set<String> = WebhookAuthentication.keys.union(WebhookEvents.keys)
}

extension ConfigNode {
    /// The child `key`, or a `config.missing` error naming it.
    func required(_ key: String, _ problem: String) throws(ConfigError) -> ConfigNode {
        if let node = self[key], !node.isNull { return node }
        throw ConfigError(code: "config.missing", location: location, key: childPath(key), problem: problem)
    }

    func childPath(_ key: String) -> String { keyPath.isEmpty ? key : "\(keyPath).\(key)" }

    /// Rejects keys of `family` that the chosen variant (`what`) does not use.
    func rejectKeys(of family: Set<String>, except used: Set<String>, what: String) throws(ConfigError) {
        for (key, node) in try entries() where family.contains(key) && !used.contains(key) {
            throw ConfigError(
                code: "config.unused_key", location: node.location ?? location, key: childPath(key),
                problem: "not used by \(what) (it uses: \(used.sorted().joined(separator: ", ")))")
        }
    }

    /// One of `choices`, or a `config.invalid` error listing them.
    func choice<T: RawRepresentable & CaseIterable>(_: T.Type) throws(ConfigError) -> T where T.RawValue == String {
        let text = try string()
        if let value = T(rawValue: text) { return value }
        let known = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw error("config.invalid", "expected one of \(known), found '\(text.prefix(40))'")
    }
}
