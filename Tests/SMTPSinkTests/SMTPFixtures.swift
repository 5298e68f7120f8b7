import Foundation
import RetentionCore
import SMTPSink

/// Settings, contexts and notices for the SMTP sink tests.
enum SMTPFixtures {
    static let date = Date(timeIntervalSince1970: 1_795_921_200)  // 2026-11-29T03:00:00Z
    static let user = "lethe-mailer"
    static let password = "s3cret-Passw0rd"
    static let subject = "개인정보 보유기간 연장 동의 요청"

    static func settings(_ values: [(String, String)], keyPath: String = "connectors[2].settings") -> ConfigNode {
        ConfigNode(
            value: .mapping(
                values.map { key, value in
                    (
                        key: key,
                        node: ConfigNode(
                            value: .scalar(value), location: SourceLocation(file: "lethe.yaml", line: 9),
                            keyPath: "\(keyPath).\(key)")
                    )
                }),
            location: SourceLocation(file: "lethe.yaml", line: 8),
            keyPath: keyPath
        )
    }

    static let context = ConnectorContext(
        name: "mailer", clock: FixedClock(date), log: { _, _, _ in },
        stateDirectory: FileManager.default.temporaryDirectory,
        configDirectory: FileManager.default.temporaryDirectory
    )

    /// Settings for `server`: STARTTLS required, AUTH when it has credentials, its certificate trusted.
    static func values(for server: SMTPServerProcess, scheme: String = "smtp", auth: Bool = true) -> [(String, String)]
    {
        var values = [("url", "\(scheme)://127.0.0.1:\(server.port)"), ("timeout", "10")]
        if auth { values += [("user", user), ("password", password)] }
        if let certificate = server.certificate { values.append(("caFile", certificate)) }
        return values
    }

    static func sink(_ values: [(String, String)]) throws -> (sink: any NoticeSink, instance: ConnectorInstance) {
        let instance = try ConnectorFactory.smtp.make(settings(values), context)
        guard let sink = instance.noticeSink else { throw CocoaError(.featureUnsupported) }
        return (sink, instance)
    }

    static func notice(
        id: String, recipient: String = "hong@example.com", name: String? = "홍길동",
        sender: String = "Lethe 개인정보팀 <privacy@lethe.example>", html: Bool = true, headers: [String: String] = [:]
    ) -> Notice {
        Notice(
            operationID: id, recipient: recipient, recipientName: name, sender: sender, subject: subject,
            textBody: "안녕하세요 홍길동님,\n보유기간이 2026-12-31에 만료됩니다.\n연장: https://lethe.example/consent/abc\n.\n..점으로 시작하는 줄\n",
            htmlBody: html
                ? "<p>안녕하세요 <b>홍길동</b>님</p>\n<p><a href=\"https://lethe.example/consent/abc\">연장</a></p>\n" : nil,
            date: date, headers: headers
        )
    }

    static func canonical(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// Whether an error's text mentions any address, user name or password of these tests.
    static func leaks(_ error: any Error) -> Bool {
        let text = "\(error)"
        return ["@", "hong", "example.com", user, password, "홍길동"].contains { text.contains($0) }
    }
}
