public import Foundation
public import RetentionCore

/// A loaded `lethe.yaml`: every key checked, every policy file read. Connector and sink settings
/// are kept as `ConfigNode`s for their factories; `validate(registry:)` checks them against the
/// connector specs.
public struct LetheConfiguration: Sendable {
    /// The file it was loaded from; its folder is the base of relative policy paths.
    public var file: URL
    /// The format version; only 1 exists.
    public var version: Int
    /// `state.directory`, unread: it may name an unset variable, which is an error only when read.
    public var stateDirectory: ConfigNode
    /// `state.url`, unread: empty or absent keeps the state in SQLite under `stateDirectory`; a
    /// `postgres://` URL puts it in PostgreSQL (`LETHE_STORE_URL` in the shipped configs).
    public var stateURL: ConfigNode?
    /// The policies by name.
    public var policies: [String: Policy]
    public var mail: SinkConfiguration?
    public var archive: SinkConfiguration?
    /// In file order.
    public var connectors: [ConnectorConfiguration]
    /// Named operators (`operators:`), in file order; names are unique and none is `admin`.
    public var operators: [OperatorConfiguration]
    /// `approval:` (the four-eyes rule).
    public var approval: ApprovalRules
    /// `alerts:` (operator alert e-mails); nil: none are sent.
    public var alerts: AlertsConfiguration?

    public init(
        file: URL,
        version: Int = 1,
        stateDirectory: ConfigNode,
        policies: [String: Policy],
        mail: SinkConfiguration? = nil,
        archive: SinkConfiguration? = nil,
        connectors: [ConnectorConfiguration],
        operators: [OperatorConfiguration] = [],
        approval: ApprovalRules = ApprovalRules(),
        stateURL: ConfigNode? = nil
    ) {
        self.stateURL = stateURL
        self.operators = operators
        self.approval = approval
        self.file = file
        self.version = version
        self.stateDirectory = stateDirectory
        self.policies = policies
        self.mail = mail
        self.archive = archive
        self.connectors = connectors
    }

    /// The PostgreSQL URL of the state (`state.url`), or nil for SQLite (absent or empty). Throws
    /// (at the key) for any other scheme; the URL's parts are checked when the store opens.
    public func storeURL() throws(ConfigError) -> String? {
        guard let stateURL else { return nil }
        let text = try stateURL.string().trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        let lower = text.lowercased()
        guard lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") else {
            throw stateURL.error("config.store_url", "must be empty (SQLite) or postgres://user[:password]@host:port/database[?sslmode=…]")
        }
        return text
    }

    /// Throws the first error `validateAll` finds.
    public func validate(registry: ConnectorRegistry) throws(ConfigError) {
        if let first = validateAll(registry: registry).first { throw first }
    }

    /// Every problem that needs the connector registry: each connector, `mail` and `archive` type
    /// must be registered (the error lists the known types) and able to play its role (read records,
    /// send notices, archive), and its settings must pass `factory.spec.validate`. Also checks that
    /// `state.directory` can be read and is not blank. Empty when all is well.
    public func validateAll(registry: ConnectorRegistry) -> [ConfigError] {
        var issues = ConfigIssues()
        _ = issues.attempt { () throws(ConfigError) in
            guard try !stateDirectory.string().trimmingCharacters(in: .whitespaces).isEmpty else {
                throw stateDirectory.error("config.empty", "must not be empty")
            }
        }
        _ = issues.attempt { () throws(ConfigError) in _ = try storeURL() }
        for connector in connectors {
            check(
                type: connector.type, typeNode: connector.typeNode, owner: connector.keyPath,
                location: connector.location,
                settings: connector.settings, role: .source, registry: registry, issues: &issues
            )
        }
        if let mail {
            check(
                type: mail.type, typeNode: mail.typeNode, owner: mail.keyPath, location: mail.location,
                settings: mail.settings, role: .notices, registry: registry, issues: &issues
            )
        }
        if let archive {
            check(
                type: archive.type, typeNode: archive.typeNode, owner: archive.keyPath, location: archive.location,
                settings: archive.settings, role: .archive, registry: registry, issues: &issues
            )
        }
        // Alerts through another transport than notices: that one's type and settings are checked too.
        if let alerts, let sinkNode = alerts.sinkNode {
            check(
                type: alerts.sink.type, typeNode: sinkNode, owner: "alerts", location: alerts.sink.location,
                settings: alerts.sink.settings, role: .notices, registry: registry, issues: &issues, typeKey: "alerts.sink"
            )
        }
        return issues.errors
    }

    private func check(
        type: String,
        typeNode: ConfigNode?,
        owner: String,
        location: SourceLocation?,
        settings: ConfigNode,
        role: ConnectorSpec.Capability,
        registry: ConnectorRegistry,
        issues: inout ConfigIssues,
        typeKey: String? = nil
    ) {
        let typeKey = typeKey ?? (owner.isEmpty ? "type" : "\(owner).type")
        func typeError(_ code: String, _ problem: String) -> ConfigError {
            ConfigError(code: code, location: typeNode?.location ?? location, key: typeKey, problem: problem)
        }
        guard let factory = registry.factory(for: type) else {
            let types = registry.factories.map(\.type).sorted()
            let known = types.isEmpty ? "none" : types.joined(separator: ", ")
            issues.add(typeError("config.unknown_type", "unknown connector type '\(type)' (known: \(known))"))
            return
        }
        guard factory.spec.capabilities.contains(role) else {
            let wanted: String =
                switch role {
                case .source: "read records"
                case .notices: "send notices"
                case .archive: "archive records"
                case .writeBack: "change records"
                }
            issues.add(typeError("config.wrong_role", "connector type '\(type)' cannot \(wanted)"))
            return
        }
        _ = issues.attempt { () throws(ConfigError) in try factory.spec.validate(settings) }
    }
}
