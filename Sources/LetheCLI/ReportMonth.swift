import ArgumentParser
import Foundation

/// A calendar month in the policy's time zone: `[start, end)` as instants.
struct ReportMonth: Sendable, Equatable {
    let year: Int
    let month: Int
    let zone: TimeZone
    let start: Date
    let end: Date

    /// Reads `YYYY-MM` (years 1900 to 9999); anything else is a usage error naming the expected form.
    init(parsing text: String, zone: TimeZone) throws {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let year = Int(parts[0]), let month = Int(parts[1]), (1900...9999).contains(year), (1...12).contains(month)
        else {
            throw ValidationError("--month: '\(text)' is not a month (use YYYY-MM, e.g. 2026-11)")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        guard let start = calendar.date(from: DateComponents(year: year, month: month, day: 1)),
              let end = calendar.date(byAdding: .month, value: 1, to: start)
        else {
            throw ValidationError("--month: '\(text)' cannot be placed in \(zone.identifier)")
        }
        self.year = year
        self.month = month
        self.zone = zone
        self.start = start
        self.end = end
    }

    var label: String { String(format: "%04d-%02d", year, month) }

    func contains(_ date: Date) -> Bool { date >= start && date < end }
}
