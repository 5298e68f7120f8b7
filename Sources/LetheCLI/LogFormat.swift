import Foundation
import Logging
import RetentionCore

/// How log lines are written to stderr: `text` (`level: message key=value …`, the default) or `json`
/// (one object per line: `ts`, `level`, `message`, then the metadata), chosen with
/// `LETHE_LOG_FORMAT`. Lethe's messages and metadata never carry personal data: counts, codes,
/// connector names and pseudonymous references only.
enum LogFormat: String {
    case text, json

    init(environment: [String: String]) {
        self = LogFormat(rawValue: (environment["LETHE_LOG_FORMAT"] ?? "").lowercased()) ?? .text
    }

    func line(level: String, message: String, metadata: [String: String], at date: Date = Date()) -> String {
        switch self {
        case .text:
            let fields = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "\(level): \(message)\(fields.isEmpty ? "" : " " + fields)"
        case .json:
            var object: [String: String] = metadata
            object["ts"] = date.formatted(.iso8601)
            object["level"] = level
            object["message"] = message
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// The `LogFunction` connectors and the coordinator use.
    func function(output: OutputSink, threshold: LogLevel) -> LogFunction {
        { level, message, metadata in
            guard level >= threshold else { return }
            output.err(self.line(level: level.rawValue, message: message, metadata: metadata))
        }
    }
}

/// swift-log's handler for libraries (Hummingbird, service-lifecycle): the same lines as Lethe's own.
struct LetheLogHandler: LogHandler {
    let label: String
    let output: OutputSink
    let format: LogFormat
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
        fields["logger"] = label
        output.err(format.line(level: event.level.rawValue, message: "\(event.message)", metadata: fields))
    }
}
