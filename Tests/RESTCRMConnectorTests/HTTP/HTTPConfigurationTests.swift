import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

struct HTTPConfigurationTests {
    @Test func decodesAFullConnectionSection() throws {
        let node = manifestNode(
            [
                "name": "hubspot",
                "baseURL": "https://api.hubapi.com/",
                "headers": ["Accept": "application/json"],
                "timeout": "2m",
                "connectTimeout": "250ms",
                "tls": ["caFile": "", "insecureSkipVerify": "false"],
                "auth": [
                    "type": "oauth2", "grant": "refresh-token", "tokenURL": "/oauth/v1/token",
                    "clientID": "id", "clientSecret": "secret", "refreshToken": "rt", "accessToken": "",
                ],
                "rateLimit": [
                    "requests": "100", "per": "10s", "maxConcurrent": "2", "retries": "8",
                    "backoff": ["initial": "500ms", "max": "30s"],
                    "headers": ["remaining": "X-HubSpot-RateLimit-Remaining", "reset": "X-HubSpot-RateLimit-Interval-Milliseconds", "resetUnit": "ms"],
                ],
                "list": ["path": "/crm/v3/objects/contacts"],
            ],
            lists: ["rateLimit.limited": [["status": "403", "code": "REQUEST_LIMIT_EXCEEDED"]], "errors.code": ["[0].errorCode", "category"]]
        )
        let configuration = try HTTPConfiguration(config: node)
        #expect(configuration.baseURL == "https://api.hubapi.com")
        #expect(configuration.headers.map(\.name) == ["Accept"])
        #expect(configuration.timeout == .seconds(120))
        #expect(configuration.connectTimeout == .milliseconds(250))
        #expect(configuration.tls.caFile == nil)
        guard case .oauth2(let settings) = configuration.auth else {
            Issue.record("expected oauth2")
            return
        }
        #expect(settings.grant == .refreshToken && settings.accessToken == nil && settings.scope == nil)
        let limits = configuration.rateLimit
        #expect(limits.requests == 100 && limits.per == .seconds(10) && limits.maxConcurrent == 2 && limits.retries == 8)
        #expect(limits.limited == [.init(status: 403, code: "REQUEST_LIMIT_EXCEEDED")])
        #expect(limits.headers.resetUnit == .ms)
        #expect(limits.isLimited(status: 403, providerCode: "REQUEST_LIMIT_EXCEEDED"))
        #expect(!limits.isLimited(status: 403, providerCode: "INSUFFICIENT_ACCESS"))
        #expect(limits.isLimited(status: 429, providerCode: nil))
        #expect(configuration.errorCodePaths.map(\.description) == ["[0].errorCode", "category"])
    }

    @Test func defaults() throws {
        let configuration = try HTTPConfiguration(config: manifestNode(["baseURL": "http://localhost:8080/api"]))
        #expect(configuration.timeout == .seconds(30) && configuration.connectTimeout == .seconds(10))
        #expect(configuration.auth == .none)
        #expect(configuration.rateLimit.maxConcurrent == 4 && configuration.rateLimit.retries == 6)
        #expect(configuration.rateLimit.requests == nil)
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: TestYAML
        var code: String
        var key: String
        var line: Int
        var testDescription: String { name }
    }

