import RetentionTesting
import Foundation
@testable import RESTCRMConnector
import RetentionCore
import Testing

/// Log lines captured from a client, to assert on what reached them.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(level: LogLevel, message: String, metadata: [String: String])] = []

    var function: LogFunction {
        { [self] level, message, metadata in
            lock.lock()
            lines.append((level, message, metadata))
            lock.unlock()
        }
    }

    var entries: [(level: LogLevel, message: String, metadata: [String: String])] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    /// Every message and metadata value as one text, for "never contains" checks.
    var text: String {
        entries.map { "\($0.message) \($0.metadata.values.sorted().joined(separator: " "))" }.joined(separator: "\n")
    }
}

/// A manifest root built from `TestYAML`, plus lists (which `TestYAML` cannot write) at dotted paths.
func manifestNode(_ yaml: TestYAML, lists: [String: [TestYAML]] = [:]) -> ConfigNode {
    var root = yaml.node(keyPath: "manifest")
    for (path, items) in lists.sorted(by: { $0.key < $1.key }) {
        root = inserting(items, at: path.split(separator: ".").map(String.init), into: root)
    }
    return root
}

private func inserting(_ items: [TestYAML], at path: [String], into node: ConfigNode) -> ConfigNode {
    guard let key = path.first, case .mapping(var entries) = node.value else { return node }
    let keyPath = node.keyPath.isEmpty ? key : "\(node.keyPath).\(key)"
    let line = (node.location?.line ?? 0) + 100
    let child: ConfigNode
    if path.count == 1 {
        let built = items.enumerated().map { index, item in
            item.node(keyPath: "\(keyPath)[\(index)]", firstLine: line + index * 10)
        }
        child = ConfigNode(value: .sequence(built), location: SourceLocation(file: "test.yaml", line: line), keyPath: keyPath)
    } else {
        let existing = entries.first { $0.key == key }?.node
            ?? ConfigNode(value: .mapping([]), location: SourceLocation(file: "test.yaml", line: line), keyPath: keyPath)
        child = inserting(items, at: Array(path.dropFirst()), into: existing)
    }
    entries.removeAll { $0.key == key }
    entries.append((key, child))
    return ConfigNode(value: .mapping(entries), location: node.location, keyPath: node.keyPath)
}

/// Fast retries for tests: 1–5 ms backoff.
let fastRetries: TestYAML = ["retries": "4", "backoff": ["initial": "1ms", "max": "5ms"]]

/// Runs `body` with a server answering through `handler` and a client configured by `manifest`
/// (its `baseURL` is set to the server's); shuts both down.
func withServer(
    _ handler: @escaping ScriptedHTTPServer.Handler,
    manifest: @escaping @Sendable (_ baseURL: String) -> ConfigNode,
    _ body: (ScriptedHTTPServer, RESTHTTPClient, CapturedLog) async throws -> Void
) async throws {
    let server = try await ScriptedHTTPServer.start(handler)
    let log = CapturedLog()
    do {
        let configuration = try HTTPConfiguration(config: manifest(server.baseURL))
        let client = try RESTHTTPClient(configuration: configuration, log: log.function)
        do {
            try await body(server, client, log)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    } catch {
        try await server.stop()
        throw error
    }
    try await server.stop()
}
