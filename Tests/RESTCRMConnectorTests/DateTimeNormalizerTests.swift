import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

struct DateTimeNormalizerTests {
    static let utc = DateTimeNormalizer(zone: TimeZone(identifier: "UTC"))
    static let seoul = DateTimeNormalizer(zone: TimeZone(identifier: "Asia/Seoul"))
    static let zoneless = DateTimeNormalizer(zone: nil)

    @Test(arguments: [
        ("2021-03-04T09:15:00.000+0000", "2021-03-04T09:15:00Z"),  // Salesforce
        ("2021-03-04T18:15:00+09:00", "2021-03-04T09:15:00Z"),
        ("2021-03-04T04:15:00-0500", "2021-03-04T09:15:00Z"),
        ("2019-10-30T03:30:17.883Z", "2019-10-30T03:30:17.883Z"),  // HubSpot
        ("1614849300000", "2021-03-04T09:15:00Z"),  // epoch milliseconds
        ("1572406217883", "2019-10-30T03:30:17.883Z"),
        ("2021-03-04 09:15:00", "2021-03-04T09:15:00Z"),  // Pipedrive add_time, UTC
        ("2021-03-04", "2021-03-04T00:00:00Z"),
        ("2024-02-29 23:59:59", "2024-02-29T23:59:59Z"),
        ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"),
    ])
    func normalisesToUTC(input: String, expected: String) {
        #expect(Self.utc.normalize(input) == expected)
    }

    @Test func zoneLessValuesAreReadInTheConfiguredZone() {
        #expect(Self.seoul.normalize("2021-03-04 09:15:00") == "2021-03-04T00:15:00Z")
        #expect(Self.seoul.normalize("2021-03-04") == "2021-03-03T15:00:00Z")
        #expect(Self.seoul.normalize("2021-03-04T09:15:00Z") == "2021-03-04T09:15:00Z")
    }

    @Test func withoutAZoneOnlyAbsoluteValuesAreRewritten() {
        #expect(Self.zoneless.normalize("2021-03-04 09:15:00") == "2021-03-04 09:15:00")
        #expect(Self.zoneless.normalize("2021-03-04") == "2021-03-04")
        #expect(Self.zoneless.normalize("2021-03-04T09:15:00.000+0000") == "2021-03-04T09:15:00Z")
        #expect(Self.zoneless.normalize("1614849300000") == "2021-03-04T09:15:00Z")
    }

    /// Never guess: anything not clearly a date stays as it is, for the policy to quarantine.
    @Test(arguments: ["2023-02-30 10:00:00", "2023-02-30T10:00:00+09:00", "2021-13-01", "2021-03-04 24:00:00",
                      "2021-03-04T09:15:00", "04/03/2021", "20210304", "1614849300", "16148493000000", "yesterday", ""])
    func passesUnparseableValuesThroughUnchanged(input: String) {
        #expect(Self.utc.normalize(input) == input)
    }

    /// The policy reads the output in its own zone (here Seoul) and must find the provider's instant.
    @Test(arguments: [
        ("2021-03-04T09:15:00.000+0000", 1_614_849_300.0), ("1572406217883", 1_572_406_217.883),
        ("2000-01-01 00:00:00", 946_684_800.0),
    ])
    func outputReadsBackAsTheSameInstant(input: String, seconds: Double) throws {
        let parser = DateParser(zone: try #require(TimeZone(identifier: "Asia/Seoul")))
        let instant = try #require(parser.parse(Self.utc.normalize(input)))
        #expect(abs(instant.timeIntervalSince1970 - seconds) < 0.0005)
    }
}
