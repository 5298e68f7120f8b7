import Foundation
import RetentionCore

/// A wall-clock minute with no zone: minutes since 1970-01-01T00:00 local time, and its civil
/// fields. Cron matching happens on these; `ZoneMapping` turns them into instants.
struct LocalMinute: Sendable, Hashable, Comparable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
    }

    /// The civil fields of a minute count.
    init(minutes: Int) {
        let days = minutes >= 0 ? minutes / 1440 : (minutes - 1439) / 1440
        let inDay = minutes - days * 1440
        let civil = Self.civil(fromDays: days)
        self.init(year: civil.year, month: civil.month, day: civil.day, hour: inDay / 60, minute: inDay % 60)
    }

    var minutes: Int { Self.days(year: year, month: month, day: day) * 1440 + hour * 60 + minute }

    /// 0 = Sunday … 6 = Saturday. 1970-01-01 was a Thursday.
    var weekday: Int {
        let days = Self.days(year: year, month: month, day: day)
        return ((days % 7) + 7 + 4) % 7
    }

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.minutes < rhs.minutes }

    // The civil-date arithmetic is RetentionCore's (`DateParser`), shared with date parsing and periods.
    static func daysIn(month: Int, year: Int) -> Int { DateParser.daysIn(month: month, year: year) }
    static func days(year: Int, month: Int, day: Int) -> Int { DateParser.daysFromCivil(year: year, month: month, day: day) }
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) { DateParser.civilFromDays(days) }
}

/// Wall-clock minutes of a zone and the instants they denote.
///
/// Assumes a zone changes its offset at most once within any 28 hours (true of every IANA zone).
struct ZoneMapping {
    var zone: TimeZone

    func offset(at seconds: Int) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
    }

    /// The wall-clock minute containing `date`.
    func localMinutes(of date: Date) -> Int {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        return floorDiv(seconds + offset(at: seconds), 60)
    }

    /// The first instant (seconds since 1970) at which the wall clock shows `minutes`: nil inside a
    /// gap (the clocks jumped over it), the earlier of two in an overlap (the repeated hour).
    func firstInstant(ofLocal minutes: Int) -> Int? {
        let local = minutes * 60
        let candidates = Set([offset(at: local - 50_400), offset(at: local + 50_400)])
        return candidates.map { local - $0 }.filter { offset(at: $0) == local - $0 }.min()
    }

    /// The smallest and largest offset around an instant (over the following or preceding day).
    func offsets(around seconds: Int) -> (min: Int, max: Int) {
        let values = [offset(at: seconds - 86_400), offset(at: seconds), offset(at: seconds + 86_400)]
        return (values.min()!, values.max()!)
    }
}

func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
