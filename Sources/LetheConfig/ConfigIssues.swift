import Foundation
import RetentionCore

/// Collects `ConfigError`s while decoding, so that one pass reports every problem it can find.
struct ConfigIssues {
    private(set) var errors: [ConfigError] = []

    mutating func add(_ error: ConfigError) {
        errors.append(error)
    }

    /// Runs `body`; on error records it and returns nil.
    mutating func attempt<T>(_ body: () throws(ConfigError) -> T) -> T? {
        do {
            return try body()
        } catch {
            errors.append(error)
            return nil
        }
    }
}

/// A mapping node being decoded: reports unknown keys (all of them) when opened, and missing keys
/// with the mapping's location and the full key path.
struct MappingReader {
    let node: ConfigNode

    /// Opens `node` as a mapping with the given keys. A node that is not a mapping is reported and
    /// read as empty.
    init(_ node: ConfigNode, allowed: Set<String>, issues: inout ConfigIssues) {
        self.node = node
        guard let entries = issues.attempt({ () throws(ConfigError) in try node.entries() }) else { return }
        let known = allowed.sorted().joined(separator: ", ")
        for (key, child) in entries where !allowed.contains(key) {
            issues.add(
                ConfigError(
                    code: "config.unknown_key", location: child.location ?? node.location,
                    key: path(key), problem: "unknown key (known: \(known))"
                )
            )
        }
    }

    func path(_ key: String) -> String {
        node.keyPath.isEmpty ? key : "\(node.keyPath).\(key)"
    }

    /// The value of `key`, or nil when it is absent or null.
    func optional(_ key: String) -> ConfigNode? {
        guard let child = node[key], !child.isNull else { return nil }
        return child
    }

    /// The value of `key`; absent or null is `config.missing`.
    func required(_ key: String) throws(ConfigError) -> ConfigNode {
        if let child = optional(key) { return child }
        let location = node[key]?.location ?? node.location
        throw ConfigError(code: "config.missing", location: location, key: path(key), problem: "a value is required")
    }

    /// A required, non-blank text value.
    func text(_ key: String) throws(ConfigError) -> String {
        let child = try required(key)
        let value = try child.string()
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw child.error("config.empty", "must not be empty")
        }
        return value
    }

    /// An optional, non-blank text value.
    func optionalText(_ key: String) throws(ConfigError) -> String? {
        guard optional(key) != nil else { return nil }
        return try text(key)
    }
}
