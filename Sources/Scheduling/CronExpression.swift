public import Foundation

/// A standard five-field cron expression: `minute hour day-of-month month day-of-week`.
///
/// Each field takes `*`, a value, a range `1-5`, a step `*/15`, `10-50/10` or `5/15` (from 5 to the
/// end of the field), and comma-separated lists of these. Months and weekdays also take English
/// three-letter names (`JAN`–`DEC`, `SUN`–`SAT`, any case); day-of-week 0 and 7 are both Sunday.
/// The macros `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`, `@yearly` and `@annually`
/// stand for their usual expressions; `@reboot` and the non-standard `L`, `W`, `#`, `?` are refused.
///
/// **Day-of-month and day-of-week** combine as in vixie cron: if either field begins with `*`
/// (including `*/2`), a day must match both; if both are restricted, a day matching either one is
/// enough (`0 0 13 * FRI` fires on every 13th and on every Friday).
///
/// **Time zones.** Fields are matched against the wall clock of the zone passed to `next` and
/// `previous`. A wall-clock time the clocks skip (the spring-forward gap) never fires; a wall-clock
/// time the clocks show twice (the fall-back hour) fires once, at its first occurrence — so
/// `*/15 * * * *` is silent during the repeated hour.
///
/// Searches jump field by field rather than minute by minute; `0 0 29 2 *` finds the next leap day
/// at once. An expression that can never fire (`0 0 30 2 *`) is refused when parsed.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The text it was parsed from, as written.
    public let text: String
    let minute: CronField
    let hour: CronField
    let dayOfMonth: CronField
    let month: CronField
    let dayOfWeek: CronField

    public var description: String { text }

    static let macros: [String: String] = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]

    public init(_ text: String) throws(CronError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var body = trimmed
        if trimmed.hasPrefix("@") {
            guard let expansion = Self.macros[trimmed.lowercased()] else {
                let known = Self.macros.keys.sorted().joined(separator: ", ")
                throw CronError(
                    code: "cron.syntax", field: "", problem: "unknown macro '\(trimmed.prefix(40))' (known: \(known))")
            }
            body = expansion
        }
        let fields = body.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError(
                code: "cron.syntax", field: "",
                problem: "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)"
                    + (fields.count == 6 ? " (seconds and years are not supported)" : "")
            )
        }
        self.text = trimmed
        minute = try CronField(parsing: fields[0], as: .minute)
        hour = try CronField(parsing: fields[1], as: .hour)
        dayOfMonth = try CronField(parsing: fields[2], as: .dayOfMonth)
        month = try CronField(parsing: fields[3], as: .month)
        dayOfWeek = try CronField(parsing: fields[4], as: .dayOfWeek)
        try checkCanFire()
    }

    /// The first scheduled instant strictly after `date`, or nil if there is none within the next
    /// 50 years. Scheduled instants are whole wall-clock minutes in `zone`.
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        let mapping = ZoneMapping(zone: zone)
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        // A wall-clock minute whose first instant is after `date` lies at or after `date` read with
        // the smallest offset in force around it (the clock may be in a repeated hour).
        var cursor = floorDiv(seconds + mapping.offsets(around: seconds).min, 60)
        let limit = cursor + Self.horizonMinutes
        while cursor <= limit, let local = nextMatch(atOrAfter: cursor) {
            if let instant = mapping.firstInstant(ofLocal: local), Double(instant) > date.timeIntervalSince1970 {
                return Date(timeIntervalSince1970: Double(instant))
            }
            cursor = local + 1
        }
        return nil
    }

    /// The latest scheduled instant at or before `date`, or nil if there is none within the past
    /// 50 years. This is the run a scheduler missed if it was down at that time.
    public func previous(atOrBefore date: Date, in zone: TimeZone) -> Date? {
        let mapping = ZoneMapping(zone: zone)
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        var cursor = floorDiv(seconds + mapping.offsets(around: seconds).max, 60)
        let limit = cursor - Self.horizonMinutes
        while cursor >= limit, let local = previousMatch(atOrBefore: cursor) {
            if let instant = mapping.firstInstant(ofLocal: local), Double(instant) <= date.timeIntervalSince1970 {
                return Date(timeIntervalSince1970: Double(instant))
            }
            cursor = local - 1
        }
        return nil
    }

    /// Whether `date` is a scheduled instant (to the second) in `zone`.
    public func matches(_ date: Date, in zone: TimeZone) -> Bool {
        previous(atOrBefore: date, in: zone) == date
    }

    static let horizonMinutes = 50 * 366 * 1440
}
