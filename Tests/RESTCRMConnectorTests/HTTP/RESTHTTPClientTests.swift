import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

struct RESTHTTPClientTests {
    struct AuthCase: Sendable, CustomTestStringConvertible {
        var name: String
        var auth: TestYAML
        var check: @Sendable (RecordedRequest) -> Bool
        var testDescription: String { name }
    }

    static let authCases: [AuthCase] = [
        AuthCase(name: "bearer", auth: ["type": "bearer", "token": "tok-123"]) { $0.header("Authorization") == "Bearer tok-123" },
        AuthCase(name: "api-key header", auth: ["type": "api-key", "name": "X-Api-Key", "value": "k 1"]) {
            $0.header("X-Api-Key") == "k 1" && $0.header("Authorization") == nil
        },
        AuthCase(name: "api-key query", auth: ["type": "api-key", "in": "query", "name": "api_token", "value": "k&1=2"]) {
            $0.queryItems["api_token"] == "k&1=2" && $0.queryItems["limit"] == "10" && $0.queryItems["start"] == "0"
        },
        AuthCase(name: "basic", auth: ["type": "basic", "username": "user", "password": "pa:ss"]) {
            $0.header("Authorization") == "Basic " + Data("user:pa:ss".utf8).base64EncodedString()
        },
        AuthCase(name: "none", auth: ["type": "none"]) { $0.header("Authorization") == nil },
    ]

