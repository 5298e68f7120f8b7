import Foundation
import MailComposer
import RetentionTesting
import Testing

/// `lethe mail test`: a template rendered with sample values, and, with --to, one message through the
/// configured transport — the way to check SMTP credentials before the first run.
@Suite(.serialized)
struct MailTestCommandTests {
    @Test func withoutToItRendersAndSendsNothing() async throws {
        let harness = try CLIHarness()
        let result = await harness.run(["mail", "test", "--locale", "en"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Subject: ") && result.stdout.contains("Test Person"), "\(result.stdout)")
        #expect(result.stdout.contains("/consent/"), "the links render as in a real notice")
        let outbox = harness.state.appendingPathComponent("outbox")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: outbox.path)) ?? []).isEmpty)
    }

    @Test(.enabled(if: SMTPServer.isAvailable)) func withToItSendsOneMessageThroughSMTPAndAWrongPasswordFails() async throws {
        let smtp = try SMTPServer()
        defer { smtp.stop() }
        var harness = try CLIHarness()
        harness.variables.merge([
            "LETHE_MAIL_TRANSPORT": "smtp", "LETHE_SMTP_URL": "smtp://127.0.0.1:\(smtp.port)", "LETHE_SMTP_USER": "lethe",
            "LETHE_SMTP_PASSWORD": "mail-secret", "LETHE_SMTP_STARTTLS": "required", "SSL_CERT_FILE": try #require(smtp.certificate),
            "LETHE_SMTP_FROM": "privacy@example.org",
        ]) { $1 }
        let sent = await harness.run(["mail", "test", "--to", "me@example.org", "--json"])
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.json["sent"] as? Bool == true)
        let messages = try smtp.messages().map { try ParsedMIMEMessage(bytes: $0) }
        try #require(messages.count == 1)
        #expect(messages[0].decodedValue(of: "Subject")?.contains("개인정보") == true)
        #expect(messages[0].value(of: "To")?.contains("me@example.org") == true)
        #expect(messages[0].parts.count == 2, "text and HTML")

        harness.variables["LETHE_SMTP_PASSWORD"] = "wrong-password"
        let refused = await harness.run(["mail", "test", "--to", "me@example.org"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("535") || refused.stderr.lowercased().contains("auth"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("wrong-password") && !refused.stderr.contains("me@example.org"))
        #expect(try smtp.messages().count == 1)
    }
}
