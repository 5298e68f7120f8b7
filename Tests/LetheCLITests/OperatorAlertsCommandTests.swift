import Foundation
import Testing

/// `lethe sync` with `alerts:`: the operators get one mail per new event in the file outbox, once.
@Suite struct OperatorAlertsCommandTests {
    /// The shipped default config with an `alerts:` section, in a folder of its own beside links to
    /// the shipped policies and templates.
    static func config(in harness: CLIHarness, alerts: String) throws -> String {
        let root = harness.root.appendingPathComponent("conf")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for folder in ["policies", "templates"] {
            try FileManager.default.createSymbolicLink(
                at: root.appendingPathComponent(folder), withDestinationURL: CLIHarness.repository.appendingPathComponent("config/\(folder)"))
        }
        let shipped = try String(contentsOf: CLIHarness.repository.appendingPathComponent("config/lethe.yaml"), encoding: .utf8)
        let file = root.appendingPathComponent("lethe.yaml")
        try (shipped + "\n" + alerts + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    func alertFiles(_ harness: CLIHarness) throws -> [String] {
        let outbox = harness.state.appendingPathComponent("outbox")
        return try FileManager.default.contentsOfDirectory(atPath: outbox.path).filter { $0.hasPrefix("alert-") }.sorted()
    }

    @Test func aSyncMailsEachNewEventOnceThroughTheFileOutbox() async throws {
        var harness = try CLIHarness()
        harness.variables["LETHE_ALERTS_TO"] = "ops@example.net"
        harness.variables["LETHE_PUBLIC_URL"] = "https://lethe.example.com"
        let config = try Self.config(in: harness, alerts: """
            alerts:
              to: ${LETHE_ALERTS_TO:-}
              from: lethe-alerts@example.net
            """)
        let first = await harness.run(["sync", "--as-of", asOf, "--json"], config: config)
        #expect(first.status == 3, "deletes wait for approval: \(first.stderr)")
        let batch = try #require(first.json["approvalBatch"] as? String)
        let files = try alertFiles(harness)
        #expect(files.count == 2, "the batch waiting, and its overdue destructions: two events, one mail each")
        let texts = try files.map { try String(contentsOf: harness.state.appendingPathComponent("outbox/\($0)"), encoding: .utf8) }
        #expect(texts.allSatisfy { $0.contains("To: ops@example.net") && $0.contains("From: lethe-alerts@example.net") })
        let bodies = try texts.map { text -> String in
            let encoded = text.components(separatedBy: "\r\n\r\n").dropFirst().joined().replacingOccurrences(of: "\r\n", with: "")
            return String(decoding: try #require(Data(base64Encoded: encoded)), as: UTF8.self)
        }
        #expect(bodies.contains { $0.contains("lethe approve \(batch)") && $0.contains("https://lethe.example.com/approvals") })
        #expect(bodies.contains { $0.contains("https://lethe.example.com/#s-overdue") })
        let csv = try String(contentsOf: harness.csv, encoding: .utf8)
        let addresses = csv.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").dropFirst(2).first.map(String.init) }
        #expect(!addresses.isEmpty)
        for body in bodies {
            #expect(!addresses.contains { !$0.isEmpty && body.contains($0) }, "no contact address in an alert")
        }

        let again = await harness.run(["sync", "--as-of", asOf, "--json"], config: config)
        #expect(again.status == 3)
        #expect(try alertFiles(harness) == files, "nothing is alerted twice")
        let audit = await harness.run(["audit", "verify"], config: config)
        #expect(audit.status == 0)
    }

    @Test func aDryRunSendsNoAlert() async throws {
        var harness = try CLIHarness()
        harness.variables["LETHE_ALERTS_TO"] = "ops@example.net"
        let config = try Self.config(in: harness, alerts: "alerts:\n  to: ${LETHE_ALERTS_TO:-}")
        let dry = await harness.run(["sync", "--as-of", asOf, "--dry-run", "--json"], config: config)
        #expect(dry.status == 0 || dry.status == 3, "\(dry.stderr)")
        let outbox = harness.state.appendingPathComponent("outbox").path
        let files = FileManager.default.fileExists(atPath: outbox) ? try alertFiles(harness) : []
        #expect(files.isEmpty)
    }
}
