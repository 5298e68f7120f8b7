import Foundation
import MailComposer
import RetentionTesting
import Testing

/// The consent loop against a CRM: `lethe sync --config config/examples/hubspot.yaml` against the fake
/// HubSpot writes the notice, the extend link POSTed to `lethe run` writes the consent date back to the
/// contact through the manifest's update request, and a decline changes nothing in the CRM.
@Suite(.serialized)
struct ConsentRESTLoopTests {
    static let publicURL = "https://lethe.example.test"

    @Test func anExtendLinkUpdatesTheHubSpotContact() async throws {
        let formatter = ISO8601DateFormatter()
        // Consent given 2 years minus 20 days ago: the marketing period ends in 20 days, inside the 30-day notice lead.
        let created = formatter.string(from: Calendar(identifier: .gregorian).date(byAdding: DateComponents(year: -2, day: 20), to: Date())!)
        let fake = try FakeCRMProcess(provider: "hubspot", seed: [
            ["email": "extend@example.com", "created": created, "purpose": ["marketing"], "marketing_consent": true],
            ["email": "decline@example.com", "created": created, "purpose": ["marketing"], "marketing_consent": true],
        ], arguments: ["--token", "test-token"])
        defer { fake.stop() }
        var harness = try CLIHarness()
        harness.variables.merge([
            "HUBSPOT_BASE_URL": fake.baseURL, "HUBSPOT_TOKEN": "test-token", "LETHE_PUBLIC_URL": Self.publicURL,
            "LETHE_LINK_SECRET": "link-secret-for-tests-0123456789abcdef",
        ]) { $1 }
        let config = "config/examples/hubspot.yaml"
        let sync = await harness.run(["sync", "--json"], config: CLIHarness.repository.appendingPathComponent(config).path)
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.json["noticesSent"] as? Int == 2, "\(sync.stdout)")
        let folder = harness.state.appendingPathComponent("outbox")
        let notices = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".eml") }
            .map { try ParsedMIMEMessage(bytes: [UInt8](Data(contentsOf: folder.appendingPathComponent($0)))) }
        func links(to address: String) throws -> [String] {
            let message = try #require(notices.first { $0.value(of: "To")?.contains(address) == true })
            let text = message.parts.compactMap(\.text).first { !$0.contains("<html") } ?? ""
            return text.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.hasPrefix(Self.publicURL + "/consent/") }
        }
        let extend = try #require(try links(to: "extend@example.com").first)
        let decline = try #require(try links(to: "decline@example.com").last)

        guard let daemon = try RunDaemonTests.Daemon.start(for: harness, config: config) else { return }
        let extended = try await daemon.confirm(extend, publicURL: Self.publicURL)
        #expect(extended.0 == 200 && extended.1.contains("kept until"), "\(extended.1)")
        let declined = try await daemon.confirm(decline, publicURL: Self.publicURL)
        #expect(declined.0 == 200, "\(declined.1)")
        #expect(daemon.terminate(within: 10) == 0)

        let records = try await fake.records()
        let kept = try #require(records.first { $0["email"] as? String == "extend@example.com" })
        let consentDate = try #require(kept["consent_extended_at"] as? String, "the consent date was written: \(kept)")
        #expect(abs((formatter.date(from: consentDate) ?? .distantPast).timeIntervalSinceNow) < 600, "\(consentDate)")
        #expect(kept["marketing_consent"] as? Bool == true)
        let other = try #require(records.first { $0["email"] as? String == "decline@example.com" })
        #expect(other["consent_extended_at"] is NSNull && other["updates"] as? Int == 0, "a decline changes nothing now: \(other)")
    }
}