    // TestYAML puts the root on line 1 and each key on the next line, depth first.
    static let badCases: [BadCase] = [
        BadCase(
            name: "unknown key in auth",
            yaml: ["baseURL": "https://x.test", "auth": ["type": "bearer", "token": "t", "tokn": "u"]],
            code: "config.unknown_key", key: "manifest.auth.tokn", line: 6
        ),
        BadCase(
            name: "bad duration", yaml: ["baseURL": "https://x.test", "timeout": "30 sec"],
            code: "config.duration", key: "manifest.timeout", line: 3
        ),
        BadCase(
            name: "bare number as duration", yaml: ["baseURL": "https://x.test", "rateLimit": ["requests": "5", "per": "10"]],
            code: "config.duration", key: "manifest.rateLimit.per", line: 5
        ),
        BadCase(
            name: "bad auth type", yaml: ["baseURL": "https://x.test", "auth": ["type": "digest"]],
            code: "config.choice", key: "manifest.auth.type", line: 4
        ),
        BadCase(name: "missing baseURL", yaml: ["headers": ["Accept": "application/json"]], code: "config.missing", key: "manifest", line: 1),
        BadCase(name: "baseURL not http", yaml: ["baseURL": "ftp://x.test"], code: "config.url", key: "manifest.baseURL", line: 2),
        BadCase(
            name: "unknown key in backoff",
            yaml: ["baseURL": "https://x.test", "rateLimit": ["backoff": ["initial": "1s", "maximum": "2s"]]],
            code: "config.unknown_key", key: "manifest.rateLimit.backoff.maximum", line: 6
        ),
        BadCase(
            name: "unknown key in tls", yaml: ["baseURL": "https://x.test", "tls": ["caPath": "/x"]],
            code: "config.unknown_key", key: "manifest.tls.caPath", line: 4
        ),
        BadCase(
            name: "refresh-token grant without refreshToken",
            yaml: ["baseURL": "https://x.test", "auth": ["type": "oauth2", "grant": "refresh-token", "tokenURL": "/t", "clientID": "c"]],
            code: "config.missing", key: "manifest.auth", line: 3
        ),
        BadCase(
            name: "api-key in cookie",
            yaml: ["baseURL": "https://x.test", "auth": ["type": "api-key", "in": "cookie", "name": "k", "value": "v"]],
            code: "config.choice", key: "manifest.auth.in", line: 5
        ),
    ]

    @Test(arguments: badCases)
    func configErrorsNameFileLineAndKey(_ bad: BadCase) {
        #expect {
            try HTTPConfiguration(config: manifestNode(bad.yaml))
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == bad.code && error.key == bad.key && error.location?.line == bad.line
                && error.message.hasPrefix("test.yaml:\(bad.line): \(bad.key): ")
        }
    }

    @Test func secretsNeverReachConfigErrors() {
        #expect {
            try HTTPConfiguration(config: manifestNode(["baseURL": "https://x.test", "auth": ["type": "bearer", "token": ""]]))
        } throws: { error in
            (error as? ConfigError)?.key == "manifest.auth.token"
        }
        #expect {
            try HTTPConfiguration(config: manifestNode(["baseURL": "https://x.test", "auth": ["type": "basic", "password": "hunter2"]]))
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == "config.missing" && !error.message.contains("hunter2")
        }
    }

    @Test func limitedItemsRejectUnknownKeys() {
        let node = manifestNode(["baseURL": "https://x.test"], lists: ["rateLimit.limited": [["status": "403", "cod": "X"]]])
        #expect {
            try HTTPConfiguration(config: node)
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == "config.unknown_key" && error.key == "manifest.rateLimit.limited[0].cod"
        }
    }

    @Test func missingCAFileIsAClearError() throws {
        let configuration = try HTTPConfiguration(config: manifestNode([
            "baseURL": "https://x.test", "tls": ["caFile": "/nonexistent/lethe-ca.pem"],
        ]))
        #expect {
            _ = try RESTHTTPClient(configuration: configuration, log: { _, _, _ in })
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.code == "config.tls_ca" && error.key == "manifest.tls.caFile"
                && error.message == "test.yaml:4: manifest.tls.caFile: CA file not found: /nonexistent/lethe-ca.pem"
        }
    }

    @Test func caFileThatIsNotPEMIsAClearError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-not-a-ca-\(UUID().uuidString).pem").path
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = try HTTPConfiguration(config: manifestNode(["baseURL": "https://x.test", "tls": ["caFile": .scalar(path)]]))
        #expect {
            _ = try RESTHTTPClient(configuration: configuration, log: { _, _, _ in })
        } throws: { error in
            (error as? ConfigError)?.message.contains("not a PEM certificate bundle") == true
        }
    }

    @Test(arguments: [("250ms", 250), ("30s", 30_000), ("1.5s", 1_500), ("2m", 120_000), ("1h", 3_600_000)])
    func durations(_ text: String, _ milliseconds: Int) {
        #expect(ConfigNode.parseDuration(text) == .milliseconds(milliseconds))
    }
}
