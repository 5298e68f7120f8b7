import Foundation
import MailComposer
import RetentionTesting
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The consent loop end to end: `lethe sync` mails the notices through a real SMTP server (STARTTLS +
/// AUTH), a notice's extend link POSTed to `lethe run` writes the consent date into the CSV, a declined
/// record goes at its expiry, and nothing is sent twice.
@Suite(.serialized, .enabled(if: SMTPServer.isAvailable))
struct ConsentLoopTests {
    @Test func smtpNoticesExtendAndDeclineThroughTheLinks() async throws {
        let smtp = try SMTPServer()
        defer { smtp.stop() }
        let certificate = try #require(smtp.certificate)
        var harness = try CLIHarness()
        harness.variables.merge([
            "LETHE_MAIL_TRANSPORT": "smtp", "LETHE_SMTP_URL": "smtp://127.0.0.1:\(smtp.port)", "LETHE_SMTP_USER": "lethe",
            "LETHE_SMTP_PASSWORD": "mail-secret", "LETHE_SMTP_STARTTLS": "required", "SSL_CERT_FILE": certificate,
            "LETHE_SMTP_FROM": "privacy@example.org", "LETHE_PUBLIC_URL": "https://lethe.example.test",
            "LETHE_LINK_SECRET": "link-secret-for-tests-0123456789abcdef", "LETHE_MAX_DELETE_FRACTION": "1",
        ]) { $1 }
        let asOf = "2026-11-29T09:00:00+09:00"
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(first.json["noticesSent"] as? Int == 44, "\(first.stderr)")
        let received = try smtp.messages()
        #expect(received.count == 44)
        let parsed = try received.map { try ParsedMIMEMessage(bytes: $0) }
        #expect(Set(parsed.compactMap { $0.value(of: "Message-ID") }).count == 44, "one message per due record")
        #expect(parsed.allSatisfy { $0.decodedValue(of: "Subject")?.contains("개인정보") == true || $0.decodedValue(of: "Subject")?.contains("marketing") == true })
        #expect(parsed.allSatisfy { $0.parts.count == 2 }, "text and HTML")
        #expect(parsed.allSatisfy { $0.value(of: "List-Unsubscribe")?.contains("/consent/") == true })

        let again = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(again.json["noticesSent"] as? Int == 0)
        #expect(try smtp.messages().count == 44, "nothing is sent twice")

        // The links of two notices: extend the first, decline the second.
        func links(_ message: ParsedMIMEMessage) -> [String] {
            let text = message.parts.compactMap(\.text).first { !$0.contains("<html") } ?? ""
            return text.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.hasPrefix("https://lethe.example.test/consent/") }
        }
        let extendMessage = parsed[parsed.count - 1]
        let declineMessage = parsed[parsed.count - 2]
        let extendLink = try #require(links(extendMessage).first)
        let declineLink = try #require(links(declineMessage).last)
        let extendEmail = try #require(extendMessage.value(of: "To")?.split(separator: "<").last?.dropLast())
        let declineEmail = try #require(declineMessage.value(of: "To")?.split(separator: "<").last?.dropLast())

        guard let daemon = try RunDaemonTests.Daemon.start(for: harness, config: "config/lethe.yaml", asOf: asOf) else { return }
        func post(_ link: String) async throws -> (Int, String) { try await daemon.confirm(link, publicURL: "https://lethe.example.test") }
        let extended = try await post(extendLink)
        #expect(extended.0 == 200 && extended.1.contains("kept until"), "\(extended.1)")
        let declined = try await post(declineLink)
        #expect(declined.0 == 200, "\(declined.1)")
        #expect(try await post(extendLink).0 == 409, "one decision per cycle")
        // A decision that arrives while the daemon's own sync holds the connector is recorded at once and
        // applied (written back) when the sync ends: wait for the write, however loaded the machine.
        func extendedRow() throws -> Substring? {
            try String(contentsOf: harness.csv, encoding: .utf8).split(separator: "\n").first { $0.contains(String(extendEmail)) }
        }
        let waitUntil = ContinuousClock.now + .seconds(120)
        while try extendedRow()?.contains("2026-11-29") != true, ContinuousClock.now < waitUntil {
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(daemon.terminate(within: 10) == 0)

        let extendedRow = try #require(try extendedRow())
        #expect(extendedRow.contains("2026-11-29"), "the consent date is written into the CSV: \(extendedRow)")

        // After the declined record's expiry, it is deleted; the extended one stays.
        let expiry = try #require(declined.1.range(of: #"\d{4}-\d{2}-\d{2}"#, options: .regularExpression).map { String(declined.1[$0]) })
        let after = await harness.run(["sync", "--as-of", "\(expiry)T23:00:00+09:00", "--json"])
        #expect(after.status == 0 || after.status == 3, "\(after.stderr)")
        let later = try String(contentsOf: harness.csv, encoding: .utf8)
        // Declined: at expiry the marketing data goes — the whole record, or only the marketing fields
        // when another purpose (payment, dispute) still keeps it.
        if let row = later.split(separator: "\n").first(where: { $0.contains(String(declineEmail)) }) {
            let cells = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(["N", "n", "false", ""].contains(cells[6]) && cells[7].isEmpty, "marketing fields erased: \(row)")
            #expect(!cells[5].elementsEqual("marketing"), "a marketing-only record is deleted")
        }
        #expect(later.contains(String(extendEmail)), "extended: kept")
    }
}

/// The loopback SMTP server of Tests/SMTPSinkTests/smtpd.py (aiosmtpd), with STARTTLS and AUTH.
final class SMTPServer: @unchecked Sendable {
    static var isAvailable: Bool { LoopbackProcess.pythonHas("aiosmtpd") }

    let server: LoopbackProcess
    let store = FileManager.default.temporaryDirectory.appendingPathComponent("smtpd-\(UUID().uuidString)")
    var port: Int { server.port }
    var certificate: String? { server.announced["CERT"] }

    init() throws {
        let script = CLIHarness.repository.appendingPathComponent("Tests/SMTPSinkTests/smtpd.py")
        server = try LoopbackProcess(python: [script.path, "--store", store.path, "--tls", "starttls", "--user", "lethe", "--password", "mail-secret"])
    }

    func stop() { server.stop() }

    func messages() throws -> [[UInt8]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: store.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { try [UInt8](Data(contentsOf: store.appendingPathComponent($0))) }
    }
}
