import Foundation
import RetentionCore
import Testing

@Suite("DateParser")
struct DateParserTests {
    let seoul = DateParser(zone: TimeZone(identifier: "Asia/Seoul")!)
    let utc = DateParser(zone: TimeZone(identifier: "UTC")!)

    /// 2023-03-04 09:15:30 UTC, the instant most accepted forms below denote.
    static let reference: TimeInterval = 1_677_921_330

    struct Accepted: Sendable, CustomTestStringConvertible {
        var text: String
        /// Seconds since 1970 the text denotes when zone-less forms are read in Asia/Seoul.
        var expected: TimeInterval
        var testDescription: String { text }
    }

    static let accepted: [Accepted] = [
        Accepted(text: "2023-03-04T09:15:30Z", expected: reference),
        Accepted(text: "2023-03-04T18:15:30+09:00", expected: reference),
        Accepted(text: "2023-03-04T18:15:30+0900", expected: reference),
        Accepted(text: "2023-03-04T04:15:30-05:00", expected: reference),
        Accepted(text: "2023-03-04T04:15:30-0500", expected: reference),
        Accepted(text: "2023-03-04T09:15:30.000Z", expected: reference),
        Accepted(text: "2023-03-04T09:15:30.250Z", expected: reference + 0.25),
        Accepted(text: "2023-03-04T09:15Z", expected: reference - 30),
        Accepted(text: "2023-03-04T18:15+09:00", expected: reference - 30),
        Accepted(text: "2023-03-04 18:15:30", expected: reference),
        Accepted(text: "2023-03-04 18:15", expected: reference - 30),
        Accepted(text: "2023-03-04", expected: reference - 9 * 3600 - 15 * 60 - 30 - 9 * 3600),
        Accepted(text: "2023.03.04", expected: reference - 9 * 3600 - 15 * 60 - 30 - 9 * 3600),
        Accepted(text: "2023/03/04", expected: reference - 9 * 3600 - 15 * 60 - 30 - 9 * 3600),
        Accepted(text: "  2023-03-04  ", expected: reference - 9 * 3600 - 15 * 60 - 30 - 9 * 3600),
        Accepted(text: "2024-02-29", expected: 1_709_132_400),
        Accepted(text: "2000-02-29 00:00:00", expected: 951_750_000),
        Accepted(text: "2023-12-31T23:59:59+09:00", expected: 1_704_034_799),
    ]

    @Test("accepts every documented form", arguments: accepted)
    func acceptsForm(_ form: Accepted) throws {
        let parsed = try #require(seoul.parse(form.text))
        #expect(parsed.timeIntervalSince1970 == form.expected)
    }

    static let rejected = [
        "", " ", "2023-02-30", "2023-02-29", "2023-13-01", "2023-00-10", "2023-01-00", "2023-04-31",
        "2023-01-01 24:00", "2023-01-01 23:60", "2023-01-01 10:00:60", "2023-01-01T24:00:00Z",
        "2023-1-05", "2023-01-5", "23-01-05", "01/02/2023", "2023/1/5", "2023-01-05T10:00:00",
        "2023-01-05T10:00", "2023-01-05T10Z", "2023-01-05T10:00:00+09", "2023-01-05T10:00:00+9:00",
        "2023-01-05T10:00:00+24:00", "2023-01-05T10:00:00.Z", "2023-01-05T10:00:00.123", "2023-01-05 10:00+09:00",
        "2023-01-05 10:00:00.5", "2023.01.05 10:00", "2023/01/05 10:00", "2023-01/05", "2023.01-05",
        "2023-01-05t10:00Z", "2023-01-05X10:00Z", "2023-01-05T10:00:00Zjunk", "20230105", "yesterday",
        "2023-02-30T10:00:00+09:00", "２０２３-01-05",
    ]

    @Test("rejects everything else, rolling nothing forward", arguments: rejected)
    func rejects(_ text: String) {
        #expect(seoul.parse(text) == nil)
    }

    @Test("zone-less forms are read in the parser's zone; forms with an offset ignore it")
    func zoneMath() throws {
        let local = try #require(seoul.parse("2023-03-04 00:00"))
        let asUTC = try #require(utc.parse("2023-03-04 00:00"))
        #expect(asUTC.timeIntervalSince(local) == 9 * 3600)
        #expect(seoul.parse("2023-03-04T00:00:00+09:00") == utc.parse("2023-03-04T00:00:00+09:00"))
        #expect(seoul.parse("2023-03-04T00:00:00+09:00") == local)
    }

    @Test("offsets move the instant the right way, including minutes and across days")
    func offsetMath() throws {
        let zulu = try #require(seoul.parse("2023-03-04T00:00:00Z"))
        let india = try #require(seoul.parse("2023-03-04T05:30:00+05:30"))
        let newfoundland = try #require(seoul.parse("2023-03-03T20:30:00-03:30"))
        let kiritimati = try #require(seoul.parse("2023-03-04T14:00:00+1400"))
        #expect(india == zulu)
        #expect(newfoundland == zulu)
        #expect(kiritimati == zulu)
        let plus = try #require(seoul.parse("2023-03-04T00:00:00+01:00"))
        #expect(zulu.timeIntervalSince(plus) == 3600)
    }

    @Test("Salesforce datetimes (milliseconds, offset without colon)")
    func salesforce() throws {
        let parsed = try #require(seoul.parse("2021-03-04T09:15:00.000+0000"))
        #expect(parsed.timeIntervalSince1970 == 1_614_849_300)
        #expect(parsed == seoul.parse("2021-03-04 18:15:00"))
    }

    @Test("Pipedrive add_time is read in whatever zone the field is configured with")
    func pipedriveZoneless() throws {
        let parsed = try #require(utc.parse("2021-03-04 09:15:00"))
        #expect(parsed.timeIntervalSince1970 == 1_614_849_300)
    }
}

@Suite("ConsentValue")
struct ConsentValueTests {
    @Test(arguments: ["Y", "y", "yes", "YES", "true", "True", "1", " Y "])
    func yes(_ text: String) {
        #expect(ConsentValue.parse(text) == true)
    }

    @Test(arguments: ["N", "n", "no", "No", "false", "FALSE", "0", "", "  "])
    func no(_ text: String) {
        #expect(ConsentValue.parse(text) == false)
    }

    @Test func missingMeansNo() {
        #expect(ConsentValue.parse(nil) == false)
    }

    @Test(arguments: ["maybe", "2", "Y/N", "yess", "O", "동의"])
    func unknown(_ text: String) {
        #expect(ConsentValue.parse(text) == nil)
    }
}
