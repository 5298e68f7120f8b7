import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RetentionCore
import RetentionStore
import Testing
import Yams

/// `deploy/prometheus-alerts.yaml` is a rule file Prometheus can load, and its alerts read only what the
/// daemon serves: metric names present at /metrics, and label values Lethe uses.
@Suite struct PrometheusAlertRulesTests {
    actor Scraped {
        var text = ""
        func set(_ text: String) { self.text = text }
    }

    struct Rule {
        var alert: String
        var expr: String
    }

    static func rules() throws -> [Rule] {
        let url = try OpenAPITests.documentURL().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/prometheus-alerts.yaml")
        let loaded = try #require(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)), "the rule file is empty")
        let root = try #require(OpenAPITests.plain(loaded) as? [String: Any], "the rule file is a mapping")
        let groups = try #require(root["groups"] as? [[String: Any]], "a rule file holds groups")
        var rules: [Rule] = []
        for group in groups {
            #expect(group["name"] is String, "every group is named")
            for rule in try #require(group["rules"] as? [[String: Any]]) {
                let alert = try #require(rule["alert"] as? String, "every rule is an alert")
                let expr = try #require(rule["expr"] as? String, "\(alert) has an expression")
                let annotations = try #require(rule["annotations"] as? [String: Any], "\(alert) has annotations")
                #expect(annotations["summary"] is String && annotations["description"] is String, "\(alert) says what and why")
                #expect((rule["labels"] as? [String: Any])?["severity"] is String, "\(alert) has a severity")
                if let wait = rule["for"] { #expect((wait as? String)?.range(of: #"^[0-9]+[smhd]$"#, options: .regularExpression) != nil, "\(alert): for is a duration") }
                rules.append(Rule(alert: alert, expr: expr))
            }
        }
        return rules
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        let expression = try! NSRegularExpression(pattern: pattern)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test func everyAlertReadsServedMetricsAndLabelValuesLetheUses() async throws {
        let rules = try Self.rules()
        #expect(Set(rules.map(\.alert)).count == rules.count, "alert names are unique")
        #expect(Set(rules.map(\.alert)).isSuperset(of: ["LetheDeletesAwaitApproval", "LetheOperationsDeadLettered", "LetheDestructionsOverdue"]))
        let harness = try HubHarness()
        let scraped = Scraped()
        try await harness.test { client in
            let text = try await client.execute(uri: "/metrics", method: .get, headers: HubHarness.scrape) { response in
                #expect(response.status == .ok)
                return String(buffer: response.body)
            }
            await scraped.set(text)
        }
        let exposition = await scraped.text
        let served = Set(Self.matches(#"(?m)^(lethe_[a-z_]+)"#, in: exposition))
        #expect(!served.isEmpty)
        let statuses = Set(OperationStatus.allCases.map(\.rawValue))
        let kinds = Set(OperationKind.allCases.map(\.rawValue))
        for rule in rules {
            let names = Self.matches(#"(lethe_[a-z_]+)"#, in: rule.expr)
            #expect(!names.isEmpty, "\(rule.alert) reads a Lethe metric")
            for name in names { #expect(served.contains(name), "\(rule.alert): \(name) is not served at /metrics") }
            for status in Self.matches(#"status="([^"]+)""#, in: rule.expr) { #expect(statuses.contains(status), "\(rule.alert): no status \(status)") }
            for kind in Self.matches(#"kind="([^"]+)""#, in: rule.expr) { #expect(kinds.contains(kind), "\(rule.alert): no kind \(kind)") }
            for result in Self.matches(#"result="([^"]+)""#, in: rule.expr) {
                #expect(exposition.contains("result=\"\(result)\""), "\(rule.alert): result \(result) never appears at /metrics")
            }
            #expect(rule.expr.filter { $0 == "(" }.count == rule.expr.filter { $0 == ")" }.count, "\(rule.alert): balanced parentheses")
        }
    }
}
