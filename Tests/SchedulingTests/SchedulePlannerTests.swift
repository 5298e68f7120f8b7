import Foundation
import Scheduling
import Testing

@Suite("SchedulePlanner")
struct SchedulePlannerTests {
    static let hubspotFull = RunKey(connector: "hubspot", kind: .full)
    static let hubspotIncremental = RunKey(connector: "hubspot", kind: .incremental)
    static let csvFull = RunKey(connector: "csv", kind: .full)

    /// hubspot: full sweep at 03:00 and incremental every 15 minutes, Seoul time; csv: daily full at
    /// midnight UTC.
    let planner = SchedulePlanner(schedules: [
        "hubspot": ConnectorSchedule(
            full: try! CronExpression("0 3 * * *"), incremental: try! CronExpression("*/15 * * * *"),
            zone: Zones.seoul
        ),
        "csv": ConnectorSchedule(full: try! CronExpression("@daily"), zone: Zones.utc),
    ])

    /// Everything ran at its last slot before 2025-01-08 10:05 Seoul.
    let upToDate: [RunKey: Date] = [
        hubspotFull: at("2025-01-08T03:00:00+09:00"),
        hubspotIncremental: at("2025-01-08T10:00:00+09:00"),
        csvFull: at("2025-01-08T00:00:00Z"),
    ]

    @Test("nothing is due between scheduled times, and the wake-up is the next one")
    func idle() {
        let now = at("2025-01-08T10:05:00+09:00")
        #expect(planner.due(now: now, lastRuns: upToDate).isEmpty)
        #expect(planner.nextWake(after: now, lastRuns: upToDate) == at("2025-01-08T10:15:00+09:00"))
    }

