import Foundation
@testable import RESTCRMConnector
import RetentionCore
import RetentionStore
import RetentionTesting
import Testing

/// What happened, in order: budget asks, budget sleeps and requests the server saw.
final class EventLog: Sendable {
    private let events = HTTPLocked<[String]>([])
    func add(_ event: String) { events.withLock { $0.append(event) } }
    var all: [String] { events.withLock { $0 } }
}

/// A shared budget answering from a script (`.zero` once it runs out), or failing while `failing`.
final class ScriptedBudget: SharedRateBudget {
    struct Failure: Error {}
    private let waits: HTTPLocked<[Duration]>
    let failing = HTTPLocked(false)
    let asks = HTTPLocked<[(account: String, requests: Int, per: Duration)]>([])
    let events: EventLog

    init(waits: [Duration], events: EventLog) {
        self.waits = HTTPLocked(waits)
        self.events = events
    }

    func reserve(account: String, requests: Int, per: Duration, at: Date) async throws -> Duration {
        asks.withLock { $0.append((account, requests, per)) }
        if failing.withLock({ $0 }) {
            events.add("ask failed")
            throw Failure()
        }
        let wait = waits.withLock { $0.isEmpty ? .zero : $0.removeFirst() }
        events.add("ask \(wait)")
        return wait
    }
}

/// A budget that keeps the wall-clock instants of the starts it granted.
final class GrantRecorder: SharedRateBudget {
    let inner: any SharedRateBudget
    let grants = HTTPLocked<[Date]>([])
    init(_ inner: any SharedRateBudget) { self.inner = inner }

    func reserve(account: String, requests: Int, per: Duration, at: Date) async throws -> Duration {
        let wait = try await inner.reserve(account: account, requests: requests, per: per, at: at)
        if wait == .zero { grants.withLock { $0.append(at) } }
        return wait
    }
}

struct SharedRateBudgetTests {
    static let token = "pat-na1-secret-token-value"

    static func manifest(_ base: String, token: String = Self.token, rateLimit: TestYAML = ["requests": "5", "per": "1s", "maxConcurrent": "10"]) -> ConfigNode {
        manifestNode(["baseURL": .scalar(base), "auth": ["type": "bearer", "token": .scalar(token)], "rateLimit": rateLimit])
    }

    /// A client of `server` sharing `budget`, whose waits are recorded in `events` instead of slept.
    static func client(
        _ server: ScriptedHTTPServer, budget: any SharedRateBudget, events: EventLog? = nil, log: CapturedLog = CapturedLog(),
        rateLimit: TestYAML = ["requests": "5", "per": "1s", "maxConcurrent": "10"]
    ) throws -> RESTHTTPClient {
        let configuration = try HTTPConfiguration(config: manifest(server.baseURL, rateLimit: rateLimit))
        if let events {
            return try RESTHTTPClient(
                configuration: configuration, log: log.function, sharedBudget: budget, budgetSleep: { events.add("sleep \($0)") })
        }
        return try RESTHTTPClient(configuration: configuration, log: log.function, sharedBudget: budget)
    }

