import Foundation
public import RetentionCore

/// One captured log call.
public struct LogEntry: Sendable, Equatable {
    public var level: LogLevel
    public var message: String
    public var metadata: [String: String]

    public init(level: LogLevel, message: String, metadata: [String: String]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

/// Captures everything logged through `log`, safely from any thread, so tests can assert what
/// was (and what was never) logged.
public final class LogCapture: @unchecked Sendable {
    // All mutable state is guarded by `lock`.
    private let lock = NSLock()
    private var captured: [LogEntry] = []

    public init() {}

    /// A `LogFunction` that appends to this capture.
    public var log: LogFunction {
        { [self] level, message, metadata in
            append(LogEntry(level: level, message: message, metadata: metadata))
        }
    }

    /// Every entry so far, in call order.
    public var entries: [LogEntry] {
        lock.withLock { captured }
    }

    public func entries(atLeast level: LogLevel) -> [LogEntry] {
        entries.filter { $0.level >= level }
    }

    public func removeAll() {
        lock.withLock { captured.removeAll() }
    }

    /// True when any message, metadata key or metadata value contains any of `needles`
    /// (plain substring match; empty needles are ignored). Use it to prove that no email, name,
    /// phone or field value reached the logs: `#expect(!logs.containsAny(of: emails))`.
    public func containsAny(of needles: [String]) -> Bool {
        let needles = needles.filter { !$0.isEmpty }
        return entries.contains { entry in
            let texts = [entry.message] + entry.metadata.keys + entry.metadata.values
            return texts.contains { text in needles.contains { text.contains($0) } }
        }
    }

    private func append(_ entry: LogEntry) {
        lock.withLock { captured.append(entry) }
    }
}
