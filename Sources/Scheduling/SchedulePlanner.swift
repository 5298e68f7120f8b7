public import Foundation

/// Decides which scheduled runs are due and when to look again. Pure: it keeps no state and reads
/// no clock; the daemon passes the time and what it remembers.
///
/// The daemon's loop:
/// 1. `due(now:lastRuns:running:)`, start each returned run, mark its connector running;
/// 2. when a run ends (success or failure), record `lastRuns[run.key] = the now it was started
///    at`, unmark the connector, and go back to 1;
/// 3. otherwise sleep until `nextWake(after:lastRuns:running:)` and go back to 1.
///
/// **What `lastRuns` means.** For each (connector, kind), the instant its last run was *started*
/// (the `now` of the `due` call that returned it), recorded once that run has ended. A key that is
/// absent has never run. Recording the start rather than the end means a scheduled time that
/// passed while the run was still going is run once afterwards; recording failed runs too keeps a
/// failing connector from being retried in a tight loop (retries belong to the run itself).
///
/// **When a run is due.** A key is due when its latest scheduled time at or before `now` is later
/// than its last run, or when it has never run (nil): a new connector runs as soon as the daemon
/// starts. To wait for the first scheduled time instead, record the daemon's start time as the
/// key's last run. However many scheduled times were missed (during downtime or a long run), the
/// key is due once.
///
/// **A full run covers an incremental one.** An incremental key counts as having run at the later of
/// its own last run and the connector's last full run; and when both kinds of a connector are due at
/// once, only the full one is returned.
///
/// **One run per connector.** A connector in `running` gets no run, of either kind; whatever it
/// missed meanwhile is due when it is no longer running.
public struct SchedulePlanner: Sendable {
    /// Schedules by connector name.
    public var schedules: [String: ConnectorSchedule]

    public init(schedules: [String: ConnectorSchedule]) {
        self.schedules = schedules
    }

    /// The runs to start at `now`, at most one per connector, ordered by connector name.
    public func due(now: Date, lastRuns: [RunKey: Date], running: Set<String> = []) -> [DueRun] {
        schedules.keys.sorted().compactMap { connector in
            guard !running.contains(connector) else { return nil }
            return dueRun(connector: connector, now: now, lastRuns: lastRuns)
        }
    }

    /// When to call `due` again, if nothing else happens first: `now` itself if a run is due at
    /// `now` for a connector that is not running, otherwise the earliest scheduled time strictly
    /// after `now` of any schedule, nil if there is none. Runs held back by `running` become due
    /// when their run ends; the daemon calls `due` then, without waiting for this time.
    public func nextWake(after now: Date, lastRuns: [RunKey: Date], running: Set<String> = []) -> Date? {
        if !due(now: now, lastRuns: lastRuns, running: running).isEmpty { return now }
        return schedules.keys.compactMap { connector in
            RunKind.allCases.compactMap { nextRun(of: RunKey(connector: connector, kind: $0), after: now) }.min()
        }.min()
    }

    /// The next scheduled time of one key strictly after `date` (for status pages), nil if the
    /// connector or kind has no schedule.
    public func nextRun(of key: RunKey, after date: Date) -> Date? {
        guard let schedule = schedules[key.connector], let expression = schedule.expression(for: key.kind) else {
            return nil
        }
        return expression.next(after: date, in: schedule.zone)
    }

    /// The last run that counts for `key`: for an incremental key, a later full run counts too.
    public func effectiveLastRun(of key: RunKey, lastRuns: [RunKey: Date]) -> Date? {
        let own = lastRuns[key]
        guard key.kind == .incremental, let full = lastRuns[RunKey(connector: key.connector, kind: .full)] else {
            return own
        }
        return own.map { max($0, full) } ?? full
    }

    private func dueRun(connector: String, now: Date, lastRuns: [RunKey: Date]) -> DueRun? {
        guard let schedule = schedules[connector] else { return nil }
        for kind in [RunKind.full, .incremental] {
            guard let expression = schedule.expression(for: kind) else { continue }
            let key = RunKey(connector: connector, kind: kind)
            let latest = expression.previous(atOrBefore: now, in: schedule.zone)
            guard let last = effectiveLastRun(of: key, lastRuns: lastRuns) else {
                return DueRun(connector: connector, kind: kind, scheduledAt: latest ?? now, isCatchUp: true)
            }
            if let latest, latest > last {
                let late = now.timeIntervalSince(latest) >= 60
                return DueRun(connector: connector, kind: kind, scheduledAt: latest, isCatchUp: late)
            }
        }
        return nil
    }
}
