public import Foundation
public import RetentionCore

/// When a connector runs on its own: an optional cron expression for a full sweep and one for an
/// incremental pull, read in one time zone.
///
/// Decoded from a connector's `schedule:` mapping:
///
/// ```yaml
/// schedule:
///   full: "0 3 * * *"            # optional
///   incremental: "*/15 * * * *"  # optional
///   zone: Asia/Seoul             # optional; defaults to the policy's zone
/// ```
///
/// (In YAML, an expression that begins with `*` must be quoted.)
public struct ConnectorSchedule: Sendable, Hashable {
    public var full: CronExpression?
    public var incremental: CronExpression?
    /// The zone whose wall clock the expressions are read in.
    public var zone: TimeZone

    public init(full: CronExpression? = nil, incremental: CronExpression? = nil, zone: TimeZone) {
        self.full = full
        self.incremental = incremental
        self.zone = zone
    }

    /// Reads a `schedule:` mapping. Errors carry the file, line and key of the offending value
    /// (`schedule.full`, `schedule.zone`); a mapping with neither `full` nor `incremental` is an
    /// error, since it would schedule nothing.
    public init(config: ConfigNode, defaultZone: TimeZone) throws(ConfigError) {
        try config.rejectUnknownKeys(allowed: ["full", "incremental", "zone"])
        full = try Self.expression(config["full"])
        incremental = try Self.expression(config["incremental"])
        zone = defaultZone
        if let node = config["zone"] {
            let identifier = try node.string()
            guard let named = TimeZone(identifier: identifier) else {
                throw node.error(
                    "config.zone", "unknown time zone '\(identifier.prefix(40))' (use an IANA name such as Asia/Seoul)")
            }
            zone = named
        }
        if full == nil, incremental == nil {
            throw config.error("config.missing", "a schedule needs full, incremental or both")
        }
    }

    /// The expression for one kind of run, if that kind is scheduled.
    public func expression(for kind: RunKind) -> CronExpression? {
        switch kind {
        case .full: full
        case .incremental: incremental
        }
    }

    private static func expression(_ node: ConfigNode?) throws(ConfigError) -> CronExpression? {
        guard let node else { return nil }
        let text = try node.string()
        do {
            return try CronExpression(text)
        } catch {
            throw node.error("config.cron", "invalid cron expression '\(text.prefix(40))': \(error.message)")
        }
    }
}
