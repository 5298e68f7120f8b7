public import Foundation

/// A retention period written as `5y`, `36m`, `90d`, `2y6m` (years, months, days).
///
/// Years and months are calendar arithmetic in a zone, clamped to the end of the month
/// (Feb 29 + 1y = Feb 28); days are exact multiples of 24 hours.
public struct Period: Sendable, Hashable, Codable, CustomStringConvertible {
    public var years: Int
    public var months: Int
    public var days: Int

    public init(years: Int = 0, months: Int = 0, days: Int = 0) {
        self.years = years
        self.months = months
        self.days = days
    }

    /// The longest period Lethe accepts anywhere (policies, horizons): 1,000 years.
    public static let longest = Period(years: 1000)

    /// Parses `5y`, `36m`, `90d`, `1y6m`, `2w` (weeks). Returns nil on anything else, and on a period
    /// longer than `Period.longest` (1,000 years), so no later date arithmetic can overflow.
    public init?(parsing text: String) {
        var years = 0, months = 0, days = 0
        var number = ""
        var sawUnit = false
        for character in text.trimmingCharacters(in: .whitespaces).lowercased() {
            if character.isASCII, character.isNumber {
                guard number.count < 9 else { return nil }
                number.append(character)
                continue
            }
            guard let value = Int(number) else { return nil }
            switch character {
            case "y": years += value
            case "m": months += value
            case "w": days += value * 7
            case "d": days += value
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        self.init(years: years, months: months, days: days)
        guard isWithinLongest else { return nil }
    }

    /// At most `Period.longest` (1,000 Gregorian years of 365.2425 days) and not negative.
    public var isWithinLongest: Bool {
        guard years >= 0, months >= 0, days >= 0, years <= 1000, months <= 12_000, days <= 365_243 else { return false }
        return Double(years) * 365.2425 + Double(months) * 30.436875 + Double(days) <= 365_242.5
    }

    public var description: String {
        var text = ""
        if years != 0 { text += "\(years)y" }
        if months != 0 { text += "\(months)m" }
        if days != 0 || text.isEmpty { text += "\(days)d" }
        return text
    }

    /// `date` + this period, with years and months counted on the calendar of `zone` and the day
    /// clamped to the end of the month (Feb 29 + 1y = Feb 28). Pure arithmetic, no Calendar.
    public func added(to date: Date, in zone: TimeZone) -> Date {
        added(to: date, offsets: .direct(zone))
    }

    /// `added(to:in:)` with the zone's offsets (a table read once: `ZoneOffsets.table(for:)`).
    public func added(to date: Date, offsets: ZoneOffsets) -> Date {
        // Periods are bounded when parsed; a larger one built in code saturates instead of trapping.
        guard abs(years) <= 100_000, abs(months) <= 1_200_000, abs(days) <= 36_600_000, date.timeIntervalSince1970.magnitude < 1e13 else {
            let forward = Double(years) * 365.2425 + Double(months) * 30.436875 + Double(days) >= 0
            return forward ? .distantFuture : .distantPast
        }
        var result = date
        if years != 0 || months != 0 {
            let whole = date.timeIntervalSince1970.rounded(.down)
            let fraction = date.timeIntervalSince1970 - whole
            let local = Int(whole) + offsets.secondsFromGMT(for: date)
            let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
            let timeOfDay = local - days * 86_400
            let civil = DateParser.civilFromDays(days)
            let totalMonths = civil.year * 12 + (civil.month - 1) + years * 12 + months
            let year = totalMonths >= 0 ? totalMonths / 12 : (totalMonths - 11) / 12
            let month = totalMonths - year * 12 + 1
            let day = min(civil.day, DateParser.daysIn(month: month, year: year))
            let seconds = DateParser.daysFromCivil(year: year, month: month, day: day) * 86_400 + timeOfDay
            result = DateParser.instant(localSeconds: seconds, offsets: offsets).addingTimeInterval(fraction)
        }
        return result.addingTimeInterval(Double(days) * 86_400)
    }

    /// `date` − this period (for computing how far back something reaches).
    public func subtracted(from date: Date, in zone: TimeZone) -> Date {
        Period(years: -years, months: -months, days: -days).added(to: date, in: zone)
    }
}
