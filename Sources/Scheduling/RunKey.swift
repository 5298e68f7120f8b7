public import Foundation

/// The two kinds of scheduled run. A full sweep reads every record of the connector; an
/// incremental pull reads what changed. A full run covers an incremental one.
public enum RunKind: String, Sendable, Hashable, CaseIterable, Codable {
    case full
    case incremental
}

/// One schedule of one connector: the unit whose last run the daemon records.
public struct RunKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var connector: String
    public var kind: RunKind

    public init(connector: String, kind: RunKind) {
        self.connector = connector
        self.kind = kind
    }

    public var description: String { "\(connector)/\(kind.rawValue)" }
}

/// A run the daemon should start now.
public struct DueRun: Sendable, Hashable, CustomStringConvertible {
    public var connector: String
    public var kind: RunKind
    /// The latest scheduled time this run stands for. Several missed times collapse into this one
    /// run; when the key never ran and nothing was scheduled within the search horizon, `now`.
    public var scheduledAt: Date
    /// The run is late: its scheduled minute is over (the daemon was down, busy or asleep past it),
    /// or the key has never run.
    public var isCatchUp: Bool

    public init(connector: String, kind: RunKind, scheduledAt: Date, isCatchUp: Bool) {
        self.connector = connector
        self.kind = kind
        self.scheduledAt = scheduledAt
        self.isCatchUp = isCatchUp
    }

    public var key: RunKey { RunKey(connector: connector, kind: kind) }

    public var description: String {
        "\(key) scheduled \(scheduledAt.formatted(.iso8601))\(isCatchUp ? " (catch-up)" : "")"
    }
}
