import FileArchiveSink
import Foundation
import RetentionCore

/// Log entries captured from a connector context.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(level: LogLevel, message: String, metadata: [String: String])] = []

    var entries: [(level: LogLevel, message: String, metadata: [String: String])] {
        lock.withLock { stored }
    }

    /// Every message and metadata value, joined, to search for personal data.
    var allText: String {
        entries.map { ([$0.message] + $0.metadata.keys + $0.metadata.values).joined(separator: " ") }.joined(
            separator: "\n")
    }

    var function: LogFunction {
        { level, message, metadata in self.lock.withLock { self.stored.append((level, message, metadata)) } }
    }
}

enum ArchiveFixtures {
    /// A random 32-byte key, base64.
    static func newKey() -> String {
        Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// The connector's settings; `extra` adds keys (`encrypt`, `previousKeys`, `generateKey`, `keep`).
    static func settings(directory: String, key: String? = nil, extra: [(String, String)] = []) -> ConfigNode {
        var entries = [(key: "directory", node: scalar(directory, key: "directory", line: 5))]
        if let key { entries.append((key: "key", node: scalar(key, key: "key", line: 6))) }
        for (index, (name, value)) in extra.enumerated() {
            entries.append((key: name, node: scalar(value, key: name, line: 7 + index)))
        }
        return ConfigNode(
            value: .mapping(entries), location: SourceLocation(file: "lethe.yaml", line: 4),
            keyPath: "connectors[2].settings")
    }

    static func scalar(_ text: String, key: String, line: Int) -> ConfigNode {
        ConfigNode(
            value: .scalar(text), location: SourceLocation(file: "lethe.yaml", line: line),
            keyPath: "connectors[2].settings.\(key)")
    }

    static let now = Date(timeIntervalSince1970: 1_795_921_200)

    static func context(
        _ logs: LogCapture = LogCapture(), state: URL = FileManager.default.temporaryDirectory, now: Date = now
    ) -> ConnectorContext {
        ConnectorContext(
            name: "archive", clock: FixedClock(now), log: logs.function, stateDirectory: state,
            configDirectory: FileManager.default.temporaryDirectory
        )
    }

    /// A sink sealing with `key`; without a key, one written explicitly with `encrypt: false`.
    static func sink(
        directory: URL, key: String? = nil, extra: [(String, String)] = [], logs: LogCapture = LogCapture()
    ) throws -> any ArchiveSink {
        let extra = key == nil && !extra.contains(where: { $0.0 == "encrypt" }) ? extra + [("encrypt", "false")] : extra
        guard
            let sink = try ConnectorFactory.fileArchive.make(
                settings(directory: directory.path, key: key, extra: extra), context(logs)
            ).archiveSink
        else {
            throw GenericLetheError(
                code: "test.no_sink", category: .permanent, message: "the factory built no archive sink")
        }
        return sink
    }

    /// 2026-11-29T03:00:00Z plus `offset` seconds.
    static func entry(_ number: Int, connector: String = "contacts", offset: TimeInterval = 0) -> ArchiveEntry {
        ArchiveEntry(
            operationID: "op-\(String(repeating: "0", count: 20))\(1000 + number)",
            connector: connector,
            recordID: "rec-\(number)",
            reference: "ref-\(number)",
            fields: [
                "name": "홍길동\(number)", "email": "hong\(number)@example.com", "phone": "010-1234-\(5600 + number)",
            ],
            rules: ["payment-records"],
            archivedAt: Date(timeIntervalSince1970: 1_795_921_200 + offset)
        )
    }

    static func withFolder(_ body: (URL) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("filearchive-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder)
    }

    static func lines(_ url: URL) throws -> [String] {
        try String(decoding: Data(contentsOf: url), as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
