public import RetentionCore

/// An in-memory CRM for coordinator tests: a source and a write-back target over one record list.
///
/// Behaviour (the contract of `RecordSource`/`RecordWriter`, plus knobs for failure paths):
/// - `pull` yields the records in seed order in batches of `batchSize`. A full pull yields all; an
///   incremental pull (`full == false` with a watermark) yields only records changed after it.
///   Every batch carries the watermark of the snapshot the pull started from (a decimal counter).
/// - `apply` is idempotent: deleting a missing id is `.alreadyGone`; erasing or extending writes the
///   fields and is `.applied` even when they already held those values; erasing or extending a
///   missing id is `.alreadyGone`; `notify` and `archive` are not writer operations (`.failed`,
///   permanent `crm.unsupported`).
/// - Duplicate ids in the seed are kept (the coordinator must detect them); an operation on such an
///   id affects every copy.
/// - Counters (`pullCalls`, `readCalls`, `applyCalls`, `checkCalls`) count calls, not records.
/// - Injected failures: `failNextApplies` (thrown, so nothing of the batch is applied, or as one
///   `.failed` outcome per operation), `failPulls` (after some batches), `failReads`, `failChecks`.
public actor InMemoryCRM: RecordSource, RecordWriter {
    /// How injected apply failures surface.
    public enum ApplyFailureMode: Sendable {
        /// `apply` throws: none of the batch is applied.
        case thrown
        /// `apply` returns `.failed(error)` for every operation of the call; nothing is applied.
        case outcome
    }

    private struct Stored: Sendable {
        var record: SourceRecord
        var version: Int
    }

    private var stored: [Stored]
    private var version = 0
    private var applyFailures: (remaining: Int, error: ConnectorError, mode: ApplyFailureMode)?
    private var pullFailure: (afterBatches: Int, error: ConnectorError)?
    private var readFailure: ConnectorError?
    private var checkFailure: ConnectorError?

    /// Records per pulled batch (at least 1).
    public var batchSize: Int
    public private(set) var pullCalls = 0
    public private(set) var readCalls = 0
    public private(set) var applyCalls = 0
    public private(set) var checkCalls = 0
    /// Every operation that changed (or found already changed) a record, in order.
    public private(set) var appliedOperations: [WriteOperation] = []
    /// Ids removed by `delete` operations, in order.
    public private(set) var deletedIDs: [String] = []

    public init(_ records: [SourceRecord] = [], batchSize: Int = 100) {
        self.stored = records.map { Stored(record: $0, version: 0) }
        self.batchSize = max(1, batchSize)
    }

    // MARK: Inspection and direct changes

    /// The current records, in seed order (inserted records at the end).
    public var records: [SourceRecord] { stored.map(\.record) }

    /// The current record with this id (the first, if duplicated).
    public func record(_ id: String) -> SourceRecord? {
        stored.first { $0.record.id == id }?.record
    }

    /// Inserts or replaces (every copy of) a record, as if changed in the CRM by a person.
    public func upsert(_ record: SourceRecord) {
        version += 1
        if stored.contains(where: { $0.record.id == record.id }) {
            for index in stored.indices where stored[index].record.id == record.id {
                stored[index] = Stored(record: record, version: version)
            }
        } else {
            stored.append(Stored(record: record, version: version))
        }
    }

    /// Removes a record without Lethe (it becomes "gone").
    public func remove(id: String) {
        stored.removeAll { $0.record.id == id }
    }

    public func setBatchSize(_ size: Int) {
        batchSize = max(1, size)
    }

    // MARK: Failure injection

    /// The next `count` calls to `apply` fail with `error`, applying nothing.
    public func failNextApplies(_ count: Int, with error: ConnectorError, mode: ApplyFailureMode = .thrown) {
        applyFailures = count > 0 ? (count, error, mode) : nil
    }

    /// Every pull fails with `error` after yielding `afterBatches` batches; `nil` heals.
    public func failPulls(with error: ConnectorError?, afterBatches: Int = 0) {
        pullFailure = error.map { (max(0, afterBatches), $0) }
    }

    public func failReads(with error: ConnectorError?) {
        readFailure = error
    }

    public func failChecks(with error: ConnectorError?) {
        checkFailure = error
    }

    // MARK: RecordSource

    public func check() async throws {
        checkCalls += 1
        if let checkFailure { throw checkFailure }
    }

    public nonisolated func pull(_ request: PullRequest) -> AsyncThrowingStream<RecordBatch, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                let (batches, failure) = await self.startPull(request)
                for (index, batch) in batches.enumerated() {
                    if let failure, index == failure.afterBatches {
                        continuation.finish(throwing: failure.error)
                        return
                    }
                    if Task.isCancelled { break }
                    continuation.yield(batch)
                }
                if let failure, failure.afterBatches >= batches.count {
                    continuation.finish(throwing: failure.error)
                    return
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func startPull(_ request: PullRequest) -> ([RecordBatch], (afterBatches: Int, error: ConnectorError)?) {
        pullCalls += 1
        let since = request.full ? nil : request.watermark.flatMap { Int($0) }
        let selected = stored.filter { entry in since.map { entry.version > $0 } ?? true }.map(\.record)
        let watermark = String(version)
        var batches: [RecordBatch] = []
        var start = 0
        while start < selected.count {
            let end = min(start + batchSize, selected.count)
            batches.append(RecordBatch(records: Array(selected[start..<end]), watermark: watermark))
            start = end
        }
        return (batches, pullFailure)
    }

    public func read(ids: [String]) async throws -> [SourceRecord] {
        readCalls += 1
        if let readFailure { throw readFailure }
        let wanted = Set(ids)
        return stored.map(\.record).filter { wanted.contains($0.id) }
    }

    // MARK: RecordWriter

    public func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome] {
        applyCalls += 1
        if let failure = applyFailures {
            applyFailures = failure.remaining > 1 ? (failure.remaining - 1, failure.error, failure.mode) : nil
            switch failure.mode {
            case .thrown: throw failure.error
            case .outcome: return operations.map { _ in .failed(failure.error) }
            }
        }
        return operations.map(applyOne)
    }

    private func applyOne(_ operation: WriteOperation) -> OperationOutcome {
        switch operation.kind {
        case .notify, .archive:
            return .failed(
                ConnectorError(code: "crm.unsupported", message: "\(operation.kind.rawValue) is not a CRM operation", isTransient: false)
            )
        case .delete:
            guard stored.contains(where: { $0.record.id == operation.recordID }) else { return .alreadyGone }
            stored.removeAll { $0.record.id == operation.recordID }
            deletedIDs.append(operation.recordID)
            appliedOperations.append(operation)
            return .applied(detail: "deleted")
        case .eraseFields, .extend:
            guard stored.contains(where: { $0.record.id == operation.recordID }) else { return .alreadyGone }
            version += 1
            var changed = false
            for index in stored.indices where stored[index].record.id == operation.recordID {
                for field in operation.fields where stored[index].record.fields[field.field] != field.value {
                    stored[index].record.fields[field.field] = field.value
                    changed = true
                }
                stored[index].version = version
            }
            appliedOperations.append(operation)
            let verb = operation.kind == .extend ? "extended" : "erased"
            return .applied(detail: changed ? verb : "already \(verb)")
        }
    }
}
