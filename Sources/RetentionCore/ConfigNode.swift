import Foundation

/// Where a configuration value was written.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int = 1) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line)" }
}

/// A configuration error: names the file, line and key, and says what is wrong. Never shows the
/// value of a secret.
public struct ConfigError: LetheError, Equatable {
    public var code: String
    public var location: SourceLocation?
    public var key: String
    public var problem: String

    public var category: ErrorCategory { .config }
    public var message: String {
        let place = location.map { "\($0): " } ?? ""
        return key.isEmpty ? "\(place)\(problem)" : "\(place)\(key): \(problem)"
    }

    public init(code: String, location: SourceLocation?, key: String, problem: String) {
        self.code = code
        self.location = location
        self.key = key
        self.problem = problem
    }
}

/// A parsed configuration tree with the location and key path of every node, so that connectors
/// and policies can report errors as `file:line: key: problem`.
///
/// `${VAR}` substitution happens when the tree is loaded; a variable that is unset and has no default
/// leaves the node `.unresolved`, which is an error only when something reads it.
public struct ConfigNode: Sendable {
    public indirect enum Value: Sendable {
        case scalar(String)
        case unresolved(variable: String)
        case null
        case mapping([(key: String, node: ConfigNode)])
        case sequence([ConfigNode])
    }

    public var value: Value
    public var location: SourceLocation?

    /// The values of the tree without locations, in a stable form (keys in written order): a
    /// fingerprint of what the settings say, not of where they were written.
    public var canonicalText: String {
        switch value {
        case .scalar(let text): return "s" + String(text.utf8.count) + ":" + text
        case .unresolved(let variable): return "u:" + variable
        case .null: return "n"
        case .mapping(let entries): return "{" + entries.map { "\($0.key)=\($0.node.canonicalText)" }.joined(separator: ",") + "}"
        case .sequence(let nodes): return "[" + nodes.map(\.canonicalText).joined(separator: ",") + "]"
        }
    }
    /// The dotted path from the root (`connectors[0].settings.path`).
    public var keyPath: String

    public init(value: Value, location: SourceLocation?, keyPath: String) {
        self.value = value
        self.location = location
        self.keyPath = keyPath
    }

    public func error(_ code: String, _ problem: String) -> ConfigError {
        ConfigError(code: code, location: location, key: keyPath, problem: problem)
    }

    /// The entries of a mapping (empty for null), or an error.
    public func entries() throws(ConfigError) -> [(key: String, node: ConfigNode)] {
        switch value {
        case .mapping(let entries): return entries
        case .null: return []
        default: throw error("config.type", "expected a mapping")
        }
    }

    public func items() throws(ConfigError) -> [ConfigNode] {
        switch value {
        case .sequence(let items): return items
        case .null: return []
        default: throw error("config.type", "expected a list")
        }
    }

    public subscript(key: String) -> ConfigNode? {
        guard case .mapping(let entries) = value else { return nil }
        return entries.first { $0.key == key }?.node
    }

    /// The text of a scalar; an unset variable or a non-scalar is an error.
    public func string() throws(ConfigError) -> String {
        switch value {
        case .scalar(let text): return text
        case .unresolved(let variable):
            throw error("config.unset_variable", "environment variable \(variable) is not set and has no default")
        case .null: throw error("config.missing", "a value is required")
        default: throw error("config.type", "expected a single value")
        }
    }

    public func int() throws(ConfigError) -> Int {
        let text = try string()
        guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
            throw error("config.type", "expected a whole number, found '\(text.prefix(40))'")
        }
        return number
    }

    public func double() throws(ConfigError) -> Double {
        let text = try string()
        guard let number = Double(text.trimmingCharacters(in: .whitespaces)), number.isFinite else {
            throw error("config.type", "expected a number, found '\(text.prefix(40))'")
        }
        return number
    }

    public func bool() throws(ConfigError) -> Bool {
        let text = try string()
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error("config.type", "expected true or false, found '\(text.prefix(40))'")
        }
    }

    public func period() throws(ConfigError) -> Period {
        let text = try string()
        guard let period = Period(parsing: text) else {
            throw error("config.period", "expected a period such as 5y, 36m or 90d (at most 1000y), found '\(text.prefix(40))'")
        }
        return period
    }

    /// A mapping of scalars, as a dictionary.
    public func stringMap() throws(ConfigError) -> [String: String] {
        var map: [String: String] = [:]
        for (key, node) in try entries() { map[key] = try node.string() }
        return map
    }

    /// Checks that a mapping has only the given keys; names the first unknown one.
    public func rejectUnknownKeys(allowed: Set<String>) throws(ConfigError) {
        for (key, node) in try entries() where !allowed.contains(key) {
            let known = allowed.sorted().joined(separator: ", ")
            throw ConfigError(
                code: "config.unknown_key",
                location: node.location ?? location,
                key: keyPath.isEmpty ? key : "\(keyPath).\(key)",
                problem: "unknown key (known: \(known))"
            )
        }
    }

    public var isNull: Bool {
        if case .null = value { return true }
        return false
    }
}
