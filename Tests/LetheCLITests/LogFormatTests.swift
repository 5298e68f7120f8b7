import Foundation
import Testing

struct LogFormatTests {
    @Test func jsonLogsAreOneObjectPerLineWithoutPersonalData() async throws {
        let harness = try CLIHarness(variables: ["LETHE_LOG_FORMAT": "json"])
        let result = await harness.run(["sync", "--as-of", "2026-11-29T09:00:00+09:00", "-v"])
        #expect(result.status == 3, "deletes wait for approval in the example")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count > 2)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
            #expect(object["level"] is String && object["message"] is String && object["ts"] is String)
            #expect(!line.contains("@example.com") && !line.contains("@"), "no email in logs: \(line)")
        }
    }

    @Test func textIsTheDefault() async throws {
        let harness = try CLIHarness()
        let result = await harness.run(["sync", "--as-of", "2026-11-29T09:00:00+09:00", "-v"])
        #expect(result.stderr.split(separator: "\n").contains { $0.hasPrefix("info: sync started") })
    }
}
