import Foundation
import RetentionCore
import Testing

/// The offset table answers exactly what the zone answers, at every instant: around each transition,
/// and anywhere between 1850 and 2250.
struct ZoneOffsetsTests {
    static let zones = [
        "Asia/Seoul", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia",
        "America/Sao_Paulo", "Europe/Dublin", "Africa/Casablanca", "UTC",
    ]

    @Test("the table agrees with the zone around every transition and at random instants", arguments: zones)
    func tableAgreesWithTheZone(identifier: String) throws {
        let zone = try #require(TimeZone(identifier: identifier))
        let offsets = ZoneOffsets.table(for: zone)
        var instants: [Double] = []
        var cursor = Date(timeIntervalSince1970: -2_208_988_800)
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next.timeIntervalSince1970 < 7_258_118_400, instants.count < 4000 {
            let at = next.timeIntervalSince1970
            instants += [at - 3600, at - 1, at - 0.5, at, at + 0.5, at + 1, at + 3600]
            cursor = next
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5000 { instants.append(Double.random(in: -3_786_825_600...8_835_379_200, using: &generator).rounded()) }
        for seconds in instants {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(offsets.secondsFromGMT(for: date) == zone.secondsFromGMT(for: date), "\(identifier) at \(date)")
        }
    }

    @Test("dates parse and periods add the same with the table as with the zone", arguments: ["Asia/Seoul", "America/New_York", "Australia/Lord_Howe"])
    func arithmeticIsUnchanged(identifier: String) throws {
        let zone = try #require(TimeZone(identifier: identifier))
        let direct = DateParser(zone: zone)
        let tabled = DateParser(offsets: .table(for: zone))
        for text in ["2016-03-13 02:30", "2016-11-06 01:30:00", "2024-02-29", "1987-05-10 02:00", "2017-04-02 02:30", "1969-12-31 23:59:59"] {
            #expect(direct.parse(text) == tabled.parse(text), "\(identifier) \(text)")
            if let date = direct.parse(text) {
                for period in [Period(years: 5), Period(months: 7), Period(years: 2, days: 30)] {
                    #expect(period.added(to: date, in: zone) == period.added(to: date, offsets: .table(for: zone)))
                }
            }
        }
    }
}
