import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

struct RESTHTTPClientLimitTests {
    static func sendConcurrently(_ count: Int, _ client: RESTHTTPClient) async throws {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<count {
                group.addTask { try await client.send(HTTPRequestSpec(method: "GET", path: "/items/\(index)")).status }
            }
            for try await status in group { #expect(status == 200) }
        }
    }

    @Test func clientBudgetSpreadsRequestsOverTheWindow() async throws {
        try await withServer({ _, _ in .json(200, "{}") }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": ["requests": "5", "per": "1s", "maxConcurrent": "10"]])
        }) { server, client, _ in
            let started = ContinuousClock.now
            try await Self.sendConcurrently(10, client)
            let arrivals = server.requests.map(\.arrival).sorted()
            #expect(arrivals.count == 10)
            // Only a lower bound, measured from before the first start: a loaded machine may be slower,
            // never faster than the budget allows. (Gaps between server arrivals are no bound: an early
            // arrival can lag its admission by connection set-up and scheduling.)
            #expect(arrivals[5] - started >= .seconds(1), "the second five wait for the next window")
        }
    }

    @Test func maxConcurrentBoundsRequestsInFlight() async throws {
        try await withServer({ _, _ in
            var response = ScriptedResponse.json(200, "{}")
            response.delay = .milliseconds(60)
            return response
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": ["maxConcurrent": "3"]])
        }) { server, client, _ in
            try await Self.sendConcurrently(12, client)
            #expect(server.requests.count == 12)
            #expect(server.maxInFlight <= 3)
            #expect(server.maxInFlight >= 2, "requests do run in parallel")
        }
    }

    @Test func emptyBudgetHeaderPausesUntilReset() async throws {
        try await withServer({ _, index in
            index == 0
                ? .json(200, "{}", headers: [("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", "300")])
                : .json(200, "{}")
        }, manifest: { base in
            manifestNode([
                "baseURL": .scalar(base),
                "rateLimit": ["headers": ["remaining": "X-RateLimit-Remaining", "reset": "X-RateLimit-Reset", "resetUnit": "ms"]],
            ])
        }) { server, client, _ in
            _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/a"))
            _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/b"))
            let arrivals = server.requests.map(\.arrival)
            #expect(arrivals[1] - arrivals[0] >= .milliseconds(280))
            #expect(client.statistics.retries == 0)
        }
    }

    @Test func fullJitterBackoffStaysUnderItsCeiling() async throws {
        let configuration = try HTTPConfiguration(config: manifestNode([
            "baseURL": "https://x.test", "rateLimit": ["backoff": ["initial": "100ms", "max": "1s"]],
        ]))
        let client = try RESTHTTPClient(configuration: configuration, log: { _, _, _ in })
        for retry in 1...8 {
            let ceiling = min(Duration.seconds(1), .milliseconds(100) * (1 << (retry - 1)))
            for _ in 0..<20 {
                let delay = client.backoff(retry: retry)
                #expect(delay >= .zero && delay <= ceiling)
            }
        }
        try await client.shutdown()
    }
}
