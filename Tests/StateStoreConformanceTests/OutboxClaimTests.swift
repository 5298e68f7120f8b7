import Foundation
import RetentionCore
import RetentionStore
import RetentionTesting
@testable import SyncCoordinator
import Testing

/// Executors sharing one connector's outbox (hub instances on one state, each with its own store
/// object): every operation is executed exactly once, each executor executes some, and what another
/// executor holds is left to it until its claim lapses.
enum OutboxClaimChecks {
    /// Counts each operation's executions across executors.
    actor ExecutionCounter {
        private(set) var executions: [String: Int] = [:]
        private(set) var byExecutor: [String: Int] = [:]

        func record(_ operations: [WriteOperation], by executor: String) {
            for operation in operations { executions[operation.id, default: 0] += 1 }
            byExecutor[executor, default: 0] += operations.count
        }

        var executors: Int { byExecutor.count }
    }

    /// One executor's writer: records what it applies, then applies it. With `rendezvous`, a call
    /// waits (20 s at most) until another executor has applied something too: the two executors are
    /// then executing at the same time, whatever the machine's speed.
    struct CountingWriter: RecordWriter {
        let name: String
        let counter: ExecutionCounter
        var rendezvous = true

        func apply(_ operations: [WriteOperation]) async throws -> [OperationOutcome] {
            await counter.record(operations, by: name)
            let deadline = ContinuousClock.now + .seconds(20)
            while rendezvous, await counter.executors < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            return operations.map { _ in .applied(detail: "erased") }
        }
    }

    /// Runs `body` on a fresh store of `kind`, removed afterwards whatever the outcome.
    static func withFixture(_ kind: StoreKind, _ body: (any StoreFixture) async throws -> Void) async throws {
        let fixture = try await kind.make()
        do {
            try await body(fixture)
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }

    static func executor(_ store: any StateStore, claimant: String, deadline: Duration = .seconds(30)) -> OutboxExecutor {
        var executor = OutboxExecutor(
            store: store,
            sinks: SinkSet(notices: nil, archive: nil, sender: "privacy@example.org", renderer: NoticeRenderer(templatesDirectory: nil)),
            clock: FixedClock(StoreConformance.at), log: { _, _, _ in },
            retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20), runDeadline: deadline),
            chunks: ExecutionChunks(recheck: 10, completion: 5, write: 10))
        executor.claimant = claimant
        executor.claimPoll = .milliseconds(20)
        return executor
    }

    static func runtime(_ writer: any RecordWriter) -> ConnectorRuntime {
        ConnectorRuntime(
            name: "c", policy: .krPIPA, safety: ConnectorRuntime.Safety(maxDeletesPerRun: 1_000, maxDeleteFraction: 1), source: InMemoryCRM(),
            writer: writer)
    }

    /// Two executors, each with its own store object, drain 60 operations (6 pages) at once.
    static func twoExecutorsShareTheOutbox(_ fixture: any StoreFixture) async throws {
        let other = try await fixture.reopen()
        let positions = try await StoreConformance.queueErasures(fixture.store, count: 60)
        let counter = ExecutionCounter()
        let (first, second) = (executor(fixture.store, claimant: "instance-a"), executor(other, claimant: "instance-b"))
        async let a: SyncSummary = {
            var summary = SyncSummary(connector: "c", dryRun: false, asOf: StoreConformance.at)
            try await first.drain(runtime(CountingWriter(name: "a", counter: counter)), summary: &summary)
            return summary
        }()
        async let b: SyncSummary = {
            var summary = SyncSummary(connector: "c", dryRun: false, asOf: StoreConformance.at)
            try await second.drain(runtime(CountingWriter(name: "b", counter: counter)), summary: &summary)
            return summary
        }()
        let summaries = try await [a, b]
        let executions = await counter.executions
        #expect(executions.count == positions.count, "every operation executed")
        #expect(executions.values.allSatisfy { $0 == 1 }, "none executed twice: \(executions.values.filter { $0 > 1 }.count) were")
        let byExecutor = await counter.byExecutor
        #expect((byExecutor["a"] ?? 0) > 0 && (byExecutor["b"] ?? 0) > 0, "both executors executed some: \(byExecutor)")
        #expect(summaries.map(\.fieldsErased).reduce(0, +) == positions.count)
        #expect(summaries.allSatisfy { $0.pending == 0 })
        #expect(try await fixture.store.operations(connector: "c", statuses: [.pending]).isEmpty)
        #expect(try await fixture.store.operations(connector: "c", statuses: [.done]).count == positions.count)
        #expect(try await fixture.texts("SELECT claimed_by FROM outbox_claims").isEmpty, "no claim is left behind")
        await release(other)
    }

    /// Operations another executor holds (a run that lost its lock while a page was in flight) are
    /// not executed while its claim lasts, and are taken over once it lapses.
    static func aHeldClaimIsLeftUntilItLapses(_ fixture: any StoreFixture) async throws {
        let positions = try await StoreConformance.queueErasures(fixture.store, count: 12)
        let held = Array(positions.prefix(5))
        let now = Date()
        #expect(try await fixture.store.claim(connector: "c", positions: held, by: "old-holder", until: now.addingTimeInterval(600), now: now).count == 5)
        let counter = ExecutionCounter()
        let executor = executor(fixture.store, claimant: "new-holder", deadline: .milliseconds(300))
        var summary = SyncSummary(connector: "c", dryRun: false, asOf: StoreConformance.at)
        try await executor.drain(runtime(CountingWriter(name: "new", counter: counter, rendezvous: false)), summary: &summary)
        let pending = try await fixture.store.operations(connector: "c", statuses: [.pending])
        #expect(Set(pending.map(\.position)) == Set(held), "the held operations are not executed")
        #expect(await counter.executions.count == 7)
        #expect(summary.pending == 5 && summary.failed == 0, "held elsewhere: pending, not failed")
        #expect(try await fixture.texts("SELECT claimed_by FROM outbox_claims") == Array(repeating: "old-holder", count: 5),
                "the other executor's claims are not released by this one")

        // The holder stopped: once its claims lapse, the next drain takes them over.
        let past = Date().addingTimeInterval(-1)
        #expect(try await fixture.store.claim(connector: "c", positions: held, by: "old-holder", until: past, now: past).count == 5)
        var again = SyncSummary(connector: "c", dryRun: false, asOf: StoreConformance.at)
        try await executor.drain(runtime(CountingWriter(name: "new", counter: counter, rendezvous: false)), summary: &again)
        #expect(try await fixture.store.operations(connector: "c", statuses: [.pending]).isEmpty)
        let executions = await counter.executions
        #expect(executions.count == 12 && executions.values.allSatisfy { $0 == 1 })
        #expect(again.fieldsErased == 5 && again.pending == 0)
    }

    /// The token of a process of this machine that ended, and of one that still runs.
    static func localTokens() throws -> (ended: String, running: String) {
        let space = try #require(OutboxClaims.processSpace, "this system tells its boot id and PID namespace")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return ("lethe-\(space)-\(process.processIdentifier)-1f", "lethe-\(space)-\(getppid())-2f")
    }

    /// Claims left by a process of this machine that ended (killed mid-page) are given up at once, so
    /// its operations go on without waiting for the claims to lapse; those of a process still running
    /// are left to it.
    static func claimsOfAnEndedProcessAreTakenOverAtOnce(_ fixture: any StoreFixture) async throws {
        let (ended, running) = try localTokens()
        #expect(OutboxClaims.endedHere(ended) && !OutboxClaims.endedHere(running) && !OutboxClaims.endedHere(OutboxClaims.processClaimant))
        #expect(!OutboxClaims.endedHere("lethe-000000000000-\(Int32.max)-1f") && !OutboxClaims.endedHere("old-holder"), "another machine's, or unreadable")
        let positions = try await StoreConformance.queueErasures(fixture.store, count: 9)
        let now = Date()
        #expect(try await fixture.store.claim(connector: "c", positions: Array(positions.prefix(4)), by: ended, until: now.addingTimeInterval(600), now: now).count == 4)
        #expect(try await fixture.store.claim(connector: "c", positions: Array(positions[4..<6]), by: running, until: now.addingTimeInterval(600), now: now).count == 2)
        #expect(try await fixture.store.claimants(connector: "c", now: now) == [ended, running])
        let counter = ExecutionCounter()
        let executor = executor(fixture.store, claimant: "new-holder", deadline: .milliseconds(300))
        var summary = SyncSummary(connector: "c", dryRun: false, asOf: StoreConformance.at)
        try await executor.drain(runtime(CountingWriter(name: "new", counter: counter, rendezvous: false)), summary: &summary)
        let pending = try await fixture.store.operations(connector: "c", statuses: [.pending])
        #expect(Set(pending.map(\.position)) == Set(positions[4..<6]), "only the running process's operations wait")
        #expect(await counter.executions.count == 7 && summary.pending == 2)
        #expect(try await fixture.store.claimants(connector: "c", now: Date()) == [running])
        #expect(try await fixture.store.claimants(connector: "c", now: now.addingTimeInterval(601)).isEmpty, "lapsed claims are not listed")
    }
}

