import Foundation
import RetentionTesting
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A fake CRM (Tests/FakeCRMs/fakecrm.py) running on loopback for one test.
final class FakeCRMProcess: @unchecked Sendable {
    let server: LoopbackProcess
    let provider: String
    var port: Int { server.port }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(provider: String, seed records: [[String: Any]], arguments: [String] = []) throws {
        self.provider = provider
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("fakecrm-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: records).write(to: data)
        let script = CLIHarness.repository.appendingPathComponent("Tests/FakeCRMs/fakecrm.py")
        server = try LoopbackProcess(python: [script.path, "--provider", provider, "--port", "0", "--data", data.path] + arguments)
    }

    func stop() { server.stop() }

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
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, _) = try await URLSession.shared.data(for: request)
        return data.isEmpty ? nil : try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }
}
