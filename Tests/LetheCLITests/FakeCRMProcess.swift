import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A fake CRM (Tests/FakeCRMs/fakecrm.py) running on loopback for one test.
final class FakeCRMProcess: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let port: Int
    let provider: String

    var baseURL: String { "http://127.0.0.1:\(port)" }

    init(provider: String, seed records: [[String: Any]], arguments: [String] = []) throws {
        self.provider = provider
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("fakecrm-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: records).write(to: data)
        let script = CLIHarness.repository.appendingPathComponent("Tests/FakeCRMs/fakecrm.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--provider", provider, "--port", "0", "--data", data.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let found = text.split(separator: "\n").first(where: { $0.hasPrefix("LISTENING ") }), let port = Int(found.dropFirst(10)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.port = port
    }

    deinit { stop() }

    /// Closes the fake's stdin (it exits on EOF), then SIGTERM, then SIGKILL. Polls instead of
    /// `waitUntilExit`, which spins off the main thread on Linux.
    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

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
