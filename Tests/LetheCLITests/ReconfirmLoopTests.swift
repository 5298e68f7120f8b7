import Foundation
import MailComposer
import RetentionTesting
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The 2-year re-confirmation (정보통신망법 제50조 제8항) end to end with the shipped example policy
/// `config/policies/kr-marketing-5y.yaml` and the shipped templates: `lethe sync` writes one notice per
/// due record, a keep link POSTed to `lethe run` writes the confirmation date into the CSV, a withdraw
/// link writes consent "N" and erases the marketing fields at once, each followed by a result notice.
@Suite(.serialized)
struct ReconfirmLoopTests {
    static let header = "id,name,email,phone,created_at,purpose,marketing_consent,interests,consent_extended_at,marketing_confirmed_at"
    static let rows = [
        "r1,김하나,r1@example.com,,2024-12-20,marketing,Y,golf,,",          // first 2-year mark 2026-12-20: asked
        "r2,이두울,r2@example.com,,2024-12-20,marketing,N,,,",              // no consent: never asked, and deleted (endsWithoutConsent)
        "r3,박세엣,r3@example.com,,2025-06-01,payment;marketing,Y,tea,,",   // first mark 2027-06-01: not yet
        "r4,최네엣,r4@example.com,,2022-03-01,payment;marketing,Y,ski,,",   // imported late: one notice, for 2026-03-01
    ]

    /// A config folder beside the shipped templates, listing the example policy.
    static func workspace() throws -> (CLIHarness, config: String) {
        var harness = try CLIHarness()
        try (([Self.header] + Self.rows).joined(separator: "\n") + "\n").write(to: harness.csv, atomically: true, encoding: .utf8)
        let folder = harness.root.appendingPathComponent("conf/main")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: harness.root.appendingPathComponent("conf/templates"), withDestinationURL: CLIHarness.repository.appendingPathComponent("config/templates"))
        var yaml = try String(contentsOf: CLIHarness.repository.appendingPathComponent("config/lethe.yaml"), encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "  - policies/kr-pipa.yaml", with: "  - \(CLIHarness.repository.path)/config/policies/kr-marketing-5y.yaml")
            .replacingOccurrences(of: "policy: kr-pipa", with: "policy: kr-marketing-5y")
        let config = folder.appendingPathComponent("lethe.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        harness.variables.merge(["LETHE_PUBLIC_URL": "https://lethe.example.test", "LETHE_LINK_SECRET": "link-secret-for-tests-0123456789abcdef",
                                 "LETHE_SMTP_FROM": "privacy@example.org", "LETHE_MAX_DELETE_FRACTION": "1"]) { $1 }
        return (harness, config.path)
    }

    static func outbox(_ harness: CLIHarness) throws -> [ParsedMIMEMessage] {
        let folder = harness.state.appendingPathComponent("outbox")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return try names.map { try ParsedMIMEMessage(bytes: [UInt8](Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    static func text(_ message: ParsedMIMEMessage) -> String {
        message.parts.compactMap(\.text).first { !$0.contains("<html") } ?? ""
    }

    @Test func keepAndWithdrawThroughTheDaemon() async throws {
        let (harness, config) = try Self.workspace()
        let first = await harness.run(["sync", "--as-of", "2026-11-29T09:00:00+09:00", "--json"], config: config)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.json["noticesSent"] as? Int == 2, "\(first.stdout)")
        #expect(first.json["deleted"] as? Int == 1, "marketing-only without consent has no purpose left under this policy")
        let notices = try Self.outbox(harness)
        try #require(notices.count == 2)
        #expect(notices.allSatisfy { $0.decodedValue(of: "Subject")?.contains("수신 동의") == true })
        #expect(notices.allSatisfy { $0.parts.count == 2 }, "text and HTML")
        let byRecipient = Dictionary(uniqueKeysWithValues: notices.map { ($0.value(of: "To")?.contains("r1@") == true ? "r1" : "r4", $0) })
        let r1 = try #require(byRecipient["r1"])
        let r4 = try #require(byRecipient["r4"])
        #expect(Self.text(r1).contains("2024-12-20"), "the consent date: \(Self.text(r1))")
        #expect(Self.text(r1).contains("privacy@example.org"), "the sender")
        #expect(Self.text(r4).contains("2026-03-01"), "the current cycle of a late import")
        func links(_ message: ParsedMIMEMessage) -> [String] {
            Self.text(message).split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.hasPrefix("https://lethe.example.test/consent/") }
        }
        #expect(links(r1).count == 2)
        #expect(r4.value(of: "List-Unsubscribe")?.contains(links(r4).last ?? "-") == true, "List-Unsubscribe is the withdraw link")

        let later = "2026-12-10T09:00:00+09:00"
        let again = await harness.run(["sync", "--as-of", later, "--json"], config: config)
        #expect(again.json["noticesSent"] as? Int == 0, "one notice per cycle")

        guard let daemon = try RunDaemonTests.Daemon.start(for: harness, config: config, asOf: later) else { return }
        func post(_ link: String) async throws -> (Int, String) { try await daemon.confirm(link, publicURL: "https://lethe.example.test") }
        let kept = try await post(try #require(links(r1).first))
        #expect(kept.0 == 200 && kept.1.contains("ask again on"), "\(kept.1)")
        let withdrawn = try await post(try #require(links(r4).last))
        #expect(withdrawn.0 == 200 && withdrawn.1.contains("Consent withdrawn"), "\(withdrawn.1)")
        #expect(try await post(try #require(links(r1).last)).0 == 409, "one decision per cycle")
        #expect(daemon.terminate(within: 10) == 0)

        let csv = try String(contentsOf: harness.csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let row1 = try #require(csv.first { $0.first == "r1" })
        #expect(row1[9].hasPrefix("2026-12-10"), "the confirmation date is written: \(row1)")
        #expect(row1[6] == "Y" && row1[7] == "golf")
        let row4 = try #require(csv.first { $0.first == "r4" })
        #expect(row4[6] == "N" && row4[7].isEmpty, "consent withdrawn and the marketing fields erased at once: \(row4)")
        #expect(row4[5] == "payment;marketing", "payment still keeps the record")
        let results = try Self.outbox(harness).filter { $0.decodedValue(of: "Subject")?.contains("결과") == true }
        #expect(results.count == 2, "a result notice after each decision (제50조 제7항)")
    }
}
