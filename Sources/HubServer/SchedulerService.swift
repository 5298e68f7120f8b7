public import Foundation
import RetentionCore
import RetentionStore
public import Scheduling
public import ServiceLifecycle

/// Runs each connector's full and incremental syncs on their cron schedules (`schedule:` in the
/// connector's config). What was missed while the daemon was down runs once on start (a schedule
/// seen for the first time waits for its first scheduled time: `lethe sync` does the first run); a connector
/// never runs twice at once (the hub's locks, shared with webhooks and the API). On graceful
/// shutdown no new run starts; a run in progress finishes its current step (every step is durable).
public struct SchedulerService: Service {
    let hub: Hub
    let planner: SchedulePlanner
    /// Real time for the scheduler even when the hub's clock is fixed (`--as-of` is for one-shot commands).
    let now: @Sendable () -> Date
    let longestSleep: Duration
    /// Runs after each scheduled run, whatever its outcome (the operator alerts' check).
    let afterRun: @Sendable () async -> Void

    public init(
        hub: Hub, planner: SchedulePlanner, now: @escaping @Sendable () -> Date = { Date() }, longestSleep: Duration = .seconds(60),
        afterRun: @escaping @Sendable () async -> Void = {}
    ) {
        self.afterRun = afterRun
        self.hub = hub
        self.planner = planner
        self.now = now
        self.longestSleep = longestSleep
    }

    public func run() async throws {
        guard !planner.schedules.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        try await seedNewSchedules()
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    try await runDue()
                    let started = now()
                    let marks = try await lastRuns()
                    let wake = planner.nextWake(after: started, lastRuns: marks, running: await hub.locks.running)
                    // At least a second: a run held back because its connector is busy is due again at once.
                    let seconds = wake.map { max(1, $0.timeIntervalSince(started)) } ?? Double(longestSleep.components.seconds)
                    try await Task.sleep(for: min(.milliseconds(Int64(seconds * 1000) + 10), longestSleep))
                }
            }
        } catch is CancellationError {
            // Graceful shutdown: no new run starts.
        }
    }

    /// Starts every due run, one after the other, and records when each started.
    func runDue() async throws {
        let started = now()
        let due = planner.due(now: started, lastRuns: try await lastRuns(), running: await hub.locks.running)
        for run in due {
            try Task.checkCancellation()
            do {
                let summary = try await hub.sync(run.connector, incremental: run.kind == .incremental)
                guard summary != nil else { continue }   // busy: due again when it is free
            } catch {
                let code = (error as? any LetheError)?.code ?? "\(type(of: error))"
                hub.log(.error, "scheduled sync failed", ["connector": run.connector, "kind": run.kind.rawValue, "code": code])
            }
            try await hub.store.setScheduleMark(run.key.description, startedAt: started)
            await afterRun()
        }
    }

    /// Schedules without a mark start counting from now.
    func seedNewSchedules() async throws {
        let marks = try await hub.store.scheduleMarks()
        let started = now()
        for (connector, schedule) in planner.schedules {
            for kind in RunKind.allCases where schedule.expression(for: kind) != nil {
                let key = RunKey(connector: connector, kind: kind).description
                if marks[key] == nil { try await hub.store.setScheduleMark(key, startedAt: started) }
            }
        }
    }

    func lastRuns() async throws -> [RunKey: Date] {
        var runs: [RunKey: Date] = [:]
        for (key, date) in try await hub.store.scheduleMarks() {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = RunKind(rawValue: parts[1]) else { continue }
            runs[RunKey(connector: parts[0], kind: kind)] = date
        }
        return runs
    }
}
