public import Foundation
public import RetentionCore
public import RetentionStore

/// How many records the executor re-reads per `read(ids:)` call when it re-checks deletes (a CSV scans
/// its file once per call; a REST connector batches its reads anyway), and how many completions it
/// records per transaction.
public struct ExecutionChunks: Sendable, Equatable {
    public var recheck: Int
    public var completion: Int

    public init(recheck: Int = 50_000, completion: Int = 5_000) {
        self.recheck = max(1, recheck)
        self.completion = max(1, completion)
    }
}

/// Runs one sync of one connector: ingest → evaluate every live record → outbox → execute → audit.
///
/// Guarantees: a failed pull changes nothing but the mirror rows already read (no evaluation runs);
/// every operation is queued in the same transaction as the state change that causes it; deletes
/// beyond the safety limits wait in one approval batch; `--dry-run` queues nothing and changes no source.
public struct SyncCoordinator: Sendable {
    public var store: any StateStore
    public var sinks: SinkSet
    public var clock: any LetheClock
    public var log: LogFunction
    public var retry: RetryPolicy
    /// How much of a large run the executor handles per step (bounded memory).
    public var chunks = ExecutionChunks()
    /// One run of a connector at a time across processes (nil: the caller serialises runs).
    public var runLock: (any ConnectorRunLock)?
    /// How long a run waits for another run of its connector before it gives up (`RunInProgress`).
    public var lockWait: Duration = .seconds(30)

    public init(store: any StateStore, sinks: SinkSet, clock: any LetheClock, log: @escaping LogFunction, retry: RetryPolicy = RetryPolicy()) {
        self.store = store
        self.sinks = sinks
        self.clock = clock
        self.log = log
        self.retry = retry
    }

    public struct Options: Sendable {
        public var dryRun: Bool
        /// Pull only what changed since the stored watermark (sources with an incremental pull);
        /// records that vanished are not detected by such a pull.
        public var incremental: Bool
        public init(dryRun: Bool = false, incremental: Bool = false) {
            self.dryRun = dryRun
            self.incremental = incremental
        }
    }

    /// A dry run works on a scratch copy of the state and queues nothing, so the state, the source
    /// and the sinks are left exactly as they were; it takes no run lock. Any other run holds the
    /// connector's run lock from start to end.
    public func sync(_ connector: ConnectorRuntime, options: Options = Options()) async throws -> SyncSummary {
        if options.dryRun {
            let scratch = try await store.scratchCopy()
            defer { scratch.discard() }
            var copy = self
            copy.store = scratch.store
            return try await copy.run(connector, options: options)
        }
        return try await locked(connector.name) { try await run(connector, options: options) }
    }

    /// Runs `body` holding the connector's run lock (when there is one).
    func locked<T: Sendable>(_ connector: String, _ body: () async throws -> T) async throws -> T {
        let lease = try await runLock?.acquire(connector: connector, wait: lockWait)
        defer { lease?.release() }
        return try await body()
    }

    private func run(_ connector: ConnectorRuntime, options: Options) async throws -> SyncSummary {
        let now = clock.now()
        var summary = SyncSummary(connector: connector.name, dryRun: options.dryRun, asOf: now)
        let run = try await store.beginRun(connector: connector.name, asOf: now, dryRun: options.dryRun)
        log(.info, "sync started", ["connector": connector.name, "run": String(run), "dryRun": String(options.dryRun)])
        let executor = OutboxExecutor(store: store, sinks: sinks, clock: clock, log: log, retry: retry, chunks: chunks)
        if !options.dryRun {
            // Recovery first: operations a previous run queued (and perhaps applied) before it
            // stopped are finished before the source is read again, so a delete that reached the
            // source before a crash is recorded as done, not mistaken for a vanished record.
            try await executor.drain(connector, summary: &summary)
        }
        let missingHeld = try await ingest(connector, run: run, now: now, full: !options.incremental, summary: &summary)
        try await evaluate(connector, now: now, dryRun: options.dryRun, onlySeenIn: missingHeld ? run : nil, summary: &summary)
        if !options.dryRun {
            try await executor.drain(connector, summary: &summary)
        }
        summary.quarantined = summary.quarantinedRows.count
        try await store.finishRun(run, summary: (try? String(decoding: JSONEncoder().encode(summary), as: UTF8.self)) ?? "{}")
        log(.info, "sync finished", [
            "connector": connector.name, "pulled": String(summary.pulled), "quarantined": String(summary.quarantined),
            "deleted": String(summary.deleted), "failed": String(summary.failed),
        ])
        return summary
    }

    /// Syncs only the given records (a webhook said they changed or were deleted): pending operations
    /// first, then every named record is re-read from the source. A record the source still has is
    /// ingested and evaluated, whatever the event said (a deletion event is a claim to confirm: the
    /// record may have been restored since, or the event forged); only a record a successful read
    /// leaves out is tombstoned (no operation). The due operations run under the same safety limits
    /// as a full sync. A failed read changes nothing.
    public func syncRecords(_ connector: ConnectorRuntime, changed: [String], deleted: [String]) async throws -> SyncSummary {
        try await locked(connector.name) { try await runRecords(connector, changed: changed, deleted: deleted) }
    }

