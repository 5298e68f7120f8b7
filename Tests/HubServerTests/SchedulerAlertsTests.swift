import Foundation
import HubServer
import RetentionCore
import RetentionStore
import RetentionTesting
import Scheduling
import Testing

/// The daemon's scheduler runs the operator alerts' check after each scheduled run.
struct SchedulerAlertsTests {
    actor Counter {
        var value = 0
        func increment() { value += 1 }
    }

    @Test(.timeLimit(.minutes(2))) func theAlertsCheckRunsAfterEachScheduledRun() async throws {
        let harness = try HubHarness()
        let now = date("2026-11-29T09:00:00+09:00")
        // The 03:00 run of today was missed: it is due once.
        try await harness.store.setScheduleMark("crm/full", startedAt: now.addingTimeInterval(-86_400))
        let schedule = ConnectorSchedule(full: try CronExpression("0 3 * * *"), zone: TimeZone(identifier: "Asia/Seoul")!)
        let checks = Counter()
        let scheduler = SchedulerService(
            hub: harness.hub, planner: SchedulePlanner(schedules: ["crm": schedule]), now: { now }, longestSleep: .milliseconds(20),
            afterRun: { await checks.increment() })
        let task = Task { try await scheduler.run() }
        // However loaded the machine, the check comes (the time limit bounds the wait).
        while await checks.value == 0 { try await Task.sleep(for: .milliseconds(10)) }
        // Several more passes of the loop: nothing else is due, so no further check.
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        _ = try? await task.value
        #expect(await checks.value == 1)
        #expect(try await harness.store.scheduleMarks()["crm/full"] == now)
    }
}
