public import Foundation

/// Parses the date forms a retention policy accepts, and nothing else.
///
/// Accepted, with two-digit month and day:
/// - `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z` or an offset `±HH:MM` / `±HHMM`
///   (a `T` form without an offset is invalid: its zone would be a guess);
/// - `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DD`, `YYYY.MM.DD`, `YYYY/MM/DD`, read in the given zone
///   (a date without a time means 00:00 there).
///
/// Impossible dates (`2023-02-30`, `24:00`) are rejected: unlike Foundation's ISO-8601 parsers,
/// nothing is rolled forward.
public struct DateParser: Sendable {
    /// The zone of zone-less forms, with its offsets.
    public let offsets: ZoneOffsets
    public var zone: TimeZone { offsets.zone }

    public init(zone: TimeZone) {
        self.offsets = .direct(zone)
    }

    /// A parser reading the zone's offsets from a table (`ZoneOffsets.table(for:)`).
    public init(offsets: ZoneOffsets) {
        self.offsets = offsets
    }

    public func parse(_ text: String) -> Date? {
        var text = text
        // Nothing to trim (the common case): the bytes as they are, without a copy of the string.
        if let first = text.utf8.first, let last = text.utf8.last, Self.isVisibleASCII(first), Self.isVisibleASCII(last) {
            return text.withUTF8 { parse(bytes: $0) }
        }
        text = text.trimmingCharacters(in: .whitespaces)
        return text.withUTF8 { parse(bytes: $0) }
    }

    @inline(__always)
    static func isVisibleASCII(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    private func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var cursor = Cursor(bytes: bytes)
        guard let year = cursor.digits(4) else { return nil }
        guard let separator = cursor.next(), separator == UInt8(ascii: "-") || separator == UInt8(ascii: ".")
            || separator == UInt8(ascii: "/")
        else { return nil }
        guard let month = cursor.digits(2), cursor.expect(separator), let day = cursor.digits(2) else { return nil }
        guard (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day) else { return nil }
        if cursor.atEnd {
            return local(year, month, day, 0, 0, 0)
        }
        guard separator == UInt8(ascii: "-"), let timeSeparator = cursor.next() else { return nil }
        guard let hour = cursor.digits(2), cursor.expect(UInt8(ascii: ":")), let minute = cursor.digits(2),
            hour < 24, minute < 60
        else { return nil }
        var second = 0
        var fraction = 0.0
        if cursor.peek == UInt8(ascii: ":") {
            _ = cursor.next()
            guard let value = cursor.digits(2), value < 60 else { return nil }
            second = value
            if timeSeparator == UInt8(ascii: "T"), cursor.peek == UInt8(ascii: ".") {
                _ = cursor.next()
                var digits = 0
                var scale = 0.1
                while let byte = cursor.peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    fraction += Double(byte - UInt8(ascii: "0")) * scale
                    scale /= 10
                    digits += 1
                    _ = cursor.next()
                }
                guard (1...9).contains(digits) else { return nil }
            }
        }
        switch timeSeparator {
        case UInt8(ascii: " "):
            guard cursor.atEnd else { return nil }
            return local(year, month, day, hour, minute, second)
        case UInt8(ascii: "T"):
            guard let offset = cursor.offsetSeconds(), cursor.atEnd else { return nil }
            let days = Self.daysFromCivil(year: year, month: month, day: day)
            let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
            return Date(timeIntervalSince1970: seconds)
        default:
            return nil
        }
    }

    private func local(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int) -> Date? {
        let seconds = Self.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
        return Self.instant(localSeconds: seconds, offsets: offsets)
    }

    /// The instant whose wall-clock time in `zone` is `localSeconds` after 1970-01-01T00:00 (no
    /// Calendar: this runs for every date of every record).
    static func instant(localSeconds: Int, offsets: ZoneOffsets) -> Date {
        let first = localSeconds - offsets.secondsFromGMT(for: Date(timeIntervalSince1970: Double(localSeconds)))
        let second = localSeconds - offsets.secondsFromGMT(for: Date(timeIntervalSince1970: Double(first)))
        return Date(timeIntervalSince1970: Double(second))
    }

    /// (year, month, day) of a day count since 1970-01-01 (inverse of `daysFromCivil`).
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthIndex = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthIndex + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

private struct Cursor {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    var atEnd: Bool { index == bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func expect(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for offset in 0..<count {
            let byte = bytes[index + offset]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        index += count
        return value
    }

    /// `Z`, `±HH:MM` or `±HHMM` → seconds east of UTC.
    mutating func offsetSeconds() -> Int? {
        guard let sign = next() else { return nil }
        if sign == UInt8(ascii: "Z") { return 0 }
        guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
        guard let hours = digits(2) else { return nil }
        _ = expect(UInt8(ascii: ":"))
        guard let minutes = digits(2), hours < 24, minutes < 60 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign == UInt8(ascii: "-") ? -seconds : seconds
    }
}

/// Consent values: `Y`/`N`, `true`/`false`, `yes`/`no`, `1`/`0` (any case); empty means no.
public enum ConsentValue {
    /// `nil` when the text is none of the accepted forms.
    public static func parse(_ text: String?) -> Bool? {
        guard var value = text else { return false }
        // Every accepted form is short plain ASCII: anything longer is none of them, after trimming.
        if value.utf8.count > 5 || value.utf8.contains(where: { $0 >= 0x80 || $0 <= 0x20 }) {
            value = value.trimmingCharacters(in: .whitespaces)
        }
        guard value.utf8.count <= 5 else { return nil }
        value = value.lowercased()
        switch value {
        case "", "n", "no", "false", "0": return false
        case "y", "yes", "true", "1": return true
        default: return nil
        }
    }
}