@Suite struct SQLiteOutboxClaimTests {
    @Test func claimsOfAnEndedProcessAreTakenOverAtOnce() async throws {
        try await OutboxClaimChecks.withFixture(.sqlite, OutboxClaimChecks.claimsOfAnEndedProcessAreTakenOverAtOnce)
    }

    @Test func twoExecutorsOnOneFileExecuteEachOperationOnce() async throws {
        try await OutboxClaimChecks.withFixture(.sqlite, OutboxClaimChecks.twoExecutorsShareTheOutbox)
    }

    @Test func aHeldClaimIsLeftUntilItLapses() async throws {
        try await OutboxClaimChecks.withFixture(.sqlite, OutboxClaimChecks.aHeldClaimIsLeftUntilItLapses)
    }
}

@Suite(.enabled(if: PostgresFixture.serverURL != nil, PostgresFixture.skipReason))
struct PostgresOutboxClaimTests {
    @Test func claimsOfAnEndedProcessAreTakenOverAtOnce() async throws {
        try await OutboxClaimChecks.withFixture(.postgres, OutboxClaimChecks.claimsOfAnEndedProcessAreTakenOverAtOnce)
    }

    @Test func twoExecutorsOnOneDatabaseExecuteEachOperationOnce() async throws {
        try await OutboxClaimChecks.withFixture(.postgres, OutboxClaimChecks.twoExecutorsShareTheOutbox)
    }

    @Test func aHeldClaimIsLeftUntilItLapses() async throws {
        try await OutboxClaimChecks.withFixture(.postgres, OutboxClaimChecks.aHeldClaimIsLeftUntilItLapses)
    }
}
