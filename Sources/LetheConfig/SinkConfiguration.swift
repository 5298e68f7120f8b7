public import RetentionCore

/// The `mail:` or `archive:` block: a connector type that delivers notices or archives records.
public struct SinkConfiguration: Sendable {
    /// The registry type (`file-mail`, `file-archive`).
    public var type: String
    /// The sender address of notices (`mail:` only).
    public var from: String?
    /// Passed unread to the connector factory; checked against its spec by `validate(registry:)`.
    public var settings: ConfigNode
    /// Where the block starts.
    public var location: SourceLocation?
    /// The key path of the block (`mail`, `archive`), for errors.
    var keyPath: String = ""
    /// The `type` node, for errors that point at the type.
    var typeNode: ConfigNode?

    public init(type: String, from: String? = nil, settings: ConfigNode, location: SourceLocation? = nil) {
        self.type = type
        self.from = from
        self.settings = settings
        self.location = location
    }
}
