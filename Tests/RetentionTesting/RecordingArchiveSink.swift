public import RetentionCore

/// An archive sink that keeps what it is given, for assertions.
///
/// Idempotent per `operationID`: an entry archived again is not stored twice. Receipts
/// (`archive-1`, …) carry no personal data. `failNextArchives` makes the next calls throw before
/// anything is stored (nothing of a failed call is durable).
public actor RecordingArchiveSink: ArchiveSink {
    /// Distinct entries, in first-archive order.
    public private(set) var entries: [ArchiveEntry] = []
    public private(set) var archiveCalls = 0
    private var failures: (remaining: Int, error: ConnectorError)?

    public init() {}

    public func failNextArchives(_ count: Int, with error: ConnectorError) {
        failures = count > 0 ? (count, error) : nil
    }

    public func archive(_ entries: [ArchiveEntry]) async throws -> String {
        archiveCalls += 1
        if let failure = failures {
            failures = failure.remaining > 1 ? (failure.remaining - 1, failure.error) : nil
            throw failure.error
        }
        let known = Set(self.entries.map(\.operationID))
        var seen = known
        for entry in entries where !seen.contains(entry.operationID) {
            self.entries.append(entry)
            seen.insert(entry.operationID)
        }
        return "archive-\(archiveCalls)"
    }
}