    @Test("a scheduled time reached on time gives one run that is not a catch-up")
    func onTime() {
        let now = at("2025-01-08T10:15:00+09:00").addingTimeInterval(0.3)
        let due = planner.due(now: now, lastRuns: upToDate)
        #expect(
            due == [
                DueRun(
                    connector: "hubspot", kind: .incremental, scheduledAt: at("2025-01-08T10:15:00+09:00"),
                    isCatchUp: false)
            ])
    }

    @Test("after downtime, many missed times collapse into one catch-up run per key")
    func catchUp() {
        // Down from Monday night to Wednesday morning: two 03:00 sweeps and ~130 pulls were missed.
        let lastRuns = [
            Self.hubspotFull: at("2025-01-06T03:00:00+09:00"),
            Self.hubspotIncremental: at("2025-01-06T21:45:00+09:00"),
            Self.csvFull: at("2025-01-06T00:00:00Z"),
        ]
        let now = at("2025-01-08T09:07:00+09:00")
        let due = planner.due(now: now, lastRuns: lastRuns)
        #expect(
            due == [
                DueRun(connector: "csv", kind: .full, scheduledAt: at("2025-01-08T00:00:00Z"), isCatchUp: true),
                DueRun(
                    connector: "hubspot", kind: .full, scheduledAt: at("2025-01-08T03:00:00+09:00"), isCatchUp: true),
            ])
    }

    @Test("a full run covers the incremental runs scheduled before it started")
    func fullCoversIncremental() {
        var lastRuns = [
            Self.hubspotFull: at("2025-01-07T03:00:00+09:00"),
            Self.hubspotIncremental: at("2025-01-07T21:45:00+09:00"),
        ]
        // The sweep was started at 09:07 and has finished.
        lastRuns[Self.hubspotFull] = at("2025-01-08T09:07:00+09:00")
        let onlyHubspot = SchedulePlanner(schedules: ["hubspot": planner.schedules["hubspot"]!])
        #expect(onlyHubspot.due(now: at("2025-01-08T09:14:00+09:00"), lastRuns: lastRuns).isEmpty)
        #expect(
            onlyHubspot.effectiveLastRun(of: Self.hubspotIncremental, lastRuns: lastRuns)
                == at("2025-01-08T09:07:00+09:00"))
        // A pull scheduled while the sweep ran is due once it has finished.
        #expect(
            onlyHubspot.due(now: at("2025-01-08T09:20:00+09:00"), lastRuns: lastRuns) == [
                DueRun(
                    connector: "hubspot", kind: .incremental, scheduledAt: at("2025-01-08T09:15:00+09:00"),
                    isCatchUp: true)
            ])
    }

    @Test("when both kinds are due at once, only the full one runs")
    func bothDue() {
        var lastRuns = upToDate
        lastRuns[Self.hubspotFull] = at("2025-01-08T03:00:00+09:00")
        lastRuns[Self.hubspotIncremental] = at("2025-01-09T02:45:00+09:00")
        let due = planner.due(now: at("2025-01-09T03:00:00+09:00"), lastRuns: lastRuns)
        #expect(
            due.filter { $0.connector == "hubspot" } == [
                DueRun(
                    connector: "hubspot", kind: .full, scheduledAt: at("2025-01-09T03:00:00+09:00"), isCatchUp: false)
            ])
    }

    @Test("a connector that is running gets no run of either kind")
    func runningSkipped() {
        let lastRuns = [
            Self.hubspotFull: at("2025-01-06T03:00:00+09:00"),
            Self.hubspotIncremental: at("2025-01-06T21:45:00+09:00"),
            Self.csvFull: at("2025-01-06T00:00:00Z"),
        ]
        let now = at("2025-01-08T09:07:00+09:00")
        let due = planner.due(now: now, lastRuns: lastRuns, running: ["hubspot"])
        #expect(due.map(\.key) == [Self.csvFull])
        #expect(planner.due(now: now, lastRuns: lastRuns, running: ["hubspot", "csv"]).isEmpty)
        // Held back by a run in progress, hubspot does not make the daemon spin: it wakes at the next
        // scheduled time (or when the run ends).
        #expect(
            planner.nextWake(after: now, lastRuns: lastRuns, running: ["hubspot", "csv"])
                == at("2025-01-08T09:15:00+09:00"))
    }

    @Test("a key that never ran is due at once; seeding it with the start time waits for its schedule")
    func neverRan() {
        let now = at("2025-01-08T10:05:00+09:00")
        let due = planner.due(now: now, lastRuns: [:])
        #expect(
            due == [
                DueRun(connector: "csv", kind: .full, scheduledAt: at("2025-01-08T00:00:00Z"), isCatchUp: true),
                DueRun(
                    connector: "hubspot", kind: .full, scheduledAt: at("2025-01-08T03:00:00+09:00"), isCatchUp: true),
            ])
        let onlyIncremental = SchedulePlanner(schedules: [
            "pipedrive": ConnectorSchedule(incremental: try! CronExpression("*/15 * * * *"), zone: Zones.utc)
        ])
        #expect(onlyIncremental.due(now: now, lastRuns: [:]).map(\.kind) == [.incremental])
        let seeded = [RunKey(connector: "pipedrive", kind: .incremental): now]
        #expect(onlyIncremental.due(now: now, lastRuns: seeded).isEmpty)
        #expect(onlyIncremental.nextWake(after: now, lastRuns: seeded) == at("2025-01-08T10:15:00+09:00"))
    }

    @Test("next wake is now while something is due, the earliest time across zones otherwise")
    func nextWake() {
        #expect(
            planner.nextWake(after: at("2025-01-08T10:05:00+09:00"), lastRuns: [:]) == at("2025-01-08T10:05:00+09:00"))
        // csv's midnight UTC (09:00 Seoul) comes before hubspot's 09:15 Seoul pull.
        var lastRuns = upToDate
        lastRuns[Self.hubspotFull] = at("2025-01-09T03:00:00+09:00")
        lastRuns[Self.hubspotIncremental] = at("2025-01-09T08:45:00+09:00")
        #expect(planner.due(now: at("2025-01-09T08:50:00+09:00"), lastRuns: lastRuns).isEmpty)
        #expect(
            planner.nextWake(after: at("2025-01-09T08:50:00+09:00"), lastRuns: lastRuns) == at("2025-01-09T00:00:00Z"))
        #expect(SchedulePlanner(schedules: [:]).nextWake(after: .now, lastRuns: [:]) == nil)
        #expect(SchedulePlanner(schedules: [:]).due(now: .now, lastRuns: [:]).isEmpty)
    }

    @Test("next run of one key, for status pages")
    func nextRun() {
        let now = at("2025-01-08T10:05:00+09:00")
        #expect(planner.nextRun(of: Self.hubspotFull, after: now) == at("2025-01-09T03:00:00+09:00"))
        #expect(planner.nextRun(of: RunKey(connector: "csv", kind: .incremental), after: now) == nil)
        #expect(planner.nextRun(of: RunKey(connector: "nope", kind: .full), after: now) == nil)
    }

    @Test("a last run in the future (the clock went back) does not make a run due")
    func clockWentBack() {
        var lastRuns = upToDate
        lastRuns[Self.hubspotIncremental] = at("2025-01-08T11:00:00+09:00")
        #expect(planner.due(now: at("2025-01-08T10:30:00+09:00"), lastRuns: lastRuns).isEmpty)
    }

    @Test("a time skipped by a DST change is not missed, and a repeated one does not run twice")
    func daylightSaving() {
        let newYork = SchedulePlanner(schedules: [
            "crm": ConnectorSchedule(full: try! CronExpression("30 1,2 * * *"), zone: Zones.newYork)
        ])
        let key = RunKey(connector: "crm", kind: .full)
        // Spring forward: 02:30 on 2025-03-09 does not exist; after 01:30 the next run is 01:30 next day.
        let spring = [key: at("2025-03-09T01:30:00-05:00")]
        #expect(newYork.due(now: at("2025-03-09T12:00:00-04:00"), lastRuns: spring).isEmpty)
        #expect(
            newYork.nextWake(after: at("2025-03-09T12:00:00-04:00"), lastRuns: spring)
                == at("2025-03-10T01:30:00-04:00"))
        // Fall back: 01:30 happens twice on 2025-11-02; only the first one runs.
        let fall = [key: at("2025-11-02T01:30:00-04:00")]
        #expect(newYork.due(now: at("2025-11-02T01:45:00-05:00"), lastRuns: fall).isEmpty)
        #expect(
            newYork.nextWake(after: at("2025-11-02T01:30:00-05:00"), lastRuns: fall) == at("2025-11-02T02:30:00-05:00"))
    }
}
