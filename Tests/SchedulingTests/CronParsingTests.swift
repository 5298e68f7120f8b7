import Foundation
import RetentionCore
import Scheduling
import Testing

@Suite("CronExpression parsing")
struct CronParsingTests {
    @Test(
        "valid expressions parse",
        arguments: [
            "* * * * *", "0 3 * * *", "*/15 * * * *", "10-50/10 * * * *", "5/15 * * * *", "0 9-17 * * MON-FRI",
            "0 0 1,15 * *", "0 0 * JAN,jul *", "0 0 * * sun", "0 0 * * 7", "0 0 29 2 *", "  0  0 * *   *  ",
            "0\t0\t*\t*\t*", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@DAILY",
            "0 0 31 * *", "59 23 31 12 6", "0 0 */2 * 1-5", "0 0 * * 5-7", "0 0 * * 7/2",
        ]
    )
    func valid(_ text: String) throws {
        let expression = try CronExpression(text)
        #expect(expression.text == text.trimmingCharacters(in: .whitespaces))
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var text: String
        var code: String
        var message: String
        var testDescription: String { text.isEmpty ? "(empty)" : text }
    }

    static let invalidExamples: [Invalid] = [
        .init(
            text: "", code: "cron.syntax",
            message: "expected 5 fields (minute hour day-of-month month day-of-week), found 0"),
        .init(
            text: "* * * *", code: "cron.syntax",
            message: "expected 5 fields (minute hour day-of-month month day-of-week), found 4"),
        .init(
            text: "0 * * * * *", code: "cron.syntax",
            message:
                "expected 5 fields (minute hour day-of-month month day-of-week), found 6 (seconds and years are not supported)"
        ),
        .init(text: "60 * * * *", code: "cron.range", message: "minute: 60 is out of range 0-59"),
        .init(text: "0 24 * * *", code: "cron.range", message: "hour: 24 is out of range 0-23"),
        .init(text: "0 0 0 * *", code: "cron.range", message: "day-of-month: 0 is out of range 1-31"),
        .init(text: "0 0 32 * *", code: "cron.range", message: "day-of-month: 32 is out of range 1-31"),
        .init(text: "0 0 * 13 *", code: "cron.range", message: "month: 13 is out of range 1-12"),
        .init(text: "0 0 * * 8", code: "cron.range", message: "day-of-week: 8 is out of range 0-7"),
        .init(
            text: "*/0 * * * *", code: "cron.syntax", message: "minute: step must be a positive whole number, found '0'"
        ),
        .init(
            text: "*/x * * * *", code: "cron.syntax", message: "minute: step must be a positive whole number, found 'x'"
        ),
        .init(
            text: "*/61 * * * *", code: "cron.range", message: "minute: step 61 is larger than the field's range 0-59"),
        .init(text: "1/2/3 * * * *", code: "cron.syntax", message: "minute: more than one '/' in '1/2/3'"),
        .init(
            text: "50-10 * * * *", code: "cron.range",
            message: "minute: range '50-10' runs backwards (write the smaller value first)"
        ),
        .init(text: "1, * * * *", code: "cron.syntax", message: "minute: empty item in list '1,'"),
        .init(text: "0 -1 * * *", code: "cron.syntax", message: "hour: a range is missing a value"),
        .init(
            text: "0 0 * FOO *", code: "cron.syntax",
            message: "month: 'FOO' is not a number 1-12 or a name JAN–DEC"
        ),
        .init(
            text: "0 0 * * FUNDAY", code: "cron.syntax",
            message: "day-of-week: 'FUNDAY' is not a number 0-7 or a name SUN–SAT"
        ),
        .init(text: "0 0 L * *", code: "cron.syntax", message: "day-of-month: 'L' is not a number 1-31"),
        .init(text: "0 0 ? * MON", code: "cron.syntax", message: "day-of-month: '?' is not a number 1-31"),
        .init(
            text: "0 0 * * MON#2", code: "cron.syntax",
            message: "day-of-week: 'MON#2' is not a number 0-7 or a name SUN–SAT"),
        .init(text: "0 JAN * * *", code: "cron.syntax", message: "hour: 'JAN' is not a number 0-23"),
        .init(
            text: "@reboot", code: "cron.syntax",
            message:
                "unknown macro '@reboot' (known: @annually, @daily, @hourly, @midnight, @monthly, @weekly, @yearly)"
        ),
        .init(
            text: "0 0 30 2 *", code: "cron.never",
            message: "day-of-month: day 30 never occurs in the months of '0 0 30 2 *', so it would never run"
        ),
        .init(
            text: "0 0 31 4,6,9,11 *", code: "cron.never",
            message: "day-of-month: day 31 never occurs in the months of '0 0 31 4,6,9,11 *', so it would never run"
        ),
    ]

    @Test("invalid expressions name the field and the problem", arguments: invalidExamples)
    func invalid(_ example: Invalid) {
        #expect {
            try CronExpression(example.text)
        } throws: { error in
            guard let error = error as? CronError else { return false }
            #expect(error.code == example.code)
            #expect(error.message == example.message)
            #expect(error.category == .config)
            return true
        }
    }

    @Test("a restricted day-of-week rescues an impossible day-of-month (either may match)")
    func impossibleDayWithWeekday() throws {
        let expression = try CronExpression("0 0 30 2 MON")
        let next = expression.next(after: at("2025-01-01T00:00:00Z"), in: Zones.utc)
        #expect(wall(next, Zones.utc) == "2025-02-03 00:00 +00:00")
    }

    @Test("macros equal their expansions")
    func macros() throws {
        let start = at("2025-06-15T10:20:00Z")
        let pairs = [
            ("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
            ("@weekly", "0 0 * * 0"), ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"),
        ]
        for (macro, expansion) in pairs {
            let a = try CronExpression(macro).next(after: start, in: Zones.seoul)
            let b = try CronExpression(expansion).next(after: start, in: Zones.seoul)
            #expect(a == b, "\(macro)")
        }
    }

    @Test("names are case-insensitive and 7 is Sunday")
    func namesAndSeven() throws {
        let start = at("2025-01-01T00:00:00Z")
        let sunday = try CronExpression("0 12 * * 0").next(after: start, in: Zones.utc)
        for text in ["0 12 * * 7", "0 12 * * SUN", "0 12 * * sun", "0 12 * * Sun"] {
            #expect(try CronExpression(text).next(after: start, in: Zones.utc) == sunday, "\(text)")
        }
        let march = try CronExpression("0 0 1 3 *").next(after: start, in: Zones.utc)
        #expect(try CronExpression("0 0 1 mar *").next(after: start, in: Zones.utc) == march)
    }
}
