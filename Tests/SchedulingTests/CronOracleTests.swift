import Foundation
import Scheduling
import Testing

/// Random expressions checked against a minute-by-minute scan that reads wall-clock fields with
/// Foundation's `Calendar`: an independent implementation of the same rules.
@Suite("CronExpression against a brute-force oracle")
struct CronOracleTests {
    /// A small deterministic generator (SplitMix64), so failures reproduce.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let minutes = ["*", "0", "*/15", "10-50/20", "5,35", "59", "*/7", "0-10"]
    static let hours = ["*", "0", "1", "2", "1-3", "*/6", "0,12", "23"]
    static let days = ["*", "1", "13", "29", "31", "*/10", "1-7", "28-31"]
    static let months = ["*", "2", "3", "11", "*/3", "FEB-APR", "jan,mar,nov", "10-12"]
    static let weekdays = ["*", "0", "7", "MON-FRI", "sat,sun", "5", "*/2", "1-3"]

    /// The first instants of a window a run looks through, around DST changes and leap days.
    static let windows: [(start: String, zone: TimeZone)] = [
        ("2025-03-07T00:00:00-05:00", Zones.newYork), ("2025-10-31T00:00:00-04:00", Zones.newYork),
        ("2024-02-26T00:00:00+09:00", Zones.seoul), ("2025-04-04T00:00:00+11:00", Zones.lordHowe),
        ("2024-12-29T00:00:00Z", Zones.utc),
    ]

    static let windowDays = 5

    /// Fire times by the oracle: every whole minute whose wall clock matches and which is the first
    /// instant showing that wall-clock minute (a repeated hour fires once).
    func oracle(_ fields: [String], start: Date, zone: TimeZone) -> [Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let sets = zip(fields, [0...59, 0...23, 1...31, 1...12, 0...7]).map { Self.values($0, $1) }
        let weekdays = Set(sets[4].map { $0 % 7 })
        let domStar = fields[2].hasPrefix("*"), dowStar = fields[4].hasPrefix("*")
        var result: [Date] = []
        for step in 1...(Self.windowDays * 1440) {
            let date = start.addingTimeInterval(Double(step * 60))
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: date)
            guard sets[0].contains(c.minute!), sets[1].contains(c.hour!), sets[3].contains(c.month!) else { continue }
            let byMonth = sets[2].contains(c.day!), byWeek = weekdays.contains(c.weekday! - 1)
            guard domStar || dowStar ? byMonth && byWeek : byMonth || byWeek else { continue }
            let repeated = [1800.0, 3600.0].contains { back in
                calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date.addingTimeInterval(-back))
                    == calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            }
            if !repeated { result.append(date) }
        }
        return result
    }

    /// The values a field allows, by a plain reading of the syntax.
    static func values(_ field: String, _ range: ClosedRange<Int>) -> Set<Int> {
        let names = [
            "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10,
            "NOV": 11, "DEC": 12, "SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6,
        ]
        func number(_ text: Substring) -> Int { Int(text) ?? names[text.uppercased()]! }
        var result = Set<Int>()
        for part in field.split(separator: ",") {
            let pieces = part.split(separator: "/")
            let step = pieces.count == 2 ? Int(pieces[1])! : 1
            var bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range.upperBound == 7 ? 0...6 : range
            } else if pieces[0].contains("-") {
                let ends = pieces[0].split(separator: "-")
                bounds = number(ends[0])...number(ends[1])
            } else {
                bounds = number(pieces[0])...number(pieces[0])
            }
            result.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return result
    }

    @Test("next and previous agree with the oracle", arguments: 0..<5)
    func agree(window: Int) throws {
        var generator = Generator(state: UInt64(window) &* 7919 &+ 17)
        let (startText, zone) = Self.windows[window]
        let start = at(startText)
        let end = start.addingTimeInterval(Double(Self.windowDays * 86_400))
        var checked = 0, fired = 0
        for _ in 0..<40 {
            let fields = [Self.minutes, Self.hours, Self.days, Self.months, Self.weekdays].map {
                $0.randomElement(using: &generator)!
            }
            let text = fields.joined(separator: " ")
            guard let expression = try? CronExpression(text) else { continue }
            let expected = oracle(fields, start: start, zone: zone)
            checked += 1
            fired += expected.isEmpty ? 0 : 1
            var found: [Date] = []
            var cursor = start
            while let next = expression.next(after: cursor, in: zone), next <= end {
                found.append(next)
                cursor = next
            }
            #expect(found == expected, "\(text) in \(zone.identifier) from \(startText)")
            // previous() walks the same runs backwards.
            var back: [Date] = []
            cursor = end
            while let previous = expression.previous(atOrBefore: cursor, in: zone), previous > start {
                back.append(previous)
                cursor = previous.addingTimeInterval(-1)
            }
            #expect(back.reversed() == expected, "previous: \(text) in \(zone.identifier) from \(startText)")
        }
        // The sample is not vacuous: most expressions parse and many fire within the window.
        #expect(checked >= 30)
        #expect(fired >= 8, "only \(fired) of \(checked) expressions fired")
    }
}
