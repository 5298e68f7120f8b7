import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// Concurrent requests while OAuth2 tokens expire: one refresh at a time, a 401 to a token that
/// another request already replaced is retried with the current token, and only a newly issued
/// token that no request got through with counts as refused credentials.
struct RESTHTTPClientTokenExpiryTests {
    /// A token endpoint handing out AT1, AT2, … and an API accepting each issued token for `uses`
    /// calls (as Salesforce sessions expire). `/slow` answers its first call after `slowDelay`, or
    /// when `slowGate` opens. The configured access token AT0 is unknown to it.
    final class ExpiringProvider: @unchecked Sendable {
        private let lock = NSLock()
        private var issued = 0
        private var used: [String: Int] = [:]
        private var slowCalls = 0
        let uses: Int
        let slowDelay: Duration
        let slowGate: ResponseGate?

        init(uses: Int, slowDelay: Duration = .zero, slowGate: ResponseGate? = nil) {
            self.uses = uses
            self.slowDelay = slowDelay
            self.slowGate = slowGate
        }

        func handle(_ request: RecordedRequest, _ index: Int) -> ScriptedResponse {
            lock.lock()
            defer { lock.unlock() }
            if request.path == "/services/oauth2/token" {
                issued += 1
                used["AT\(issued)"] = 0
                return .json(200, #"{"access_token": "AT\#(issued)", "token_type": "Bearer"}"#)
            }
            var answer = ScriptedResponse.json(401, #"[{"errorCode": "INVALID_SESSION_ID"}]"#)
            let token = String(request.header("Authorization")?.dropFirst("Bearer ".count) ?? "")
            if let count = used[token], count < uses {
                used[token] = count + 1
                answer = .json(200, "{}")
            }
            if request.path == "/slow" {
                slowCalls += 1
                if slowCalls == 1 {
                    answer.delay = slowDelay
                    answer.gate = slowGate
                }
            }
            return answer
        }
    }

    static func manifest(_ base: String) -> ConfigNode {
        RESTHTTPClientOAuth2Tests.oauth2(base, accessToken: "AT0")
    }

    static func requestLine(_ request: RecordedRequest) -> String {
        "\(request.path) \(request.header("Authorization") ?? "-")"
    }

    @Test func a401ToAReplacedTokenRetriesWithTheCurrentOneAndRefreshesWhenThatExpires() async throws {
        // /slow is refused AT0 late; meanwhile /fast is refused AT0, refreshes to AT1 and uses it up.
        // /slow then retries with AT1 without a refresh of its own, is refused again (AT1 expired
        // after working for /fast) and refreshes to AT2.
        // /slow's refusal is held until /fast is done, however loaded the machine.
        let late = ResponseGate()
        let provider = ExpiringProvider(uses: 1, slowGate: late)
        try await withServer(provider.handle, manifest: Self.manifest) { server, client, log in
            async let slow = client.send(HTTPRequestSpec(method: "GET", path: "/slow"))
            while server.requests.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            let fast: HTTPResult
            do {
                fast = try await client.send(HTTPRequestSpec(method: "GET", path: "/fast"))
            } catch {
                late.open()
                throw error
            }
            late.open()
            #expect(fast.status == 200)
            #expect(try await slow.status == 200)
            // Whichever of the two sends AT1 first uses it up; the other one refreshes once more.
            let lines = server.requests.map(Self.requestLine)
            #expect(lines.prefix(3) == ["/slow Bearer AT0", "/fast Bearer AT0", "/services/oauth2/token -"])
            let tail = Array(lines.dropFirst(3))
            let orders = [("/slow", "/fast"), ("/fast", "/slow")].map { first, second in
                ["\(first) Bearer AT1", "\(second) Bearer AT1", "/services/oauth2/token -", "\(second) Bearer AT2"]
            }
            #expect(orders.contains(tail), "\(tail)")
            #expect(client.statistics.tokenRequests == 2)
            for secret in ["AT0", "AT1", "AT2", "CLIENT-SECRET-7", "REFRESH-TOKEN-8"] { #expect(!log.text.contains(secret)) }
        }
    }

    @Test func concurrentRequestsKeepWorkingWhileTokensExpireEveryFewCalls() async throws {
        // As the fake Salesforce with --token-expires-after 8: four requests in flight (the default
        // bound), each token good for eight calls.
        let provider = ExpiringProvider(uses: 8, slowDelay: .milliseconds(50))
        try await withServer(provider.handle, manifest: Self.manifest) { server, client, _ in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<80 {
                    let path = index % 5 == 0 ? "/slow" : "/q\(index)"
                    group.addTask { try await client.send(HTTPRequestSpec(method: "GET", path: path)).status }
                }
                for try await status in group { #expect(status == 200) }
            }
            // Every refresh followed a 401 to the token then current, after it served eight calls:
            // AT1 replaced the configured AT0, and AT1 … AT10 served the 80 requests.
            #expect(client.statistics.tokenRequests == 80 / 8)
        }
    }

    @Test func concurrentRequestsRefusedWithANewTokenFailOnceEachWithOneRefresh() async throws {
        try await withServer({ request, _ in
            if request.path == "/services/oauth2/token" { return .json(200, #"{"access_token": "NEW-AT"}"#) }
            var refused = ScriptedResponse.json(401, #"[{"errorCode": "INVALID_SESSION_ID"}]"#)
            refused.delay = .milliseconds(20)
            return refused
        }, manifest: Self.manifest) { server, client, log in
            let failures = await withTaskGroup(of: RESTCRMConnectorError?.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        do {
                            _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/q\(index)"))
                            return nil
                        } catch { return error as? RESTCRMConnectorError }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(failures.count == 4)
            for failure in failures {
                #expect(failure?.code == "rest.unauthorized" && failure?.isTransient == false)
                #expect(failure?.message.hasSuffix("answered 401: the credentials were refused") == true)
                #expect(failure?.message.contains("AT") == false)
            }
            #expect(client.statistics.tokenRequests == 1)
            #expect(server.requests.filter { $0.header("Authorization") == "Bearer NEW-AT" }.count == 4)
            #expect(!log.text.contains("NEW-AT") && !log.text.contains("AT0"))
        }
    }
}
