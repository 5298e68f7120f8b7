public import RetentionCore

/// One entry of `connectors:`: a named source (and possibly write-back) with its policy.
public struct ConnectorConfiguration: Sendable {
    /// Unique among the connectors; letters, digits, `-` and `_` (it names files and ids).
    public var name: String
    /// The registry type (`csv`).
    public var type: String
    /// The name of a policy loaded from `policies:`; checked at load.
    public var policy: String
    /// Passed unread to the connector factory; checked against its spec by `validate(registry:)`.
    public var settings: ConfigNode
    public var safety: SafetyLimits
    /// `schedule:` for `lethe run` (`{full: CRON, incremental: CRON, zone: …}`), decoded by the daemon.
    public var schedule: ConfigNode?
    /// `webhook:` for `lethe run` (signature scheme, secret, event format), decoded by the daemon.
    public var webhook: ConfigNode?
    /// Where the entry starts.
    public var location: SourceLocation?
    /// The key path of the entry (`connectors[0]`), for errors.
    var keyPath: String = ""
    /// The `type` node, for errors that point at the type.
    var typeNode: ConfigNode?

    public init(
        name: String,
        type: String,
        policy: String,
        settings: ConfigNode,
        safety: SafetyLimits = SafetyLimits(),
        location: SourceLocation? = nil
    ) {
        self.name = name
        self.type = type
        self.policy = policy
        self.settings = settings
        self.safety = safety
        self.location = location
    }
}
