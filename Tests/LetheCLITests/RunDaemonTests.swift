import Crypto
import Foundation
import GRDB
@testable import RetentionStore
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `lethe run --config config/examples/hubspot.yaml` as a process, against the fake HubSpot.
@Suite(.serialized)
struct RunDaemonTests {
    static let secret = "webhook-client-secret"
    static let publicURL = "https://lethe.example.test"
    /// A creation date a year before the real now: a payment record kept for years yet, whatever day the test runs.
    static let lastYear = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-365 * 86_400))

    /// The built `lethe` binary (`swift build --build-tests` builds it beside the tests).
    static var binary: URL? {
        let candidates = [".build/debug/lethe", ".build/x86_64-unknown-linux-gnu/debug/lethe", ".build/aarch64-unknown-linux-gnu/debug/lethe"]
        return candidates.map { CLIHarness.repository.appendingPathComponent($0) }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    final class Daemon: @unchecked Sendable {
        let process = Process()
        let errors = Pipe()
        var port = 0
        var metricsPort = 0
        var output = ""

        init(binary: URL, environment: [String: String], config: String = "config/examples/hubspot.yaml", asOf: String? = nil) throws {
            process.executableURL = binary
            let configPath = config.hasPrefix("/") ? config : CLIHarness.repository.appendingPathComponent(config).path
            process.arguments = ["run", "--config", configPath, "-v"] + (asOf.map { ["--as-of", $0] } ?? [])
            process.environment = environment
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(30)
            let metricsListener = !(environment["LETHE_METRICS_ADDRESS"] ?? "").isEmpty
            while port == 0 || (metricsListener && metricsPort == 0), Date() < deadline {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                output += String(decoding: chunk, as: UTF8.self)
                port = Self.port(announcedBy: "lethe run: listening on", in: output) ?? 0
                metricsPort = Self.port(announcedBy: "lethe run: metrics on", in: output) ?? 0
            }
        }

        /// The port of the `127.0.0.1:PORT` address on the line that says `announcement`.
        static func port(announcedBy announcement: String, in output: String) -> Int? {
            guard let line = output.split(separator: "\n").first(where: { $0.contains(announcement) }),
                let address = line.split(separator: " ").first(where: { $0.hasPrefix("127.0.0.1:") })
            else { return nil }
            return Int(address.split(separator: ":").last ?? "")
        }

        /// `lethe run` with the harness's variables on a free port, its policy clock fixed at `asOf` when
        /// given (the same instant the test's syncs use); nil (and a recorded issue) when it did not start.
        static func start(for harness: CLIHarness, config: String, asOf: String? = nil) throws -> Daemon? {
            let binary = try #require(RunDaemonTests.binary)
            var environment = ProcessInfo.processInfo.environment
            environment.merge(harness.variables) { $1 }
            environment["LETHE_HTTP_PORT"] = "0"
            let daemon = try Daemon(binary: binary, environment: environment, config: config, asOf: asOf)
            guard daemon.port > 0 else {
                Issue.record("the daemon did not start: \(daemon.output)")
                _ = daemon.terminate(within: 5)
                return nil
            }
            return daemon
        }

        /// POSTs a consent link (`<publicURL>/consent/…`) to this daemon, in English.
        func confirm(_ link: String, publicURL: String) async throws -> (Int, String) {
            let path = String(link.dropFirst(publicURL.count))
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)?lang=en")!)
            request.httpMethod = "POST"
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        /// SIGTERM, then the exit status (nil if it did not exit within `seconds`).
        func terminate(within seconds: Double) -> Int32? {
            process.terminate()
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            guard !process.isRunning else {
                kill(process.processIdentifier, SIGKILL)
                return nil
            }
            return process.terminationStatus
        }
    }

    static func signature(method: String, uri: String, body: Data, timestamp: String) -> String {
        let message = Data((method + uri).utf8) + body + Data(timestamp.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).base64EncodedString()
    }

    static func post(_ port: Int, path: String, body: Data, signature: String?, timestamp: String) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(timestamp, forHTTPHeaderField: "X-HubSpot-Request-Timestamp")
        if let signature { request.setValue(signature, forHTTPHeaderField: "X-HubSpot-Signature-v3") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    static let metricsToken = "metrics-token-for-the-daemon-tests-0123456789"

    static func get(_ port: Int, _ path: String, token: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test func aSignedCreationWebhookDeletesAnExpiredContactWithoutAFullSync() async throws {
        let binary = try #require(Self.binary, "build the lethe binary first (swift build --build-tests)")
        let fake = try FakeCRMProcess(provider: "hubspot", seed: [
            ["created": Self.lastYear, "updated": Self.lastYear, "email": "keep@example.com", "purpose": ["payment"]],
        ], arguments: ["--token", "test-token"])
        defer { fake.stop() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-run-\(UUID().uuidString)")
        var environment = ProcessInfo.processInfo.environment
        environment.merge([
            "LETHE_STATE_DIR": state.path, "HUBSPOT_BASE_URL": fake.baseURL, "HUBSPOT_TOKEN": "test-token",
            "HUBSPOT_WEBHOOK_SECRET": Self.secret, "LETHE_HTTP_PORT": "0", "LETHE_PUBLIC_URL": Self.publicURL,
            "LETHE_ADMIN_TOKEN": "admin-token-for-the-daemon-tests-0123456789",
            "LETHE_METRICS_TOKEN": Self.metricsToken, "LETHE_METRICS_ADDRESS": "127.0.0.1:0",
        ]) { $1 }
        let daemon = try Daemon(binary: binary, environment: environment)
        #expect(daemon.port > 0, "\(daemon.output)")
        guard daemon.port > 0 else { _ = daemon.terminate(within: 5); return }

        // A new contact, created 2019: already past every retention period, so due at once.
        let created = try await fake.call("POST", "/_fake/records", ["email": "new@example.com", "created": "2019-01-01T00:00:00Z", "updated": "2019-01-01T00:00:00Z", "purpose": ["payment"]]) as? [String: Any]
        let newID = try #require(created?["provider_id"] as? String)
        let listsBefore = (try await fake.stats()["by_route"] as? [String: Int])?["GET /crm/v3/objects/contacts"] ?? 0
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        let body = Data(#"[{"eventId": 4242, "subscriptionId": 1, "portalId": 62515, "appId": 7, "occurredAt": \#(now), "subscriptionType": "contact.creation", "attemptNumber": 0, "objectId": \#(newID), "changeFlag": "CREATED", "changeSource": "CRM"}]"#.utf8)
        let path = "/webhooks/hubspot"

        let forged = try await Self.post(daemon.port, path: path, body: body, signature: "AAAA" + Self.signature(method: "POST", uri: Self.publicURL + path, body: body, timestamp: now), timestamp: now)
        #expect(forged.0 == 401, "\(forged.1)")
        let signature = Self.signature(method: "POST", uri: Self.publicURL + path, body: body, timestamp: now)
        let accepted = try await Self.post(daemon.port, path: path, body: body, signature: signature, timestamp: now)
        #expect(accepted.0 == 200, "\(accepted.1)")

        var deleted = false
        for _ in 0..<100 where !deleted {
            try await Task.sleep(for: .milliseconds(100))
            deleted = try await fake.records().first { $0["provider_id"] as? String == newID }?["deleted"] as? Bool == true
        }
        #expect(deleted, "deleted within 10 seconds")
        let replay = try await Self.post(daemon.port, path: path, body: body, signature: signature, timestamp: now)
        #expect(replay.0 == 200 && replay.1.contains(#""replayed":1"#), "\(replay.1)")
        let keep = try await fake.records().first { $0["email"] as? String == "keep@example.com" }
        #expect(keep?["deleted"] as? Bool == false)
        let listsAfter = (try await fake.stats()["by_route"] as? [String: Int])?["GET /crm/v3/objects/contacts"] ?? 0
        #expect(listsAfter == listsBefore, "no full sync: the contact list was never read")

        #expect(try await Self.get(daemon.port, "/metrics").0 == 401, "metrics need their token")
        let metrics = try await Self.get(daemon.port, "/metrics", token: Self.metricsToken)
        #expect(metrics.0 == 200)
        #expect(daemon.metricsPort > 0, "the metrics listener announced its port: \(daemon.output)")
        let listener = try await Self.get(daemon.metricsPort, "/metrics", token: Self.metricsToken)
        #expect(listener.0 == 200 && listener.1.contains("lethe_records"), "the metrics listener serves them too")
        #expect(try await Self.get(daemon.metricsPort, "/healthz", token: Self.metricsToken).0 == 404, "and nothing else")
        #expect(metrics.1.contains(#"lethe_webhook_deliveries_total{connector="hubspot",result="accepted",reason="ok"} 1"#))
        #expect(metrics.1.contains(#"lethe_webhook_deliveries_total{connector="hubspot",result="rejected",reason="bad_signature"} 1"#))
        #expect(metrics.1.contains(#"lethe_operations_total{connector="hubspot",kind="delete",outcome="done"} 1"#))
        #expect(try await Self.get(daemon.port, "/healthz").0 == 200)

        let status = daemon.terminate(within: 10)
        #expect(status == 0, "SIGTERM exits 0 promptly")
        let logged = String(decoding: daemon.errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(!logged.contains("@example.com") && !logged.contains(Self.secret))
    }

    @Test func everyAcknowledgedDeliveryIsStoredWhenSIGTERMArrivesMidLoad() async throws {
        let binary = try #require(Self.binary, "build the lethe binary first (swift build --build-tests)")
        let seed: [[String: Any]] = (0..<20).map { index in
            ["created": Self.lastYear, "updated": Self.lastYear, "email": "p\(index)@example.com", "purpose": ["payment"]]
        }
        let fake = try FakeCRMProcess(provider: "hubspot", seed: seed, arguments: ["--token", "test-token"])
        defer { fake.stop() }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-load-\(UUID().uuidString)")
        var environment = ProcessInfo.processInfo.environment
        environment.merge([
            "LETHE_STATE_DIR": state.path, "HUBSPOT_BASE_URL": fake.baseURL, "HUBSPOT_TOKEN": "test-token",
            "HUBSPOT_WEBHOOK_SECRET": Self.secret, "LETHE_HTTP_PORT": "0", "LETHE_PUBLIC_URL": Self.publicURL,
        ]) { $1 }
        let daemon = try Daemon(binary: binary, environment: environment)
        guard daemon.port > 0 else {
            Issue.record("the daemon did not start: \(daemon.output)")
            _ = daemon.terminate(within: 5)
            return
        }
        let port = daemon.port
        let total = 400
        let acknowledged = Acknowledged()
        // Bounded load: at most 8 deliveries in flight, SIGTERM once 100 were acknowledged.
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask {
                    let now = String(Int64(Date().timeIntervalSince1970 * 1000))
                    let body = Data(#"[{"eventId": \#(900_000 + index), "subscriptionId": 1, "portalId": 62515, "appId": 7, "occurredAt": \#(now), "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": \#(1001 + index % 20), "propertyName": "email", "propertyValue": "x"}]"#.utf8)
                    let path = "/webhooks/hubspot"
                    let signature = Self.signature(method: "POST", uri: Self.publicURL + path, body: body, timestamp: now)
                    guard let answer = try? await Self.post(port, path: path, body: body, signature: signature, timestamp: now), answer.0 == 200 else { return }
                    if await acknowledged.add(String(900_000 + index)) == 100 { daemon.process.terminate() }
                }
            }
            for _ in 0..<8 { add() }
            while await group.next() != nil, next < total { add() }
        }
        let deadline = Date().addingTimeInterval(15)
        while daemon.process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!daemon.process.isRunning, "exits after SIGTERM")
        if daemon.process.isRunning { kill(daemon.process.processIdentifier, SIGKILL) }
        #expect(daemon.process.terminationStatus == 0)
        let acked = await acknowledged.ids
        #expect(acked.count >= 100)
        let store = try SQLiteStateStore(path: state.appendingPathComponent("lethe.sqlite"))
        let stored = try await store.queue.read { db in
            Set(try String.fetchAll(db, sql: "SELECT event_id FROM webhook_events WHERE connector = 'hubspot'"))
        }
        // Event ids are kept as keyed digests only.
        let missing = acked.filter { !stored.contains(store.webhookEventDigest(connector: "hubspot", eventID: $0)) }
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.count) of \(acked.count)")
    }
}

actor Acknowledged {
    private(set) var ids: Set<String> = []
    func add(_ id: String) -> Int {
        ids.insert(id)
        return ids.count
    }
}
