import Foundation
import RetentionCore
import SMTPSink
import Testing

@Suite("SMTP settings")
struct SMTPConfigurationTests {
    @Test("the factory declares type smtp, the notices capability, a required url and a secret password")
    func spec() {
        let spec = ConnectorFactory.smtp.spec
        #expect(spec.type == "smtp")
        #expect(spec.capabilities == [.notices])
        #expect(
            spec.fields.map(\.name) == [
                "url", "user", "password", "starttls", "auth", "timeout", "ratePerMinute", "heloName", "caFile",
                "insecureSkipVerify", "from",
            ])
        #expect(spec.fields.filter(\.required).map(\.name) == ["url"])
        #expect(spec.fields.filter(\.secret).map(\.name) == ["password"])
        #expect(spec.fields.first { $0.name == "starttls" }?.defaultValue == "required")
    }

    @Test(
        "bad settings are config errors naming the key",
        arguments: [
            ([("user", "u")], "config.missing", "connectors[2].settings.url"),
            ([("url", "http://mail.example:25")], "config.url", "connectors[2].settings.url"),
            ([("url", "smtp://")], "config.url", "connectors[2].settings.url"),
            ([("url", "smtp://u:p@mail.example:25")], "config.url", "connectors[2].settings.url"),
            (
                [("url", "smtp://mail.example"), ("starttls", "maybe")], "config.choice",
                "connectors[2].settings.starttls"
            ),
            ([("url", "smtp://mail.example"), ("auth", "CRAM-MD5")], "config.choice", "connectors[2].settings.auth"),
            (
                [("url", "smtp://mail.example"), ("user", "u")], "config.smtp_credentials",
                "connectors[2].settings.user"
            ),
            ([("url", "smtp://mail.example"), ("timeout", "0")], "config.range", "connectors[2].settings.timeout"),
            (
                [("url", "smtp://mail.example"), ("ratePerMinute", "-1")], "config.range",
                "connectors[2].settings.ratePerMinute"
            ),
            ([("url", "smtp://mail.example"), ("heloName", "a b")], "config.helo", "connectors[2].settings.heloName"),
            ([("url", "smtp://mail.example"), ("tls", "on")], "config.unknown_key", "connectors[2].settings.tls"),
        ] as [([(String, String)], String, String)]
    )
    func badSettings(values: [(String, String)], code: String, key: String) {
        let error = #expect(throws: ConfigError.self) {
            try ConnectorFactory.smtp.make(SMTPFixtures.settings(values), SMTPFixtures.context)
        }
        #expect(error?.code == code)
        #expect(error?.key == key)
    }

    @Test("a config error never shows the password")
    func passwordNotShown() {
        let values = [("url", "smtp://mail.example"), ("password", SMTPFixtures.password)]
        let error = #expect(throws: ConfigError.self) {
            try ConnectorFactory.smtp.make(SMTPFixtures.settings(values), SMTPFixtures.context)
        }
        #expect(error.map { !$0.message.contains(SMTPFixtures.password) } == true)
    }

    @Test("an empty caFile (an unset ${SSL_CERT_FILE:-}) means the system default; building connects to nothing")
    func emptyCAFile() throws {
        let values = [("url", "smtps://mail.example:465"), ("caFile", ""), ("user", "u"), ("password", "p")]
        let instance = try ConnectorFactory.smtp.make(SMTPFixtures.settings(values), SMTPFixtures.context)
        #expect(instance.noticeSink != nil)
        #expect(instance.shutdown != nil)
    }
}
