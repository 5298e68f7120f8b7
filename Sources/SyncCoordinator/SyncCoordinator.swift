import Foundation
public import RetentionCore
public import RetentionStore

/// How many records the executor re-reads per `read(ids:)` call when it re-checks deletes (a CSV scans
/// its file once per call; a REST connector batches its reads anyway), how many completions it
/// records per transaction, and how many operations one `apply` call carries (a CSV rewrites its file
/// once per call).
public struct ExecutionChunks: Sendable, Equatable {
    public var recheck: Int
    public var completion: Int
    public var write: Int

    public init(recheck: Int = 50_000, completion: Int = 5_000, write: Int = 100_000) {
        self.recheck = max(1, recheck)
        self.completion = max(1, completion)
        self.write = max(1, write)
    }
}

/// Runs one sync of one connector: read the source → evaluate what changed or fell due → outbox →
/// execute → audit.
///
/// Guarantees: a failed pull changes nothing but records already read (no tombstone, no evaluation of
/// time-due records); every operation is queued in the same transaction as the state change that
/// causes it; deletes beyond the safety limits wait in one approval batch; `--dry-run` writes nothing
/// at all (not the state, not the source, no operation).
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

    /// A dry run reads and evaluates like a sync and writes nothing (no lock needed); any other run
    /// holds the connector's run lock from start to end.
    public func sync(_ connector: ConnectorRuntime, options: Options = Options()) async throws -> SyncSummary {
        if options.dryRun { return try await run(connector, options: options) }
        return try await locked(connector.name) { try await run(connector, options: options) }
    }

    /// Runs `body` holding the connector's run lock (when there is one). Within `body`, a sync of the
    /// same connector runs under that hold and does not take the lock again.
    func locked<T: Sendable>(_ connector: String, wait: Duration? = nil, _ body: () async throws -> T) async throws -> T {
        if Self.holding == connector { return try await body() }
        let lease = try await runLock?.acquire(connector: connector, wait: wait ?? lockWait)
        defer { lease?.release() }
        // The steps below check the lease before they act (`RunLease.checkCurrent()`).
        return try await RunLease.$current.withValue(lease) {
            try await Self.$holding.withValue(connector) { try await body() }
        }
    }

    /// The connector whose run lock the current task holds.
    @TaskLocal static var holding: String?

    /// Runs `body` holding the connector's run lock, across every process sharing the state: what
    /// `body` reads of the state is not acted on by another run meanwhile, and the syncs it starts run
    /// under the same hold. Work queued for a connector (webhook events) is read here, so two hub
    /// instances never take the same work.
    public func withRunLock<T: Sendable>(_ connector: String, _ body: () async throws -> T) async throws -> T {
        try await locked(connector, body)
    }

    private func run(_ connector: ConnectorRuntime, options: Options) async throws -> SyncSummary {
        let now = clock.now()
        var summary = SyncSummary(connector: connector.name, dryRun: options.dryRun, asOf: now)
        let run = options.dryRun ? 0 : try await store.beginRun(connector: connector.name, asOf: now, dryRun: false)
        log(.info, "sync started", ["connector": connector.name, "run": String(run), "dryRun": String(options.dryRun)])
        let executor = OutboxExecutor(store: store, sinks: sinks, clock: clock, log: log, retry: retry, chunks: chunks)
        var started = ContinuousClock.now
        /// Each step's duration, for `-v` (operators see where a long run spends its time).
        func step(_ name: String) {
            let elapsed = ContinuousClock.now - started
            log(.info, "sync step", ["connector": connector.name, "step": name, "seconds": String(format: "%.2f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)])
            // What a step freed goes back to the system before the next one grows.
            ReleasedMemory.trim()
            started = ContinuousClock.now
        }
        if !options.dryRun {
            // Recovery first: operations a previous run queued (and perhaps applied) before it
            // stopped are finished before the source is read again, so a delete that reached the
            // source before a crash is recorded as done, not mistaken for a vanished record.
            try await executor.drain(connector, summary: &summary)
            // Consent decisions recorded while the connector was busy are applied before the read.
            try await applyPendingConsents(connector, summary: &summary)
            step("recover")
        }
        do {
            // The pass (its per-record tables) is gone before the execution allocates its own.
            let pass = try await SyncPass(coordinator: self, connector: connector, now: now, dryRun: options.dryRun, full: !options.incremental)
            step("load state")
            try await pass.read(summary: &summary)
            step("read and evaluate")
            try await pass.settle(summary: &summary)
        }
        step("settle")
        if !options.dryRun {
            try await executor.drain(connector, summary: &summary)
            step("execute")
        }
        summary.quarantined = summary.quarantinedRows.count
        if !options.dryRun {
            try await store.finishRun(run, summary: (try? String(decoding: JSONEncoder().encode(summary), as: UTF8.self)) ?? "{}")
            // Every run ends with a signed checkpoint of the audit head (one entry, a signature; none
            // when the run added nothing since the last one).
            _ = try await store.appendAuditCheckpoint(at: now, unlessCurrent: true)
        }
        log(.info, "sync finished", [
            "connector": connector.name, "pulled": String(summary.pulled), "quarantined": String(summary.quarantined),
            "deleted": String(summary.deleted), "failed": String(summary.failed),
        ])
        return summary
    }

    /// Syncs only the given records (a webhook said they changed or were deleted): pending operations
    /// first, then every named record is re-read from the source. A record the source still has is
    /// read and evaluated, whatever the event said (a deletion event is a claim to confirm: the
    /// record may have been restored since, or the event forged); only a record a successful read
    /// leaves out is tombstoned (no operation). The due operations run under the same safety limits
    /// as a full sync, the absolute one only (a share of a handful of named records means nothing).
    /// A failed read changes nothing.
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
        if !fresh.isEmpty {
            var limits = connector
            limits.safety.maxDeleteFraction = 1
            let pass = try await SyncPass(coordinator: self, connector: limits, now: now, dryRun: false, full: false, timeDue: false)
            try await pass.read(records: fresh, summary: &summary)
            try await pass.settle(summary: &summary)
            try await executor.drain(connector, summary: &summary)
        }
        summary.quarantined = summary.quarantinedRows.count
        try await store.finishRun(run, summary: (try? String(decoding: JSONEncoder().encode(summary), as: UTF8.self)) ?? "{}")
        _ = try await store.appendAuditCheckpoint(at: now, unlessCurrent: true)
        log(.info, "records synced", [
            "connector": connector.name, "read": String(fresh.count), "gone": String(summary.gone), "deleted": String(summary.deleted),
        ])
        return summary
    }
}
