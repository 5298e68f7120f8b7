import Foundation
import Scheduling
import Testing

/// Drives the planner the way the daemon will: start what is due, record each run's start time when
/// it ends, sleep until the next wake-up or the next run's end; with an optional outage.
@Suite("SchedulePlanner driven like the daemon")
struct PlannerSimulationTests {
    struct Started: Equatable {
        var key: RunKey
        var at: Date
    }

    /// Every run started between `start` and `end`; runs of `kind` take `durations[kind]`.
    func simulate(
        _ planner: SchedulePlanner, from start: Date, to end: Date, durations: [RunKind: TimeInterval],
        down: Range<Date>? = nil
    ) -> [Started] {
        var lastRuns: [RunKey: Date] = [:]
        for (connector, _) in planner.schedules {
            for kind in RunKind.allCases { lastRuns[RunKey(connector: connector, kind: kind)] = start }
        }
        var inFlight: [(run: DueRun, started: Date, ends: Date)] = []
        var started: [Started] = []
        var now = start
        var steps = 0
        while now < end, steps < 10_000 {
            steps += 1
            if let down, down.contains(now) {
                #expect(inFlight.isEmpty, "the scenario stops the daemon only while idle")
                now = down.upperBound
                continue
            }
            for run in inFlight where run.ends <= now { lastRuns[run.run.key] = run.started }
            inFlight.removeAll { $0.ends <= now }
            let running = Set(inFlight.map(\.run.connector))
            for run in planner.due(now: now, lastRuns: lastRuns, running: running) {
                #expect(!running.contains(run.connector), "a connector never runs twice at once")
                started.append(Started(key: run.key, at: now))
                inFlight.append((run, now, now.addingTimeInterval(durations[run.kind] ?? 60)))
            }
            let wake = planner.nextWake(after: now, lastRuns: lastRuns, running: Set(inFlight.map(\.run.connector)))
            let candidates = [wake, inFlight.map(\.ends).min()].compactMap { $0 }.filter { $0 > now }
            guard let next = candidates.min() else { break }
            now = next
        }
        return started
    }

    let planner = SchedulePlanner(schedules: [
        "hubspot": ConnectorSchedule(
            full: try! CronExpression("0 3 * * *"), incremental: try! CronExpression("*/15 * * * *"), zone: Zones.seoul)
    ])
    let start = at("2025-01-08T00:00:00+09:00")
    let end = at("2025-01-08T06:00:00+09:00")

    func times(_ runs: [Started], _ kind: RunKind) -> [String] {
        runs.filter { $0.key.kind == kind }.map { String(wall($0.at, Zones.seoul).dropFirst(11).prefix(5)) }
    }

    @Test("while up, every scheduled time runs once, and the 03:00 sweep replaces that pull")
    func steady() {
        let runs = simulate(planner, from: start, to: end, durations: [.full: 60, .incremental: 60])
        #expect(times(runs, .full) == ["03:00"])
        let pulls = times(runs, .incremental)
        #expect(pulls.count == 22)
        #expect(!pulls.contains("03:00"))
        #expect(pulls.first == "00:15" && pulls.last == "05:45")
    }

    @Test("after an outage the missed sweep runs once at start, and the pulls it covered do not")
    func outage() {
        let down = at("2025-01-08T01:07:00+09:00")..<at("2025-01-08T04:52:00+09:00")
        let runs = simulate(planner, from: start, to: end, durations: [.full: 60, .incremental: 60], down: down)
        #expect(times(runs, .full) == ["04:52"])
        #expect(times(runs, .incremental) == ["00:15", "00:30", "00:45", "01:00", "05:00", "05:15", "05:30", "05:45"])
    }

    @Test("pulls scheduled during a long sweep collapse into one when it ends")
    func longSweep() {
        let runs = simulate(planner, from: start, to: end, durations: [.full: 40 * 60, .incremental: 60])
        #expect(times(runs, .full) == ["03:00"])
        let pulls = times(runs, .incremental)
        #expect(pulls.contains("03:40"))
        #expect(!pulls.contains("03:15") && !pulls.contains("03:30"))
        #expect(pulls.filter { $0.hasPrefix("03:") } == ["03:40", "03:45"])
    }
}
