import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

struct RESTHTTPClientOAuth2Tests {
    static func oauth2(_ base: String, accessToken: TestYAML = "", rateLimit: TestYAML = fastRetries) -> ConfigNode {
        manifestNode([
            "baseURL": .scalar(base),
            "auth": [
                "type": "oauth2", "grant": "refresh-token", "tokenURL": "/services/oauth2/token",
                "clientID": "CLIENT-ID", "clientSecret": "CLIENT-SECRET-7", "refreshToken": "REFRESH-TOKEN-8",
                "accessToken": accessToken,
            ],
            "rateLimit": rateLimit,
        ])
    }

    /// A token endpoint handing out AT1, AT2, … and an API that accepts only the newest token,
    /// answering 401 once (on request `expireAt`) to simulate an expired session.
    final class Provider: @unchecked Sendable {
        private let lock = NSLock()
        private var issued = 0
        private var apiCalls = 0
        let expireAt: Int?
        let tokenStatus: Int

        init(expireAt: Int? = nil, tokenStatus: Int = 200) {
            self.expireAt = expireAt
            self.tokenStatus = tokenStatus
        }

        func handle(_ request: RecordedRequest, _ index: Int) -> ScriptedResponse {
            lock.lock()
            defer { lock.unlock() }
            if request.path == "/services/oauth2/token" {
                let form = request.formItems
                guard request.method == "POST", form["grant_type"] == "refresh_token", form["refresh_token"] == "REFRESH-TOKEN-8",
                    form["client_id"] == "CLIENT-ID", form["client_secret"] == "CLIENT-SECRET-7"
                else { return .json(400, #"{"error": "invalid_request"}"#) }
                guard tokenStatus == 200 else {
                    return .json(tokenStatus, #"{"error": "invalid_grant", "error_description": "expired REFRESH-TOKEN-8"}"#)
                }
                issued += 1
                return .json(200, #"{"access_token": "AT\#(issued)", "token_type": "Bearer", "instance_url": "x"}"#)
            }
            apiCalls += 1
            if apiCalls - 1 == expireAt { return .json(401, #"[{"errorCode": "INVALID_SESSION_ID"}]"#) }
            return request.header("Authorization") == "Bearer AT\(issued)" ? .json(200, "{}") : .json(401, "[]")
        }
    }

    @Test func fetchesATokenFirstAndRefreshesOnceOn401() async throws {
        let provider = Provider(expireAt: 2)
        try await withServer(provider.handle, manifest: { Self.oauth2($0) }) { server, client, log in
            for _ in 0..<4 {
                let result = try await client.send(HTTPRequestSpec(method: "GET", path: "/services/data/v60.0/query"))
                #expect(result.status == 200)
            }
            let seen = server.requests.map { "\($0.path == "/services/oauth2/token" ? "token" : "api") \($0.header("Authorization") ?? "-")" }
            #expect(seen == [
                "token -", "api Bearer AT1", "api Bearer AT1", "api Bearer AT1", "token -", "api Bearer AT2", "api Bearer AT2",
            ])
            #expect(client.statistics.tokenRequests == 2 && client.statistics.requests == 5 && client.statistics.retries == 0)
            #expect(server.requests.first?.header("Content-Type") == "application/x-www-form-urlencoded")
            for secret in ["AT1", "AT2", "CLIENT-SECRET-7", "REFRESH-TOKEN-8"] { #expect(!log.text.contains(secret)) }
        }
    }

    @Test func initialAccessTokenIsUsedWithoutAFetch() async throws {
        let provider = Provider()
        try await withServer(provider.handle, manifest: { Self.oauth2($0, accessToken: "AT0") }) { server, client, _ in
            // AT0 is not the provider's newest token ("AT0" == "AT\(0)" until one is issued): accepted.
            _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/q"))
            #expect(server.requests.map(\.path) == ["/q"] && client.statistics.tokenRequests == 0)
        }
    }

    @Test func persistent401AfterRefreshIsPermanent() async throws {
        try await withServer({ request, _ in
            request.path == "/services/oauth2/token" ? .json(200, #"{"access_token": "fresh", "expires_in": 7200}"#) : .json(401, "[]")
        }, manifest: { Self.oauth2($0, accessToken: "stale") }) { server, client, _ in
            let error = await #expect(throws: RESTCRMConnectorError.self) {
                try await client.send(HTTPRequestSpec(method: "GET", path: "/q"))
            }
            #expect(error?.code == "rest.unauthorized" && error?.isTransient == false)
            #expect(server.requests.map(\.path) == ["/q", "/services/oauth2/token", "/q"])
            #expect(error?.message.contains("fresh") == false && error?.message.contains("stale") == false)
        }
    }

    @Test func accessTokenAloneWorksUntilItIsRefused() async throws {
        try await withServer({ request, index in
            index == 0 && request.header("Authorization") == "Bearer ONLY-AT" ? .json(200, "{}") : .json(401, "[]")
        }, manifest: { base in
            // As the shipped salesforce.yaml reads with only SALESFORCE_ACCESS_TOKEN set.
            manifestNode([
                "baseURL": .scalar(base),
                "auth": [
                    "type": "oauth2", "grant": "refresh-token", "tokenURL": "/services/oauth2/token",
                    "accessToken": "ONLY-AT", "refreshToken": "", "clientID": "", "clientSecret": "",
                ],
            ])
        }) { server, client, _ in
            let first = try await client.send(HTTPRequestSpec(method: "GET", path: "/q"))
            #expect(first.status == 200)
            let error = await #expect(throws: RESTCRMConnectorError.self) {
                try await client.send(HTTPRequestSpec(method: "GET", path: "/q"))
            }
            #expect(error?.code == "rest.unauthorized")
            #expect(server.requests.map(\.path) == ["/q", "/q"] && client.statistics.tokenRequests == 0)
        }
    }

    @Test func concurrentRequestsShareOneTokenFetch() async throws {
        let provider = Provider()
        try await withServer(provider.handle, manifest: { Self.oauth2($0) }) { _, client, _ in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await client.send(HTTPRequestSpec(method: "GET", path: "/q")).status } }
                for try await status in group { #expect(status == 200) }
            }
            #expect(client.statistics.tokenRequests == 1)
        }
    }

    @Test func refusedTokenRequestIsPermanentAndQuiet() async throws {
        let provider = Provider(tokenStatus: 400)
        try await withServer(provider.handle, manifest: { Self.oauth2($0) }) { server, client, log in
            let error = await #expect(throws: RESTCRMConnectorError.self) {
                try await client.send(HTTPRequestSpec(method: "GET", path: "/q"))
            }
            #expect(error?.code == "rest.auth_failed" && error?.isTransient == false)
            #expect(error?.message == "OAuth2 token request failed: the token endpoint answered 400 (invalid_grant)")
            #expect(server.requests.map(\.path) == ["/services/oauth2/token"])
            #expect(!log.text.contains("REFRESH-TOKEN-8"))
        }
    }

    @Test func failingTokenEndpointIsTransient() async throws {
        let provider = Provider(tokenStatus: 503)
        try await withServer(provider.handle, manifest: { Self.oauth2($0, rateLimit: ["retries": "2", "backoff": ["initial": "1ms", "max": "2ms"]]) }) {
            server, client, _ in
            let error = await #expect(throws: RESTCRMConnectorError.self) {
                try await client.send(HTTPRequestSpec(method: "GET", path: "/q"))
            }
            #expect(error?.code == "rest.auth_failed" && error?.isTransient == true)
            #expect(server.requests.count == 3 && client.statistics.tokenRequests == 3)
        }
    }
}
