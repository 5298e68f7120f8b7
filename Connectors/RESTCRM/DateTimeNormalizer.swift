import Foundation
import RetentionCore

/// Rewrites a provider's date-time text as ISO-8601 in UTC (`2021-03-04T09:15:00Z`, with
/// milliseconds when the input had a non-zero fraction), so that the policy reads the instant the
/// provider meant whatever zone it later assumes for zone-less text.
///
/// Accepted: everything `DateParser` accepts (offset forms such as Salesforce's
/// `2021-03-04T09:15:00.000+0000`, and zone-less forms read in `zone`), and epoch milliseconds
/// (12 or 13 digits, as HubSpot sometimes sends). Anything else, including impossible dates, is
/// returned unchanged so the policy quarantines it: nothing is guessed. Without a `zone`, zone-less
/// text is also returned unchanged (the policy then reads it in its own zone).
struct DateTimeNormalizer: Sendable, Equatable {
    var zone: TimeZone?

    func normalize(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if (12...13).contains(trimmed.count), trimmed.allSatisfy({ $0.isASCII && $0.isNumber }),
            let milliseconds = Int64(trimmed)
        {
            return Self.format(milliseconds: milliseconds)
        }
        if let zone {
            guard let date = DateParser(zone: zone).parse(trimmed) else { return text }
            return Self.format(date)
        }
        // No zone configured: accept only text whose instant does not depend on a zone.
        let utc = DateParser(zone: TimeZone(secondsFromGMT: 0)!).parse(trimmed)
        let shifted = DateParser(zone: TimeZone(secondsFromGMT: 5 * 3600)!).parse(trimmed)
        guard let utc, utc == shifted else { return text }
        return Self.format(utc)
    }

    static func format(_ date: Date) -> String {
        format(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` for milliseconds since 1970 (floor arithmetic, so instants
    /// before 1970 format correctly too).
    static func format(milliseconds: Int64) -> String {
        let (seconds, millis) = floorDivide(milliseconds, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = DateParser.civilFromDays(Int(days))
        let hour = secondOfDay / 3600
        let minute = secondOfDay % 3600 / 60
        let second = secondOfDay % 60
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if millis != 0 { text += ".\(pad(millis, 3))" }
        return text + "Z"
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = ((value % divisor) + divisor) % divisor
        return ((value - remainder) / divisor, remainder)
    }

    private static func pad(_ value: some BinaryInteger, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
