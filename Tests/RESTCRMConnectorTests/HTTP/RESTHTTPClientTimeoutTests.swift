import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// The manifest's `timeout` bounds one attempt; a timed-out attempt is retried like a network error.
struct RESTHTTPClientTimeoutTests {
    @Test func slowAnswerTimesOutAndIsRetried() async throws {
        try await withServer({ _, index in
            var response = ScriptedResponse.json(200, #"{"ok": true}"#)
            if index == 0 { response.delay = .seconds(1) }
            return response
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "timeout": "200ms", "rateLimit": ["retries": "8", "backoff": ["initial": "1ms", "max": "5ms"]]])
        }) { server, client, _ in
            let started = ContinuousClock.now
            let result = try await client.send(HTTPRequestSpec(method: "GET", path: "/slow"))
            let elapsed = ContinuousClock.now - started
            #expect(result.status == 200 && result.body == Data(#"{"ok": true}"#.utf8))
            // Usually two attempts; on a loaded machine an answered-at-once retry may time out too.
            let attempts = server.requests.count
            #expect(attempts >= 2)
            #expect(client.statistics == HTTPStatistics(requests: attempts, retries: attempts - 1, rateLimited: 0))
            // Lower bound only: the answer cannot come before the first attempt's deadline ran out
            // (measured here, not at the server, whose arrival times exclude connection set-up).
            #expect(elapsed >= .milliseconds(190), "the first attempt waited for its timeout")
        }
    }

    @Test func everyAttemptTimingOutThrowsATransientNetworkErrorWithoutSecrets() async throws {
        try await withServer({ _, _ in
            var response = ScriptedResponse.json(200, "{}")
            response.delay = .seconds(1)
            return response
        }, manifest: { base in
            manifestNode([
                "baseURL": .scalar(base), "timeout": "150ms",
                "auth": ["type": "api-key", "in": "query", "name": "api_token", "value": "SECRET-KEY-77"],
                "rateLimit": ["retries": "2", "backoff": ["initial": "1ms", "max": "5ms"]],
            ])
        }) { server, client, log in
            let request = HTTPRequestSpec(method: "GET", path: "/crm/contacts?email=alice%40example.com", query: [("q", "alice")])
            let error = await #expect(throws: RESTCRMConnectorError.self) { try await client.send(request) }
            let failure = try #require(error)
            #expect(failure.isTransient && failure.category == .transient)
            #expect(failure.code == "rest.network")
            #expect(failure.message.hasPrefix("GET /crm/contacts failed: "))
            #expect(failure.message.contains("3 attempts"))
            for secret in ["SECRET-KEY-77", "api_token", "alice", "?", "email", "127.0.0.1"] {
                #expect(!failure.message.contains(secret), "message: \(failure.message)")
                #expect(!log.text.contains(secret))
            }
            #expect(server.requests.count == 3)
            #expect(client.statistics.retries == 2)
        }
    }
}
