import CSVConnector
import Foundation
import RetentionCore
import Testing

/// A fresh folder under the system temporary directory, removed when the value is released.
final class TemporaryFolder: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-csv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes `bytes` to a file in the folder and returns its URL.
    func file(_ name: String, _ bytes: [UInt8]) throws -> URL {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file
    }

    func file(_ name: String, _ text: String) throws -> URL {
        try file(name, Array(text.utf8))
    }

    /// The names of the files in the folder, hidden ones included.
    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }
}

/// Log entries captured from a connector, to check that no personal data is logged.
final class LogRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var function: LogFunction {
        { [self] level, message, metadata in
            lock.withLock {
                lines.append("\(level) \(message) \(metadata.sorted { $0.key < $1.key })")
            }
        }
    }

    var entries: [String] { lock.withLock { lines } }
}

func bytes(of url: URL) throws -> [UInt8] {
    Array(try Data(contentsOf: url))
}

func cp949(_ text: String) throws -> [UInt8] {
    let data = try #require(text.data(using: String.Encoding(rawValue: 0x8000_0422)))
    return Array(data)
}

func connector(
    _ url: URL, encoding: CSVEncoding = .auto, delimiter: Character = ",", columns: [String: String] = [:],
    idColumn: String = "id", log: LogRecorder? = nil
) -> CSVConnector {
    let silent: LogFunction = { _, _, _ in }
    let function = log.map(\.function) ?? silent
    let configuration = CSVConnectorConfiguration(
        path: url, encoding: encoding, delimiter: delimiter, columns: columns, idColumn: idColumn)
    return CSVConnector(configuration: configuration, log: function)
}

func pullAll(_ source: some RecordSource) async throws -> [SourceRecord] {
    var records: [SourceRecord] = []
    for try await batch in source.pull(PullRequest()) { records += batch.records }
    return records
}

func delete(_ id: String) -> WriteOperation {
    WriteOperation(id: "op-delete-\(id)", kind: .delete, recordID: id)
}

func erase(_ id: String, _ fields: [String: String]) -> WriteOperation {
    WriteOperation(
        id: "op-erase-\(id)", kind: .eraseFields, recordID: id,
        fields: fields.sorted { $0.key < $1.key }.map { ErasedField(field: $0.key, value: $0.value) })
}

/// Outcomes by name: `applied`, `alreadyGone`, `failed(code)`.
func names(_ outcomes: [OperationOutcome]) -> [String] {
    outcomes.map { outcome in
        switch outcome {
        case .applied, .deleted: "applied"
        case .alreadyGone: "alreadyGone"
        case .failed(let error): "failed(\(error.code))"
        }
    }
}

/// The failure of a `.failed` outcome.
func failure(_ outcome: OperationOutcome) -> (any ConnectorFailure)? {
    if case .failed(let error) = outcome { return error }
    return nil
}

/// The inode of a file: a rewrite (rename) changes it.
func inode(_ url: URL) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    return try #require((attributes[.systemFileNumber] as? NSNumber)?.intValue)
}

/// The error a call throws, as a `CSVConnectorError`.
func csvError(_ body: () async throws -> Void) async -> CSVConnectorError? {
    do {
        try await body()
        return nil
    } catch {
        return error as? CSVConnectorError
    }
}
