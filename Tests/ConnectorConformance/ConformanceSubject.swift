public import RetentionCore

/// A connector under test: builds a fresh instance whose source holds exactly the given records.
///
/// Every call must return an independent instance (a new file, a new in-memory store): checks
/// change what they are given. The instance must offer both a source and a writer.
public protocol ConformanceSubject: Sendable {
    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance
}
