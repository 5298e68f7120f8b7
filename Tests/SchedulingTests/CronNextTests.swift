import Foundation
import Scheduling
import Testing

@Suite("CronExpression.next and previous")
struct CronNextTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var expression: String
        var after: String
        /// The following run times, as `wall(_:_:)` prints them in the case's zone.
        var expected: [String]
        var zone: TimeZone = Zones.utc
        var testDescription: String { "\(expression) after \(after)" }
    }

    static let utcCases: [Case] = [
        .init(expression: "* * * * *", after: "2025-01-01T00:00:00Z", expected: ["2025-01-01 00:01 +00:00"]),
        .init(expression: "* * * * *", after: "2025-01-01T00:00:30Z", expected: ["2025-01-01 00:01 +00:00"]),
        .init(
            expression: "*/15 * * * *", after: "2025-01-01T00:37:00Z",
            expected: ["2025-01-01 00:45 +00:00", "2025-01-01 01:00 +00:00", "2025-01-01 01:15 +00:00"]
        ),
        .init(
            expression: "10-50/10 * * * *", after: "2025-01-01T00:45:00Z",
            expected: ["2025-01-01 00:50 +00:00", "2025-01-01 01:10 +00:00"]
        ),
        .init(
            expression: "5/20 * * * *", after: "2025-01-01T00:45:00Z",
            expected: ["2025-01-01 01:05 +00:00", "2025-01-01 01:25 +00:00"]
        ),
        .init(
            expression: "0 3 * * *", after: "2025-01-01T03:00:00Z",
            expected: ["2025-01-02 03:00 +00:00", "2025-01-03 03:00 +00:00"]
        ),
        .init(
            expression: "0 9-17/4 * * MON-FRI", after: "2025-01-03T13:30:00Z",
            expected: ["2025-01-03 17:00 +00:00", "2025-01-06 09:00 +00:00", "2025-01-06 13:00 +00:00"]
        ),
        .init(
            expression: "0 0 1,15 * *", after: "2025-01-15T00:00:00Z",
            expected: ["2025-02-01 00:00 +00:00", "2025-02-15 00:00 +00:00", "2025-03-01 00:00 +00:00"]
        ),
        .init(
            expression: "0 0 * JAN,jul *", after: "2025-01-31T12:00:00Z",
            expected: ["2025-07-01 00:00 +00:00", "2025-07-02 00:00 +00:00"]
        ),
        .init(
            expression: "0 0 1 FEB-APR/2 *", after: "2025-01-01T00:00:00Z",
            expected: ["2025-02-01 00:00 +00:00", "2025-04-01 00:00 +00:00", "2026-02-01 00:00 +00:00"]
        ),
        // End of month: months without a 31st are skipped.
        .init(
            expression: "0 0 31 * *", after: "2025-01-31T00:00:00Z",
            expected: ["2025-03-31 00:00 +00:00", "2025-05-31 00:00 +00:00", "2025-07-31 00:00 +00:00"]
        ),
        .init(expression: "59 23 31 12 *", after: "2025-06-01T00:00:00Z", expected: ["2025-12-31 23:59 +00:00"]),
        .init(
            expression: "0 0 1 1 *", after: "2025-12-31T23:59:30Z",
            expected: ["2026-01-01 00:00 +00:00", "2027-01-01 00:00 +00:00"]
        ),
        // Feb 29: the next leap day, also across 2100 (not a leap year).
        .init(
            expression: "0 0 29 2 *", after: "2025-01-01T00:00:00Z",
            expected: ["2028-02-29 00:00 +00:00", "2032-02-29 00:00 +00:00"]
        ),
        .init(expression: "0 0 29 2 *", after: "2096-03-01T00:00:00Z", expected: ["2104-02-29 00:00 +00:00"]),
        .init(expression: "@weekly", after: "2025-01-01T00:00:00Z", expected: ["2025-01-05 00:00 +00:00"]),
        .init(expression: "@monthly", after: "2025-01-01T00:00:00Z", expected: ["2025-02-01 00:00 +00:00"]),
        .init(expression: "@hourly", after: "2025-01-01T00:00:00Z", expected: ["2025-01-01 01:00 +00:00"]),
        .init(
            expression: "0 0 * * 5-7", after: "2025-01-01T00:00:00Z",
            expected: [
                "2025-01-03 00:00 +00:00", "2025-01-04 00:00 +00:00", "2025-01-05 00:00 +00:00",
                "2025-01-10 00:00 +00:00",
            ]
        ),
        // Both day fields restricted: either matches (vixie cron).
        .init(
            expression: "0 0 13 * FRI", after: "2025-01-01T00:00:00Z",
            expected: [
                "2025-01-03 00:00 +00:00", "2025-01-10 00:00 +00:00", "2025-01-13 00:00 +00:00",
                "2025-01-17 00:00 +00:00",
            ]
        ),
        .init(
            expression: "0 0 1-7 * MON", after: "2025-01-01T00:00:00Z",
            expected: ["2025-01-02 00:00 +00:00", "2025-01-03 00:00 +00:00"]
        ),
        // A day field beginning with `*` (even `*/2`) makes both required.
        .init(
            expression: "0 0 */2 * MON", after: "2025-01-01T00:00:00Z",
            expected: ["2025-01-13 00:00 +00:00", "2025-01-27 00:00 +00:00", "2025-02-03 00:00 +00:00"]
        ),
        .init(
            expression: "0 0 * 2 MON", after: "2025-01-01T00:00:00Z",
            expected: ["2025-02-03 00:00 +00:00", "2025-02-10 00:00 +00:00"]
        ),
    ]

    static let zonedCases: [Case] = [
        // Asia/Seoul: UTC+9 all year.
        .init(
            expression: "0 3 * * *", after: "2025-01-01T00:00:00Z",
            expected: ["2025-01-02 03:00 +09:00", "2025-01-03 03:00 +09:00"], zone: Zones.seoul
        ),
        .init(
            expression: "30 2 * 3 SUN", after: "2025-03-01T00:00:00+09:00",
            expected: ["2025-03-02 02:30 +09:00", "2025-03-09 02:30 +09:00"], zone: Zones.seoul
        ),
        // America/New_York, spring forward (2025-03-09 02:00 EST → 03:00 EDT): 02:xx does not exist.
        .init(
            expression: "30 2 * * *", after: "2025-03-08T12:00:00-05:00",
            expected: ["2025-03-10 02:30 -04:00", "2025-03-11 02:30 -04:00"], zone: Zones.newYork
        ),
        .init(
            expression: "0 3 * * *", after: "2025-03-09T00:00:00-05:00",
            expected: ["2025-03-09 03:00 -04:00"], zone: Zones.newYork
        ),
        .init(
            expression: "*/30 * * * *", after: "2025-03-09T01:00:00-05:00",
            expected: ["2025-03-09 01:30 -05:00", "2025-03-09 03:00 -04:00", "2025-03-09 03:30 -04:00"],
            zone: Zones.newYork
        ),
        // Fall back (2025-11-02 02:00 EDT → 01:00 EST): the repeated hour runs once, the first time.
        .init(
            expression: "30 1 * * *", after: "2025-11-02T00:00:00-04:00",
            expected: ["2025-11-02 01:30 -04:00", "2025-11-03 01:30 -05:00"], zone: Zones.newYork
        ),
        .init(
            expression: "*/30 * * * *", after: "2025-11-02T00:45:00-04:00",
            expected: ["2025-11-02 01:00 -04:00", "2025-11-02 01:30 -04:00", "2025-11-02 02:00 -05:00"],
            zone: Zones.newYork
        ),
        .init(
            expression: "0 * * * *", after: "2025-11-02T01:00:00-04:00",
            expected: ["2025-11-02 02:00 -05:00", "2025-11-02 03:00 -05:00"], zone: Zones.newYork
        ),
        // From inside the repeated hour: its minutes already ran.
        .init(
            expression: "*/15 * * * *", after: "2025-11-02T01:15:00-05:00",
            expected: ["2025-11-02 02:00 -05:00"], zone: Zones.newYork
        ),
        .init(
            expression: "0 0 * * *", after: "2025-11-01T12:00:00-04:00",
            expected: ["2025-11-02 00:00 -04:00", "2025-11-03 00:00 -05:00"], zone: Zones.newYork
        ),
        // Lord Howe Island moves its clocks by 30 minutes (2025-04-06 02:00 +11:00 → 01:30 +10:30).
        .init(
            expression: "45 1 * * *", after: "2025-04-05T12:00:00+11:00",
            expected: ["2025-04-06 01:45 +11:00", "2025-04-07 01:45 +10:30"], zone: Zones.lordHowe
        ),
    ]

    @Test("next in UTC", arguments: utcCases)
    func nextUTC(_ example: Case) throws { try check(example) }

    @Test("next across zones and DST changes", arguments: zonedCases)
    func nextZoned(_ example: Case) throws { try check(example) }

    private func check(_ example: Case) throws {
        let expression = try CronExpression(example.expression)
        var cursor = at(example.after)
        var found: [String] = []
        for _ in example.expected {
            guard let next = expression.next(after: cursor, in: example.zone) else { break }
            found.append(wall(next, example.zone))
            // Walking back from each run finds it again, and from just before it, the one before.
            #expect(expression.previous(atOrBefore: next, in: example.zone) == next)
            #expect(expression.matches(next, in: example.zone))
            if let previous = expression.previous(atOrBefore: next.addingTimeInterval(-1), in: example.zone) {
                #expect(previous <= cursor)
            }
            cursor = next
        }
        #expect(found == example.expected)
    }

    struct Previous: Sendable, CustomTestStringConvertible {
        var expression: String
        var atOrBefore: String
        var expected: String
        var zone: TimeZone = Zones.utc
        var testDescription: String { "\(expression) at or before \(atOrBefore)" }
    }

    static let previousCases: [Previous] = [
        .init(expression: "0 3 * * *", atOrBefore: "2025-01-02T03:00:00Z", expected: "2025-01-02 03:00 +00:00"),
        .init(expression: "0 3 * * *", atOrBefore: "2025-01-02T02:59:59Z", expected: "2025-01-01 03:00 +00:00"),
        .init(expression: "*/15 * * * *", atOrBefore: "2025-01-01T00:00:00Z", expected: "2025-01-01 00:00 +00:00"),
        .init(expression: "*/15 * * * *", atOrBefore: "2025-01-01T00:14:59Z", expected: "2025-01-01 00:00 +00:00"),
        .init(expression: "0 0 29 2 *", atOrBefore: "2025-01-01T00:00:00Z", expected: "2024-02-29 00:00 +00:00"),
        .init(expression: "0 0 29 2 *", atOrBefore: "2104-01-01T00:00:00Z", expected: "2096-02-29 00:00 +00:00"),
        .init(expression: "0 0 31 * *", atOrBefore: "2025-03-15T00:00:00Z", expected: "2025-01-31 00:00 +00:00"),
        .init(expression: "0 12 * * MON-FRI", atOrBefore: "2025-01-05T23:00:00Z", expected: "2025-01-03 12:00 +00:00"),
        .init(expression: "0 0 13 * FRI", atOrBefore: "2025-01-16T00:00:00Z", expected: "2025-01-13 00:00 +00:00"),
        .init(expression: "@yearly", atOrBefore: "2025-12-31T23:59:59Z", expected: "2025-01-01 00:00 +00:00"),
        .init(
            expression: "0 3 * * *", atOrBefore: "2025-01-01T02:00:00+09:00", expected: "2024-12-31 03:00 +09:00",
            zone: Zones.seoul
        ),
        .init(
            expression: "30 2 * * *", atOrBefore: "2025-03-09T12:00:00-04:00", expected: "2025-03-08 02:30 -05:00",
            zone: Zones.newYork
        ),
        // Inside the repeated hour: the first 01:30 already happened.
        .init(
            expression: "*/30 * * * *", atOrBefore: "2025-11-02T01:15:00-05:00", expected: "2025-11-02 01:30 -04:00",
            zone: Zones.newYork
        ),
        .init(
            expression: "0 0 * * *", atOrBefore: "2025-11-02T01:15:00-05:00", expected: "2025-11-02 00:00 -04:00",
            zone: Zones.newYork
        ),
        .init(
            expression: "0 2 * * *", atOrBefore: "2025-11-02T02:30:00-05:00", expected: "2025-11-02 02:00 -05:00",
            zone: Zones.newYork
        ),
    ]

    @Test("previous finds the latest run at or before a time", arguments: previousCases)
    func previous(_ example: Previous) throws {
        let expression = try CronExpression(example.expression)
        let found = expression.previous(atOrBefore: at(example.atOrBefore), in: example.zone)
        #expect(wall(found, example.zone) == example.expected)
    }

    @Test("searches jump instead of scanning minutes", .timeLimit(.minutes(1)))
    func fast() throws {
        let clock = ContinuousClock()
        let leapDay = try CronExpression("0 0 29 2 *")
        let rare = try CronExpression("59 23 13 * FRI")
        let elapsed = clock.measure {
            var date = at("2001-01-01T00:00:00Z")
            for _ in 0..<100 {
                date = leapDay.next(after: date, in: Zones.newYork)!
                _ = leapDay.previous(atOrBefore: date.addingTimeInterval(-60), in: Zones.newYork)
                _ = rare.next(after: date, in: Zones.newYork)
            }
        }
        #expect(elapsed < .seconds(5))
    }
}
