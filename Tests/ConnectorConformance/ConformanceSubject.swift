public import RetentionCore

/// A connector under test: builds a fresh instance whose source holds exactly the given records.
///
/// Every call must return an independent instance (a new file, a new in-memory store, a new fake
/// server): checks change what they are given. The instance must offer both a source and a writer.
public protocol ConformanceSubject: Sendable {
    func make(seededWith records: [SourceRecord]) async throws -> ConnectorInstance

    /// The instance with what the checks need beyond it: the system behind it, how the fixture ids
    /// and values look there. The default wraps `make(seededWith:)` with no backend, ids and values
    /// as given.
    func makeUnderTest(seededWith records: [SourceRecord]) async throws -> SourceUnderTest

    /// Checks this connector cannot run, each with a written reason (an empty reason fails the
    /// check). The run answers `.notApplicable(reason:)` for them.
    var exclusions: [ConformanceCheck: String] { get }

    /// Tokens, keys and passwords the instance uses: no error may contain one.
    var secrets: [String] { get }
}

extension ConformanceSubject {
    public func makeUnderTest(seededWith records: [SourceRecord]) async throws -> SourceUnderTest {
        SourceUnderTest(instance: try await make(seededWith: records))
    }

    public var exclusions: [ConformanceCheck: String] { [:] }
    public var secrets: [String] { [] }
}

/// One seeded instance and the system behind it.
public struct SourceUnderTest: Sendable {
    public var instance: ConnectorInstance
    /// The system the connector talks to, for the checks that change it or make it fail.
    public var backend: (any ConformanceBackend)?
    /// The id the system gave each fixture record (`ConformanceFixtures` ids, including
    /// `unknownID`); an id not listed is used as it is.
    public var ids: [String: String]
    /// A fixture record as the connector reads it back (provider-shaped dates, booleans, fields it
    /// does not carry left out); the id is translated separately.
    public var presented: @Sendable (SourceRecord) -> SourceRecord

    public init(
        instance: ConnectorInstance, backend: (any ConformanceBackend)? = nil, ids: [String: String] = [:],
        presented: @escaping @Sendable (SourceRecord) -> SourceRecord = { $0 }
    ) {
        self.instance = instance
        self.backend = backend
        self.ids = ids
        self.presented = presented
    }
}

/// The system behind a connector (a file, a fake server), changed behind the connector's back.
///
/// Ids are the system's own (already translated from fixture ids). A fault lasts until
/// `clearFaults()`; while it lasts, no request it hits is performed.
public protocol ConformanceBackend: Sendable {
    /// Sets fields of a record directly in the system, as another user of it would (canonical
    /// field names; `created_at` as fixture text).
    func change(_ id: String, fields: [String: String]) async throws
    /// Starts a fault. Throws when the system cannot show it (the check then fails: exclude it).
    func inject(_ fault: ConformanceFault) async throws
    func clearFaults() async throws
}

/// A way the system behind a connector misbehaves.
public enum ConformanceFault: Sendable, Hashable, CustomStringConvertible {
    /// Every request is answered with this HTTP status in the provider's own error shape (for 404:
    /// the provider's unknown-route answer), and nothing is performed.
    case status(Int)
    /// Every request goes unanswered past the connector's timeout, and nothing is performed.
    case timeout
    /// Batch delete answers leave these ids out (the server names neither success nor failure for
    /// them), and those records are not deleted.
    case omitFromBatchAnswers([String])

    public var description: String {
        switch self {
        case .status(let status): "status \(status)"
        case .timeout: "timeout"
        case .omitFromBatchAnswers(let ids): "batch answers without \(ids.count) ids"
        }
    }

    /// The faults `errorsAreClassified` injects, with whether each must be transient.
    public static let classified: [(fault: ConformanceFault, transient: Bool)] = [
        (.status(429), true), (.status(503), true), (.timeout, true),
        (.status(400), false), (.status(401), false), (.status(403), false), (.status(404), false),
    ]
}

/// How a check ended when it did not throw.
public enum ConformanceOutcome: Sendable, Equatable {
    case passed
    /// The subject excludes the check, with this reason.
    case notApplicable(reason: String)
}
