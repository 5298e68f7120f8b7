public import RetentionCore

/// `alerts:` in the main config: operator alert e-mails (a batch waiting for approval, a dead-lettered
/// operation, overdue destructions) through one of the mail transports. Absent, or `to` empty: no alerts.
public struct AlertsConfiguration: Sendable {
    /// The operators' addresses (`to`), one mail to each.
    public var recipients: [String]
    /// The sender address (`from`); nil: `mail.from`.
    public var sender: String?
    /// The transport (`sink`, resolved): `mail:` itself, or another of its `transports:`.
    public var sink: SinkConfiguration
    /// More new events than this at one check go in one digest mail; at most this many, one mail each (`digestAbove`, 5).
    public var digestAbove: Int
    /// The languages of the mails (`locale`: `ko`, `en` or `both`, the default: Korean then English).
    public var languages: [String]
    /// Where `alerts:` starts.
    public var location: SourceLocation?
    /// `sink` named a transport other than the one notices use: its type is checked against the registry.
    var sinkNode: ConfigNode?

    public static let defaultDigestAbove = 5

    public init(
        recipients: [String], sender: String? = nil, sink: SinkConfiguration, digestAbove: Int = Self.defaultDigestAbove,
        languages: [String] = ["ko", "en"], location: SourceLocation? = nil
    ) {
        self.recipients = recipients
        self.sender = sender
        self.sink = sink
        self.digestAbove = digestAbove
        self.languages = languages
        self.location = location
    }
}