    @Test func anAttemptWaitsForTheSharedBudgetBeforeItIsSent() async throws {
        let events = EventLog()
        let server = try await ScriptedHTTPServer.start { request, _ in
            events.add("request \(request.path)")
            return .json(200, "{}")
        }
        let budget = ScriptedBudget(waits: [.milliseconds(300), .seconds(5)], events: events)
        let client = try Self.client(server, budget: budget, events: events)
        _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/a"))
        _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/b"))
        try await client.shutdown()
        try await server.stop()
        #expect(events.all == [
            "ask 0.3 seconds", "sleep 0.3 seconds", "ask 5.0 seconds", "sleep 1.0 seconds", "ask 0.0 seconds", "request /a",
            "ask 0.0 seconds", "request /b",
        ], "a wait longer than the window is slept a window at a time, then the budget is asked again")
        #expect(client.statistics.sharedBudgetWaits == 2)
        let asks = budget.asks.withLock { $0 }
        #expect(asks.allSatisfy { $0.requests == 5 && $0.per == .seconds(1) })
        let account = try #require(asks.first?.account)
        #expect(account.hasPrefix("127.0.0.1:"), "keyed by the host: \(account)")
        #expect(!account.contains(Self.token))
    }

    @Test func aFailingSharedBudgetFallsBackToTheOwnBudgetWithOneWarning() async throws {
        let events = EventLog()
        let server = try await ScriptedHTTPServer.start { request, _ in
            events.add("request \(request.path)")
            return .json(200, "{}")
        }
        let budget = ScriptedBudget(waits: [], events: events)
        budget.failing.withLock { $0 = true }
        let log = CapturedLog()
        let client = try Self.client(server, budget: budget, events: events, log: log)
        _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/a"))
        _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/b"))
        budget.failing.withLock { $0 = false }
        _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/c"))
        try await client.shutdown()
        try await server.stop()
        #expect(events.all == ["ask failed", "request /a", "ask failed", "request /b", "ask 0.0 seconds", "request /c"])
        #expect(log.entries.filter { $0.level == .warning }.count == 1, "one warning while the budget fails")
        #expect(log.entries.contains { $0.level == .notice && $0.message.contains("answers again") })
        #expect(!log.text.contains(Self.token) && !log.text.contains("127.0.0.1"))
    }

    @Test func withoutARequestBudgetTheSharedBudgetIsNotAsked() async throws {
        let events = EventLog()
        let server = try await ScriptedHTTPServer.start { _, _ in .json(200, "{}") }
        let budget = ScriptedBudget(waits: [.seconds(5)], events: events)
        let client = try Self.client(server, budget: budget, events: events, rateLimit: ["maxConcurrent": "2"])
        _ = try await client.send(HTTPRequestSpec(method: "GET", path: "/a"))
        try await client.shutdown()
        try await server.stop()
        #expect(events.all.isEmpty)
    }

    @Test func theAccountIsTheHostAndACredentialFingerprintUnlessNamed() throws {
        func account(_ base: String, token: String, named: String? = nil) throws -> String {
            var limits: TestYAML = ["requests": "5", "per": "1s"]
            if let named { limits = ["requests": "5", "per": "1s", "account": .scalar(named)] }
            return try HTTPConfiguration(config: Self.manifest(base, token: token, rateLimit: limits)).sharedBudgetAccount
        }
        let one = try account("https://API.hubapi.com/crm/v3", token: Self.token)
        #expect(one.hasPrefix("api.hubapi.com#") && one.count == "api.hubapi.com#".count + 16)
        #expect(!one.contains(Self.token) && !one.contains("secret"))
        #expect(try account("https://api.hubapi.com/other", token: Self.token) == one, "another connector with the same token shares it")
        #expect(try account("https://api.hubapi.com", token: "another-token") != one)
        #expect(try account("https://eu.example.com:8443", token: Self.token).hasPrefix("eu.example.com:8443#"))
        #expect(try account("https://api.hubapi.com", token: Self.token, named: "portal-42") == "portal-42")
        #expect(try account("https://api.hubapi.com", token: Self.token, named: " ") == one, "empty (an unset ${VAR:-}): the default")
        #expect(throws: ConfigError.self) { try account("https://api.hubapi.com", token: Self.token, named: String(repeating: "a", count: 201)) }
    }

    /// Two clients (as two processes would: each with its own store object on one SQLite file) keep
    /// together to 5 starts per second.
    @Test func twoClientsSharingAStoreBudgetKeepTogetherToItsRate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("lethe.sqlite")
        let first = GrantRecorder(try SQLiteStateStore(path: path))
        let second = GrantRecorder(try SQLiteStateStore(path: path))
        let server = try await ScriptedHTTPServer.start { _, _ in .json(200, "{}") }
        let clients = [try Self.client(server, budget: first), try Self.client(server, budget: second)]
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<16 {
                let client = clients[index % 2]
                group.addTask { try await client.send(HTTPRequestSpec(method: "GET", path: "/items/\(index)")).status }
            }
            for try await status in group { #expect(status == 200) }
        }
        for client in clients { try await client.shutdown() }
        try await server.stop()

        let grants = (first.grants.withLock { $0 } + second.grants.withLock { $0 }).map(\.timeIntervalSince1970).sorted()
        #expect(grants.count == 16)
        #expect(first.grants.withLock { $0 }.count > 0 && second.grants.withLock { $0 }.count > 0)
        for grant in grants {
            #expect(grants.filter { $0 >= grant && $0 < grant + 0.999 }.count <= 5, "starts in the second from \(grant)")
        }
        // The server's side, as a bound that a slow machine cannot break: the j-th request to arrive
        // came after at least j + 1 starts, and those are 200 ms apart.
        let arrivals = server.requests.map(\.arrival).sorted()
        #expect(arrivals.count == 16)
        for (index, arrival) in arrivals.enumerated() {
            #expect(arrival - started >= .milliseconds(200 * index - 5), "request \(index) arrived too early")
        }
    }
}
