import Foundation
import RetentionCore
import RetentionTesting
import Testing

@Suite("Period")
struct PeriodTests {
    let seoul = TimeZone(identifier: "Asia/Seoul")!

    @Test(
        "parses and prints",
        arguments: [
            ("5y", Period(years: 5), "5y"),
            ("36m", Period(months: 36), "36m"),
            ("90d", Period(days: 90), "90d"),
            ("2y6m", Period(years: 2, months: 6), "2y6m"),
            ("1y6m15d", Period(years: 1, months: 6, days: 15), "1y6m15d"),
            ("2w", Period(days: 14), "14d"),
            (" 3Y ", Period(years: 3), "3y"),
            ("0d", Period(), "0d"),
        ]
    )
    func parseAndPrint(text: String, period: Period, printed: String) throws {
        let parsed = try #require(Period(parsing: text))
        #expect(parsed == period)
        #expect(parsed.description == printed)
        #expect(Period(parsing: parsed.description) == parsed)
    }

    @Test("rejects malformed periods", arguments: ["", "y", "5", "5x", "-5y", "5 y", "1.5y", "y5", "5yy1"])
    func rejects(_ text: String) {
        #expect(Period(parsing: text) == nil)
    }

    @Test("Feb 29 + 1y = Feb 28 in Asia/Seoul, time of day kept")
    func leapDayClamps() {
        let start = date("2024-02-29 10:30")
        #expect(Period(years: 1).added(to: start, in: seoul) == date("2025-02-28 10:30"))
        #expect(Period(years: 4).added(to: start, in: seoul) == date("2028-02-29 10:30"))
        #expect(Period(months: 12).added(to: start, in: seoul) == date("2025-02-28 10:30"))
    }

    @Test("Seoul midnight of Feb 29 is still Feb 29 in Seoul (not Feb 28 UTC)")
    func leapDayUsesPolicyZone() {
        let start = date("2024-02-29")
        #expect(Period(years: 5).added(to: start, in: seoul) == date("2029-02-28"))
        let utc = TimeZone(identifier: "UTC")!
        // In UTC this instant is Feb 28 15:00, so a year later is Feb 28 15:00 UTC = Mar 1 00:00 Seoul.
        #expect(Period(years: 1).added(to: start, in: utc) == date("2025-03-01"))
    }

    @Test("36m equals 3y; month ends clamp")
    func months() {
        let start = date("2023-01-31 09:00")
        #expect(Period(months: 36).added(to: start, in: seoul) == Period(years: 3).added(to: start, in: seoul))
        #expect(Period(months: 1).added(to: start, in: seoul) == date("2023-02-28 09:00"))
    }

    @Test("days are exact multiples of 24 hours")
    func exactDays() {
        let start = date("2023-03-04T18:15:30+09:00")
        #expect(Period(days: 90).added(to: start, in: seoul).timeIntervalSince(start) == 90 * 86_400)
        #expect(Period(days: 30).approximateSeconds == 30 * 86_400)
    }

    @Test("subtracting undoes adding a day period")
    func subtract() {
        let start = date("2026-11-29T09:00:00+09:00")
        #expect(Period(days: 30).subtracted(from: start, in: seoul) == date("2026-10-30T09:00:00+09:00"))
        #expect(Period(years: 2).subtracted(from: start, in: seoul) == date("2024-11-29T09:00:00+09:00"))
    }

    @Test("periods are bounded at 1,000 years when parsed; larger or absurd ones are not periods",
          arguments: ["1000000000000y", "9223372036854775807d", "1001y", "12001m", "365244d", "999y12m1d", "99999999999w"])
    func tooLong(text: String) {
        #expect(Period(parsing: text) == nil)
    }

    @Test("the longest accepted period still adds without trapping")
    func longestAdds() throws {
        let period = try #require(Period(parsing: "1000y"))
        let start = date("2026-11-29T09:00:00+09:00")
        #expect(period.added(to: start, in: seoul) > start)
        #expect(Period(parsing: "365000d") != nil)
        // Built in code beyond the bound, it saturates instead of trapping.
        #expect(Period(years: Int.max / 2).added(to: start, in: seoul) == .distantFuture)
    }
}
