import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator

/// A coordinator over a fresh SQLite store, an in-memory CRM and recording sinks.
struct SyncHarness {
    let crm: InMemoryCRM
    let store: SQLiteStateStore
    let notices = RecordingNoticeSink()
    let archive = RecordingArchiveSink()
    let logs = LogCapture()
    var policy = Policy.krPIPA
    var safety = ConnectorRuntime.Safety(maxDeletesPerRun: 1000, maxDeleteFraction: 1.0)
    var retry = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), runDeadline: .seconds(5))
    var chunks = ExecutionChunks()

    init(_ records: [SourceRecord]) throws {
        crm = InMemoryCRM(records)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-sync-\(UUID().uuidString)")
        store = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
    }

    var runtime: ConnectorRuntime {
        ConnectorRuntime(name: "crm", policy: policy, safety: safety, source: crm, writer: crm)
    }

    func coordinator(at now: String) -> SyncCoordinator {
        var coordinator = SyncCoordinator(
            store: store,
            sinks: SinkSet(notices: notices, archive: archive, sender: "privacy@example.org", renderer: NoticeRenderer(templatesDirectory: nil)),
            clock: FixedClock(date(now)),
            log: logs.log,
            retry: retry
        )
        coordinator.chunks = chunks
        return coordinator
    }

    func sync(at now: String, dryRun: Bool = false) async throws -> SyncSummary {
        try await coordinator(at: now).sync(runtime, options: .init(dryRun: dryRun))
    }
}

let asOf = "2026-11-29T09:00:00+09:00"

/// One record of each outcome as of `asOf`.
let world: [SourceRecord] = [
    record(id: "due", created: "2021-01-10", purpose: "payment", email: "due@example.com", line: 2),
    record(id: "erase", created: "2023-06-01", purpose: "payment;marketing", consent: "Y", email: "erase@example.com", interests: "golf", line: 3),
    record(id: "notice", created: "2024-12-15", purpose: "marketing", consent: "Y", email: "notice@example.com", line: 4),
    record(id: "keep", created: "2025-06-01", purpose: "payment;marketing", email: "keep@example.com", line: 5),
    record(id: "future", created: "2027-01-01", purpose: "payment", email: "future@example.com", line: 6),
    record(id: "", created: "2020-01-01", purpose: "payment", line: 7),
    record(id: "twin", created: "2015-01-01", purpose: "payment", line: 8),
    record(id: "twin", created: "2015-01-01", purpose: "payment", line: 9),
]

let personalData = ["due@example.com", "erase@example.com", "notice@example.com", "keep@example.com", "Test Person", "golf"]