    func runRecords(_ connector: ConnectorRuntime, changed: [String], deleted: [String]) async throws -> SyncSummary {
        let now = clock.now()
        var summary = SyncSummary(connector: connector.name, dryRun: false, asOf: now)
        let run = try await store.beginRun(connector: connector.name, asOf: now, dryRun: false)
        let executor = OutboxExecutor(store: store, sinks: sinks, clock: clock, log: log, retry: retry, chunks: chunks)
        try await executor.drain(connector, summary: &summary)
        var named: [String] = []
        var seen = Set<String>()
        for id in changed + deleted where seen.insert(id).inserted { named.append(id) }
        var fresh: [SourceRecord] = []
        if !named.isEmpty {
            fresh = try await connector.source.read(ids: named).filter { !$0.id.isEmpty }
        }
        let found = Set(fresh.map(\.id))
        let vanished = named.filter { !found.contains($0) }
        summary.gone = try await store.markGone(connector: connector.name, recordIDs: vanished, at: now)
        summary.pulled = fresh.count
        if !fresh.isEmpty {
            summary.reappeared += try await store.ingest(connector: connector.name, run: run, records: fresh)
            let references = Set(fresh.map { store.reference(connector: connector.name, recordID: $0.id) })
            try await evaluate(connector, now: now, dryRun: false, only: references, summary: &summary)
            try await executor.drain(connector, summary: &summary)
        }
        summary.quarantined = summary.quarantinedRows.count
        try await store.finishRun(run, summary: (try? String(decoding: JSONEncoder().encode(summary), as: UTF8.self)) ?? "{}")
        log(.info, "records synced", [
            "connector": connector.name, "read": String(fresh.count), "gone": String(summary.gone), "deleted": String(summary.deleted),
        ])
        return summary
    }

    /// Pulls every record into the mirror. Rows without an id cannot be stored: they are reported here.
    /// After a complete full pull, records the source no longer has are tombstoned as gone — unless
    /// there are more of them than the safety limits allow for deletes (a truncated export, a list
    /// that came back empty): then none is tombstoned, they wait in the connector's approval batch,
    /// and the result is true (the caller evaluates only the records seen in this run).
    @discardableResult
    func ingest(_ connector: ConnectorRuntime, run: Int64, now: Date, full: Bool, summary: inout SyncSummary) async throws -> Bool {
        let liveBefore = full ? try await store.liveCount(connector: connector.name) : 0
        let request = PullRequest(watermark: try await store.watermark(connector: connector.name), full: full)
        var watermark = request.watermark
        // Batches are stored a few thousand records at a time: one transaction per small batch
        // made large pulls commit-bound.
        var addressable: [SourceRecord] = []
        for try await batch in connector.source.pull(request) {
            for var record in batch.records {
                record.id = record.id.trimmingCharacters(in: .whitespacesAndNewlines)
                if record.id.isEmpty {
                    let reason = record.defect.map { QuarantineReason(code: "malformed_row", detail: $0) } ?? .emptyID
                    summary.quarantinedRows.append(.init(line: record.line, reference: nil, code: reason.code, reason: reason.detail))
                } else {
                    addressable.append(record)
                }
            }
            summary.pulled += batch.records.count
            if addressable.count >= Self.pageSize {
                summary.reappeared += try await store.ingest(connector: connector.name, run: run, records: addressable)
                addressable.removeAll(keepingCapacity: true)
            }
            watermark = batch.watermark ?? watermark
        }
        if !addressable.isEmpty {
            summary.reappeared += try await store.ingest(connector: connector.name, run: run, records: addressable)
        }
        var held = false
        if request.full {
            held = try await retireUnseen(connector, run: run, liveBefore: liveBefore, now: now, summary: &summary)
        }
        try await store.setWatermark(connector: connector.name, value: watermark)
        return held
    }

    /// Tombstones the records a complete full pull did not see, counted against the delete limits:
    /// disappearances an operator approved are not counted again; beyond the limits the new ones wait
    /// in the approval batch. Returns whether some were held.
    private func retireUnseen(_ connector: ConnectorRuntime, run: Int64, liveBefore: Int, now: Date, summary: inout SyncSummary) async throws -> Bool {
        let approved = try await store.approvedDisappearances(connector: connector.name, seenIn: run)
        let unseen = try await store.unseenReferences(connector: connector.name, run: run)
        guard !unseen.isEmpty else { return false }
        let fresh = unseen.filter { !approved.contains($0) }
        guard connector.safety.exceeded(deletes: fresh.count, liveRecords: liveBefore) else {
            summary.gone = try await store.markGone(connector: connector.name, references: unseen, at: now, via: "pull")
            return false
        }
        summary.gone = try await store.markGone(connector: connector.name, references: unseen.filter(approved.contains), at: now, via: "pull")
        var batch = try await store.openApprovalBatch(connector: connector.name)
        if batch == nil { batch = try await store.createApprovalBatch(connector: connector.name, at: now) }
        guard let batch else { return false }
        try await store.holdDisappearances(connector: connector.name, references: fresh, batch: batch.id, at: now)
        summary.missingAwaitingApproval = fresh.count
        summary.approvalBatch = batch.id
        log(.warning, "records missing from the source exceed the safety limit: none is marked gone until approved", [
            "connector": connector.name, "missing": String(fresh.count), "liveRecords": String(liveBefore), "batch": batch.id,
        ])
        return true
    }
}
