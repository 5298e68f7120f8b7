public import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A fake CRM (`Tests/FakeCRMs/fakecrm.py`) on loopback, seeded with records, and its control API
/// (`/_fake/…`: records, stats, faults, changes made behind the connector's back).
public final class FakeCRMServer: @unchecked Sendable {
    public let server: LoopbackProcess
    public let provider: String
    public var port: Int { server.port }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `repository` is the package's folder; `records` are the neutral seed records the fake reads.
    public init(provider: String, seed records: [[String: Any]], repository: URL, arguments: [String] = []) throws {
        self.provider = provider
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("fakecrm-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: records).write(to: data)
        let script = repository.appendingPathComponent("Tests/FakeCRMs/fakecrm.py")
        server = try LoopbackProcess(python: [script.path, "--provider", provider, "--port", "0", "--data", data.path] + arguments)
    }

    public func stop() { server.stop() }

    /// A control call the fake refused (status 300 or more).
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// Calls the control API with a JSON body; returns the decoded answer (nil when empty).
    @discardableResult
    public func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status < 300 else { throw Refused(description: "\(method) \(path) answered \(status)") }
        return data.isEmpty ? nil : try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }
}
