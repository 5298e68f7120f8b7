import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
import SyncCoordinator
import Testing

/// A sink that accepts the message, then the process "stops" before Lethe commits (the delivery
/// throws CancellationError after recording, as a SIGTERM mid-send would).
actor AcceptThenStopSink: NoticeSink {
    private(set) var accepted: [Notice] = []
    private var stopAfterNext = true

    func deliver(_ notice: Notice) async throws -> String {
        accepted.append(notice)
        if stopAfterNext {
            stopAfterNext = false
            throw CancellationError()
        }
        return "<\(notice.operationID)@lethe>"
    }
}

struct NoticeCrashTests {
    @Test func aStopBetweenAcceptanceAndCommitRepeatsTheNoticeOnceWithTheSameOperation() async throws {
        let store = try SQLiteStateStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("lethe-crash-\(UUID().uuidString)/lethe.sqlite"))
        let crm = InMemoryCRM([record(id: "n", created: "2024-12-15", purpose: "marketing", consent: "Y", email: "n@example.com")])
        let sink = AcceptThenStopSink()
        let runtime = ConnectorRuntime(name: "crm", policy: .krPIPA, safety: .init(maxDeletesPerRun: 100, maxDeleteFraction: 1), source: crm, writer: crm)
        let coordinator = SyncCoordinator(
            store: store, sinks: SinkSet(notices: sink, archive: nil, sender: "privacy@example.org", renderer: NoticeRenderer(templatesDirectory: nil)),
            clock: FixedClock(date("2026-11-29T09:00:00+09:00")), log: { _, _, _ in },
            retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), runDeadline: .seconds(5)))
        await #expect(throws: CancellationError.self) { _ = try await coordinator.sync(runtime) }
        #expect(try await store.operations(connector: "crm", statuses: [.pending]).map(\.kind) == [.notify], "not committed: still pending")
        let restart = try await coordinator.sync(runtime)
        #expect(restart.noticesSent == 1)
        let again = try await coordinator.sync(runtime)
        #expect(again.noticesSent == 0)
        let accepted = await sink.accepted
        #expect(accepted.count == 2, "one repeat at most")
        #expect(Set(accepted.map(\.operationID)).count == 1, "the same operation, hence the same Message-ID")
    }
}
