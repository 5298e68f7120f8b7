public import Foundation
import RetentionCore

/// ISO-8601 text of an instant in UTC, exactly as `date.formatted(.iso8601)` writes it
/// (`2026-11-29T00:00:00Z`), for audit details. Whole seconds in years 1900–9999, the usual case, are
/// written by hand: Foundation's formatter is slow on Linux and runs for every queued operation.
public enum AuditTimestamp {
    public static func iso8601(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        // 1900-01-01T00:00:00Z ..< 10000-01-01T00:00:00Z: four-digit years, far from the Julian switch.
        guard seconds.rounded(.towardZero) == seconds, seconds >= -2_208_988_800, seconds < 253_402_300_800 else {
            return date.formatted(.iso8601)
        }
        let total = Int(seconds)
        let days = total >= 0 ? total / 86_400 : (total - 86_399) / 86_400
        let timeOfDay = total - days * 86_400
        let (year, month, day) = DateParser.civilFromDays(days)
        var text: [UInt8] = []
        text.reserveCapacity(20)
        append(year, width: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        append(month, width: 2, to: &text)
        text.append(UInt8(ascii: "-"))
        append(day, width: 2, to: &text)
        text.append(UInt8(ascii: "T"))
        append(timeOfDay / 3600, width: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        append(timeOfDay / 60 % 60, width: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        append(timeOfDay % 60, width: 2, to: &text)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    private static func append(_ value: Int, width: Int, to text: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