    @Test(arguments: authCases)
    func sendsAuthAndDefaultHeaders(_ case: AuthCase) async throws {
        try await withServer({ _, _ in .json(200, #"{"ok": true}"#) }, manifest: { base in
            manifestNode(["baseURL": .scalar(base + "/"), "headers": ["Accept": "application/json"], "auth": `case`.auth])
        }) { server, client, _ in
            let result = try await client.send(HTTPRequestSpec(method: "GET", path: "/v1/persons?start=0", query: [("limit", "10")]))
            #expect(result.status == 200)
            let seen = try #require(server.requests.first)
            #expect(seen.path == "/v1/persons")
            #expect(seen.header("Accept") == "application/json")
            #expect(`case`.check(seen))
        }
    }

    @Test func bodyGetsJSONContentTypeAndRequestHeadersWin() async throws {
        try await withServer({ _, _ in .json(201, "{}") }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "headers": ["Accept": "text/plain", "X-Default": "1"]])
        }) { server, client, _ in
            let request = HTTPRequestSpec(
                method: "POST", path: "/objects", headers: [("Accept", "application/json")], body: Data(#"{"a":1}"#.utf8)
            )
            let result = try await client.send(request)
            #expect(result.status == 201)
            let seen = try #require(server.requests.first)
            #expect(seen.method == "POST" && seen.header("Content-Type") == "application/json")
            #expect(seen.header("Accept") == "application/json" && seen.header("X-Default") == "1")
            #expect(seen.body == Data(#"{"a":1}"#.utf8))
        }
    }

    @Test func tooManyRequestsWithRetryAfterIsWaitedOutAndRetried() async throws {
        try await withServer({ _, index in
            index == 0 ? .json(429, #"{"policyName": "TEN_SECONDLY_ROLLING"}"#, headers: [("Retry-After", "1")]) : .json(200, "[]")
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": fastRetries])
        }) { server, client, log in
            let result = try await client.send(HTTPRequestSpec(method: "GET", path: "/contacts"))
            #expect(result.status == 200)
            #expect(client.statistics == HTTPStatistics(requests: 2, retries: 1, rateLimited: 1))
            let arrivals = server.requests.map(\.arrival)
            #expect(arrivals[1] - arrivals[0] >= .milliseconds(900), "Retry-After: 1 must be honoured over a 5ms backoff")
            #expect(log.entries.contains { $0.level == .notice && $0.message.contains("rate limited") })
        }
    }

    @Test func serverErrorStormIsRetriedUntilItPasses() async throws {
        try await withServer({ _, index in
            index < 3 ? .json(503, "{}") : .json(200, #"{"results": []}"#)
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": fastRetries])
        }) { _, client, _ in
            let result = try await client.send(HTTPRequestSpec(method: "GET", path: "/contacts"))
            #expect(result.status == 200)
            #expect(client.statistics == HTTPStatistics(requests: 4, retries: 3, rateLimited: 0))
        }
    }

    @Test func exhaustedRetriesThrowATransientErrorWithoutSecrets() async throws {
        try await withServer({ _, _ in .json(503, #"{"category": "UNAVAILABLE"}"#, headers: [("Retry-After", "0")]) }, manifest: { base in
            manifestNode(
                ["baseURL": .scalar(base), "auth": ["type": "bearer", "token": "SECRET-TOKEN-42"], "rateLimit": fastRetries],
                lists: ["errors.code": ["category"]]
            )
        }) { server, client, log in
            let request = HTTPRequestSpec(method: "GET", path: "/crm/contacts?email=alice%40example.com", query: [("q", "alice")])
            let error = await #expect(throws: RESTCRMConnectorError.self) { try await client.send(request) }
            let failure = try #require(error)
            #expect(failure.isTransient && failure.category == .transient)
            #expect(failure.code == "rest.http_503")
            #expect(failure.retryAfter == .zero)
            #expect(failure.message.hasPrefix("GET /crm/contacts answered 503 (UNAVAILABLE)"))
            #expect(failure.message.contains("5 attempts"))
            for secret in ["SECRET-TOKEN-42", "alice", "?", "email"] {
                #expect(!failure.message.contains(secret))
                #expect(!log.text.contains(secret))
            }
            #expect(server.requests.count == 5)
            #expect(server.requests.allSatisfy { $0.header("Authorization") == "Bearer SECRET-TOKEN-42" })
        }
    }

    @Test func configuredRateLimitPairIsRetriedButOther403IsReturned() async throws {
        try await withServer({ request, _ in
            if request.path.hasSuffix("/limited"), request.header("X-Attempt") == nil {
                return .json(403, #"[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]"#)
            }
            if request.path.contains("/sobjects/") {
                return .json(403, #"[{"errorCode": "INSUFFICIENT_ACCESS_OR_READONLY", "message": "no"}]"#)
            }
            return .json(200, "{}")
        }, manifest: { base in
            manifestNode(
                ["baseURL": .scalar(base + "/services/data/v60.0"), "rateLimit": fastRetries],
                lists: ["rateLimit.limited": [["status": "403", "code": "REQUEST_LIMIT_EXCEEDED"]], "errors.code": ["[0].errorCode", "errorCode"]]
            )
        }) { server, client, _ in
            // Always limited: retried until the retries run out.
            let limited = HTTPRequestSpec(method: "GET", path: "/limited")
            let error = await #expect(throws: RESTCRMConnectorError.self) { try await client.send(limited) }
            #expect(error?.isTransient == true && error?.code == "rest.http_403")
            #expect(client.statistics.rateLimited == 5)
            #expect(server.requests.allSatisfy { $0.path == "/services/data/v60.0/limited" })

            let forbidden = HTTPRequestSpec(
                method: "DELETE", path: "/sobjects/Contact/003XX", displayPath: "/sobjects/Contact/{{id}}"
            )
            let result = try await client.send(forbidden, expectJSON: false)
            #expect(result.status == 403)
            #expect(client.errorCode(in: result.body) == "INSUFFICIENT_ACCESS_OR_READONLY")
            let failure = client.failure(for: forbidden, result: result)
            #expect(failure.code == "rest.http_403" && !failure.isTransient)
            #expect(failure.message == "DELETE /sobjects/Contact/{{id}} answered 403 (INSUFFICIENT_ACCESS_OR_READONLY)")
            #expect(client.statistics.rateLimited == 5)
        }
    }

    @Test func truncatedBodyIsRetried() async throws {
        let full = #"{"results": [{"id": "1"}, {"id": "2"}], "paging": {"next": {"after": "2"}}}"#
        try await withServer({ _, index in
            var response = ScriptedResponse.json(200, full)
            if index == 0 { response.truncateAfter = 20 }
            return response
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": fastRetries])
        }) { server, client, _ in
            let result = try await client.send(HTTPRequestSpec(method: "GET", path: "/contacts"))
            #expect(result.status == 200 && result.body == Data(full.utf8))
            #expect(server.requests.count == 2 && client.statistics.retries == 1)
        }
    }

    @Test func invalidJSONIsRetriedOnlyWhenJSONIsExpected() async throws {
        try await withServer({ _, index in
            index == 0 ? ScriptedResponse(status: 200, body: Data(#"{"results": [{"id"#.utf8)) : .json(200, "{}")
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": fastRetries])
        }) { server, client, _ in
            let retried = try await client.send(HTTPRequestSpec(method: "GET", path: "/a"))
            #expect(retried.body == Data("{}".utf8) && server.requests.count == 2)
            let html = try await client.send(HTTPRequestSpec(method: "GET", path: "/b"), expectJSON: false)
            #expect(html.status == 200 && server.requests.count == 3)
        }
    }

    @Test func goneAndClientErrorsAreReturned() async throws {
        try await withServer({ request, _ in
            request.path == "/gone" ? ScriptedResponse(status: 410) : .json(404, #"{"category": "OBJECT_NOT_FOUND"}"#)
        }, manifest: { base in
            manifestNode(["baseURL": .scalar(base), "rateLimit": fastRetries], lists: ["errors.code": ["category"]])
        }) { server, client, _ in
            let missing = try await client.send(HTTPRequestSpec(method: "DELETE", path: "/missing"), expectJSON: false)
            #expect(missing.status == 404)
            #expect(client.errorCode(in: missing.body) == "OBJECT_NOT_FOUND")
            let gone = try await client.send(HTTPRequestSpec(method: "DELETE", path: "/gone"))
            #expect(gone.status == 410 && server.requests.count == 2)
        }
    }

    @Test func redirectsAreReturnedNotFollowed() async throws {
        try await withServer({ _, _ in ScriptedResponse(status: 302, headers: [("Location", "/elsewhere")]) }, manifest: { base in
            manifestNode(["baseURL": .scalar(base)])
        }) { server, client, _ in
            let result = try await client.send(HTTPRequestSpec(method: "GET", path: "/moved"))
            #expect(result.status == 302 && result.header("location") == "/elsewhere")
            #expect(server.requests.map(\.path) == ["/moved"])
        }
    }

    @Test func unauthorizedWithoutOAuthIsPermanent() async throws {
        try await withServer({ _, _ in .json(401, #"{"category": "INVALID_AUTHENTICATION"}"#) }, manifest: { base in
            manifestNode(
                ["baseURL": .scalar(base), "auth": ["type": "api-key", "in": "query", "name": "api_token", "value": "KEY-999"]],
                lists: ["errors.code": ["category"]]
            )
        }) { server, client, _ in
            let error = await #expect(throws: RESTCRMConnectorError.self) {
                try await client.send(HTTPRequestSpec(method: "GET", path: "/v1/persons"))
            }
            #expect(error?.code == "rest.unauthorized" && error?.isTransient == false)
            #expect(error?.message.contains("GET /v1/persons answered 401 (INVALID_AUTHENTICATION)") == true)
            #expect(error?.message.contains("KEY-999") == false)
            #expect(server.requests.count == 1)
        }
    }

    @Test func absoluteURLsMustStayOnTheBaseHost() async throws {
        try await withServer({ _, _ in .json(200, "{}") }, manifest: { base in
            manifestNode(["baseURL": .scalar(base + "/services/data/v60.0"), "auth": ["type": "bearer", "token": "t"]])
        }) { server, client, _ in
            let next = try await client.send(HTTPRequestSpec(method: "GET", path: server.baseURL + "/services/data/v60.0/query/01g-2000"))
            #expect(next.status == 200)
            let relative = try await client.send(HTTPRequestSpec(method: "GET", path: "/services/data/v60.0/query/01g-4000"))
            #expect(relative.status == 200)
            #expect(server.requests.map(\.path) == ["/services/data/v60.0/query/01g-2000", "/services/data/v60.0/query/01g-4000"])
            let error = await #expect(throws: RESTCRMConnectorError.self) {
                try await client.send(HTTPRequestSpec(method: "GET", path: "https://evil.example/steal?x=1"))
            }
            #expect(error?.code == "rest.bad_url" && error?.message == "GET /steal: the URL is not on the base URL's host")
            #expect(server.requests.count == 2)
        }
    }

    @Test func connectionRefusedIsRetriedThenTransient() async throws {
        // A port nothing listens on: start a server to learn a free port, then stop it.
        let probe = try await ScriptedHTTPServer.start { _, _ in .json() }
        let base = probe.baseURL
        try await probe.stop()
        let configuration = try HTTPConfiguration(config: manifestNode(["baseURL": .scalar(base), "connectTimeout": "1s", "rateLimit": fastRetries]))
        let client = try RESTHTTPClient(configuration: configuration, log: { _, _, _ in })
        let error = await #expect(throws: RESTCRMConnectorError.self) {
            try await client.send(HTTPRequestSpec(method: "GET", path: "/x"))
        }
        try await client.shutdown()
        #expect(error?.code == "rest.network" && error?.isTransient == true)
        #expect(client.statistics.requests == 5)
    }

    @Test func salesforceUsageAbove90PercentIsLoggedOnce() async throws {
        try await withServer({ _, _ in .json(200, "{}", headers: [("Sforce-Limit-Info", "api-usage=4600/5000")]) }, manifest: { base in
            manifestNode(["baseURL": .scalar(base)])
        }) { _, client, log in
            for _ in 0..<3 { _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/q")) }
            let warnings = log.entries.filter { $0.level == .warning }
            #expect(warnings.count == 1)
            #expect(warnings.first?.message == "Salesforce API usage at 92% of the allowance")
        }
    }

    @Test func retryAfterAcceptsAnHTTPDate() async throws {
        let configuration = try HTTPConfiguration(config: manifestNode(["baseURL": "https://x.test"]))
        let client = try RESTHTTPClient(configuration: configuration, log: { _, _, _ in })
        let result = HTTPResult(status: 429, headers: [
            ("Date", "Wed, 21 Oct 2015 07:28:00 GMT"), ("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT"),
        ])
        #expect(client.retryAfter(in: result) == .seconds(30))
        #expect(client.retryAfter(in: HTTPResult(status: 429, headers: [("Retry-After", "7")])) == .seconds(7))
        try await client.shutdown()
    }
}
