// Date parsing: every form `DateParser` accepts, in a zone without daylight saving time (Asia/Seoul, the
// default policy zone), one with it (America/New_York) and UTC, asked directly and through the offset
// table; then `Period(parsing:)` and period arithmetic on whatever date was read.
import Foundation
import FuzzSupport
import RetentionCore

private let zones = ["Asia/Seoul", "America/New_York", "UTC"].map { TimeZone(identifier: $0)! }
private let direct = zones.map { DateParser(zone: $0) }
private let tabled = zones.map { DateParser(offsets: .table(for: $0)) }

@_cdecl("FuzzDateParser_main")
public func fuzzDateParserMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzDateParser)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDateParser(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let zone = Int(input.byte()) % zones.count
    let bytes = input.rest()
    // The date and, after the first `|`, a period.
    let parts = bytes.split(separator: UInt8(ascii: "|"), maxSplits: 1, omittingEmptySubsequences: false)
    let text = String(decoding: parts.first ?? [], as: UTF8.self)
    let periodText = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""

    let date = direct[zone].parse(text)
    expect(tabled[zone].parse(text) == date, "the offset table and the zone read '\(text)' alike")
    if let date {
        checkAccepted(text, date: date, zone: zone)
    }

    guard let period = Period(parsing: periodText) else { return 0 }
    expect(period.isWithinLongest, "a parsed period is within the longest")
    expect(Period(parsing: period.description) == period, "a period reads back from its description")
    let base = date ?? Date(timeIntervalSince1970: 1_767_225_600)
    let later = period.added(to: base, offsets: .table(for: zones[zone]))
    expect(later == period.added(to: base, in: zones[zone]), "period arithmetic agrees with and without the table")
    expect(later >= base, "adding a period never goes back (\(period))")
    _ = period.subtracted(from: base, in: zones[zone])
    return 0
}

/// An accepted date's calendar day, read back through `civilFromDays`, is the one written (for forms read
/// in UTC, where no offset moves the day).
private func checkAccepted(_ text: String, date: Date, zone: Int) {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let utf8 = Array(trimmed.utf8)
    guard utf8.count >= 10, let year = Int(String(decoding: utf8[0..<4], as: UTF8.self)),
        let month = Int(String(decoding: utf8[5..<7], as: UTF8.self)),
        let day = Int(String(decoding: utf8[8..<10], as: UTF8.self))
    else {
        fatalError("accepted '\(text)' without a YYYY-MM-DD prefix")
    }
    expect((1...12).contains(month) && (1...DateParser.daysIn(month: month, year: year)).contains(day), "accepted an impossible day '\(text)'")
    let days = DateParser.daysFromCivil(year: year, month: month, day: day)
    let civil = DateParser.civilFromDays(days)
    expect(civil == (year, month, day), "civilFromDays inverts daysFromCivil for \(year)-\(month)-\(day)")
    if zone == 2, utf8.count == 10 {
        let seconds = date.timeIntervalSince1970
        expect(seconds == Double(days * 86_400), "'\(text)' in UTC is midnight of that day")
    }
}
