import Foundation
import LetheConfig
import RetentionCore
import Testing

/// `alerts:` in the main config.
struct AlertsConfigTests {
    static let mail = """
        mail:
          type: ${MAIL:-file}
          from: notices@example.com
          transports:
            file:
              directory: outbox
            smtp:
              url: smtp://127.0.0.1:25
        """

    static func config(_ alerts: String) -> String {
        ConfigFixture.minimalConfig + "\n" + mail + "\n" + alerts
    }

    @Test func alertsAreReadWithTheirTransport() throws {
        let fixture = try ConfigFixture.withPolicy(Self.config("""
            alerts:
              to: [ops@example.com, privacy@example.com]
              from: lethe@example.com
              sink: smtp
              digestAbove: 3
              locale: en
            """))
        defer { fixture.remove() }
        let configuration = try ConfigLoader(environment: [:]).load(file: fixture.url())
        let alerts = try #require(configuration.alerts)
        #expect(alerts.recipients == ["ops@example.com", "privacy@example.com"])
        #expect(alerts.sender == "lethe@example.com")
        #expect(alerts.sink.type == "smtp")
        #expect(try alerts.sink.settings["url"]?.string() == "smtp://127.0.0.1:25")
        #expect(alerts.digestAbove == 3)
        #expect(alerts.languages == ["en"])
    }

    @Test func defaultsAreTheNoticesTransportBothLanguagesAndFive() throws {
        let fixture = try ConfigFixture.withPolicy(Self.config("""
            alerts:
              to: ${LETHE_ALERTS_TO}
            """))
        defer { fixture.remove() }
        let configuration = try ConfigLoader(environment: ["LETHE_ALERTS_TO": "ops@example.com, kim@example.com"]).load(file: fixture.url())
        let alerts = try #require(configuration.alerts)
        #expect(alerts.recipients == ["ops@example.com", "kim@example.com"], "one variable, comma-separated")
        #expect(alerts.sender == nil)
        #expect(alerts.sink.type == "file-mail")
        #expect(alerts.digestAbove == 5)
        #expect(alerts.languages == ["ko", "en"])
    }

    @Test func withoutTheSectionOrRecipientsAlertsAreOff() throws {
        let none = try ConfigFixture.withPolicy(Self.config(""))
        defer { none.remove() }
        #expect(try ConfigLoader(environment: [:]).load(file: none.url()).alerts == nil)
        let empty = try ConfigFixture.withPolicy(Self.config("""
            alerts:
              to: ${LETHE_ALERTS_TO:-}
            """))
        defer { empty.remove() }
        #expect(try ConfigLoader(environment: [:]).load(file: empty.url()).alerts == nil)
    }

    @Test(arguments: [
        ("  digestAbove: -1", "config.range", "alerts.digestAbove"),
        ("  to: [ops@example.com, not-an-address]", "config.alerts_address", "alerts.to[1]"),
        ("  sink: carrier-pigeon", "config.alerts_sink", "alerts.sink"),
        ("  locale: fr", "config.alerts_locale", "alerts.locale"),
        ("  cc: [x@example.com]", "config.unknown_key", "alerts.cc"),
    ])
    func aBadValueNamesFileLineAndKey(_ line: String, _ code: String, _ key: String) throws {
        let body = line.hasPrefix("  to:") ? line : "  to: [ops@example.com]\n" + line
        let text = Self.config("alerts:\n" + body)
        let lineNumber = try #require(text.components(separatedBy: "\n").firstIndex(of: line)) + 1
        let fixture = try ConfigFixture.withPolicy(text)
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == code)
        #expect(error.key == key)
        #expect(error.location?.file == fixture.url().path)
        #expect(error.location?.line == lineNumber)
    }

    @Test func alertsNeedAMailTransport() throws {
        let fixture = try ConfigFixture.withPolicy(ConfigFixture.minimalConfig + "\nalerts:\n  to: [ops@example.com]\n  sink: smtp")
        defer { fixture.remove() }
        let error = try #require(fixture.loadError())
        #expect(error.code == "config.alerts_sink")
        #expect(error.key == "alerts.sink")
    }
}
