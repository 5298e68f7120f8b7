extension CronExpression {
    /// Whether a day fires, by vixie cron's rule for combining day-of-month and day-of-week.
    func dayMatches(_ local: LocalMinute) -> Bool {
        let byMonth = dayOfMonth.contains(local.day)
        let byWeek = dayOfWeek.contains(local.weekday)
        return dayOfMonth.isStar || dayOfWeek.isStar ? byMonth && byWeek : byMonth || byWeek
    }

    /// The first matching wall-clock minute ≥ `start` (minutes since 1970, local), jumping over
    /// months, days and hours that cannot match.
    func nextMatch(atOrAfter start: Int) -> Int? {
        var t = LocalMinute(minutes: start)
        let lastYear = t.year + 51
        while t.year <= lastYear {
            guard let month = month.next(from: t.month) else {
                t = LocalMinute(year: t.year + 1, month: 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if month != t.month { t = LocalMinute(year: t.year, month: month, day: 1, hour: 0, minute: 0) }
            if t.day > LocalMinute.daysIn(month: t.month, year: t.year) || !dayMatches(t) {
                t = LocalMinute(minutes: LocalMinute.days(year: t.year, month: t.month, day: t.day + 1) * 1440)
                continue
            }
            guard let hour = hour.next(from: t.hour) else {
                t = LocalMinute(minutes: LocalMinute.days(year: t.year, month: t.month, day: t.day + 1) * 1440)
                continue
            }
            if hour != t.hour { (t.hour, t.minute) = (hour, 0) }
            guard let minute = minute.next(from: t.minute) else {
                t = LocalMinute(minutes: t.minutes - t.minute + 60)
                continue
            }
            t.minute = minute
            return t.minutes
        }
        return nil
    }

    /// The last matching wall-clock minute ≤ `start` (minutes since 1970, local).
    func previousMatch(atOrBefore start: Int) -> Int? {
        var t = LocalMinute(minutes: start)
        let firstYear = t.year - 51
        while t.year >= firstYear {
            guard let month = month.previous(from: t.month) else {
                t = LocalMinute(year: t.year - 1, month: 12, day: 31, hour: 23, minute: 59)
                continue
            }
            if month != t.month {
                let last = LocalMinute.daysIn(month: month, year: t.year)
                t = LocalMinute(year: t.year, month: month, day: last, hour: 23, minute: 59)
            }
            if !dayMatches(t) {
                t = LocalMinute(minutes: LocalMinute.days(year: t.year, month: t.month, day: t.day) * 1440 - 1)
                continue
            }
            guard let hour = hour.previous(from: t.hour) else {
                t = LocalMinute(minutes: LocalMinute.days(year: t.year, month: t.month, day: t.day) * 1440 - 1)
                continue
            }
            if hour != t.hour { (t.hour, t.minute) = (hour, 59) }
            guard let minute = minute.previous(from: t.minute) else {
                t = LocalMinute(minutes: t.minutes - t.minute - 1)
                continue
            }
            t.minute = minute
            return t.minutes
        }
        return nil
    }

    /// Refuses expressions whose day fields can never meet their months (`0 0 30 2 *`, `0 0 31 4,6 *`).
    /// Only day-of-month alone can do this: a restricted day-of-week matches some day of every month.
    func checkCanFire() throws(CronError) {
        guard dayOfWeek.isStar, !dayOfMonth.isStar, let firstDay = dayOfMonth.first else { return }
        let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        if (1...12).contains(where: { month.contains($0) && firstDay <= longest[$0 - 1] }) { return }
        throw CronError(
            code: "cron.never", field: "day-of-month",
            problem: "day \(firstDay) never occurs in the months of '\(text.prefix(40))', so it would never run"
        )
    }
}
