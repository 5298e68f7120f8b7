import Foundation
public import RetentionCore

/// One configured connector, built and ready: what the coordinator needs to sync it.
public struct ConnectorRuntime: Sendable {
    public var name: String
    public var policy: Policy
    public var safety: Safety
    public var source: any RecordSource
    public var writer: (any RecordWriter)?
    /// Releases the connector's resources; the command calls it once when done.
    public var shutdown: (@Sendable () async -> Void)?
    /// What the connector's settings say about how rows are read (its type and settings): when it
    /// changes, every stored digest and fact is read again.
    public var settingsFingerprint: String = ""

    public struct Safety: Sendable, Equatable {
        public var maxDeletesPerRun: Int
        public var maxDeleteFraction: Double

        public init(maxDeletesPerRun: Int, maxDeleteFraction: Double) {
            self.maxDeletesPerRun = maxDeletesPerRun
            self.maxDeleteFraction = maxDeleteFraction
        }

        /// Strictly greater than either limit holds the run's deletes for approval.
        public func exceeded(deletes: Int, liveRecords: Int) -> Bool {
            deletes > maxDeletesPerRun || Double(deletes) > maxDeleteFraction * Double(liveRecords)
        }
    }

    public init(
        name: String, policy: Policy, safety: Safety, source: any RecordSource, writer: (any RecordWriter)?,
        shutdown: (@Sendable () async -> Void)? = nil, settingsFingerprint: String = ""
    ) {
        self.settingsFingerprint = settingsFingerprint
        self.shutdown = shutdown
        self.name = name
        self.policy = policy
        self.safety = safety
        self.source = source
        self.writer = writer
    }
}

/// The sinks shared by every connector.
public struct SinkSet: Sendable {
    public var notices: (any NoticeSink)?
    public var archive: (any ArchiveSink)?
    public var sender: String
    public var renderer: NoticeRenderer
    /// Signs the extend/decline links of notices (`{{extend_link}}`, `{{decline_link}}`); nil: no links.
    public var links: ConsentLinkSigner?

    public init(notices: (any NoticeSink)?, archive: (any ArchiveSink)?, sender: String, renderer: NoticeRenderer, links: ConsentLinkSigner? = nil) {
        self.links = links
        self.notices = notices
        self.archive = archive
        self.sender = sender
        self.renderer = renderer
    }
}
