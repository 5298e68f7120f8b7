import Foundation
import RetentionTesting
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A fake CRM (Tests/FakeCRMs/fakecrm.py) running on loopback for one test.
final class FakeCRMProcess: @unchecked Sendable {
    let fake: FakeCRMServer
    var server: LoopbackProcess { fake.server }
    var provider: String { fake.provider }
    var port: Int { fake.port }

    var baseURL: String { fake.baseURL }

    init(provider: String, seed records: [[String: Any]], arguments: [String] = []) throws {
        fake = try FakeCRMServer(provider: provider, seed: records, repository: CLIHarness.repository, arguments: arguments)
    }

    func stop() { fake.stop() }

    // MARK: Control API

    func records() async throws -> [[String: Any]] {
        try await call("GET", "/_fake/records") as? [[String: Any]] ?? []
    }

    func stats() async throws -> [String: Any] {
        try await call("GET", "/_fake/stats") as? [String: Any] ?? [:]
    }

    func afterList(_ change: [String: Any]) async throws {
        _ = try await call("POST", "/_fake/after-list", change)
    }

    func faults(_ settings: [String: Any]) async throws {
        _ = try await call("POST", "/_fake/faults", settings)
    }

    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await fake.call(method, path, body)
    }
}
