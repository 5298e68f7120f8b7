import RetentionCore
import Yams

/// Turns a composed Yams node into a `ConfigNode`: every node gets a `SourceLocation` and a dotted
/// key path, and scalar values get `${VAR}` substitution.
///
/// The location of a mapping value is the line of its key, so that errors read
/// `file:line: key: problem` with the line the user sees the key on. Plain `~`, `null` and empty
/// scalars become `.null`; keys are never substituted.
///
/// Yams has already replaced every YAML alias by the node it names, so a few aliases of aliases can
/// stand for billions of nodes: one file builds at most `maximumValues` nodes and `maximumText` bytes
/// of scalars (`config.too_large` beyond), far more than any configuration or manifest holds.
struct ConfigTreeBuilder {
    /// The file name shown in locations, as the caller gave it.
    let file: String
    let substitution: VariableSubstitution

    static let maximumValues = 100_000
    static let maximumText = 16 << 20
    private var values = 0
    private var text = 0

    init(file: String, substitution: VariableSubstitution) {
        self.file = file
        self.substitution = substitution
    }

    private static let nullLiterals: Set<String> = ["", "~", "null", "Null", "NULL"]

    func location(_ mark: Mark?) -> SourceLocation? {
        mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) }
    }

    mutating func build(_ node: Node, keyPath: String, location: SourceLocation?) throws(ConfigError) -> ConfigNode {
        values += 1
        if case .scalar(let scalar) = node { text += scalar.string.utf8.count }
        guard values <= Self.maximumValues, text <= Self.maximumText else {
            throw ConfigError(
                code: "config.too_large", location: location, key: keyPath,
                problem: "the file stands for more than \(Self.maximumValues) values or \(Self.maximumText >> 20) MiB of text "
                    + "once its YAML aliases are expanded")
        }
        switch node {
        case .scalar(let scalar):
            return try buildScalar(scalar, keyPath: keyPath, location: location)
        case .sequence(let sequence):
            var items: [ConfigNode] = []
            for (index, item) in sequence.enumerated() {
                items.append(
                    try build(item, keyPath: "\(keyPath)[\(index)]", location: self.location(item.mark) ?? location))
            }
            return ConfigNode(value: .sequence(items), location: location, keyPath: keyPath)
        case .mapping(let mapping):
            var entries: [(key: String, node: ConfigNode)] = []
            for (keyNode, valueNode) in mapping {
                let keyLocation = self.location(keyNode.mark) ?? location
                guard case .scalar(let keyScalar) = keyNode else {
                    throw ConfigError(
                        code: "config.type", location: keyLocation, key: keyPath,
                        problem: "mapping keys must be plain text"
                    )
                }
                let key = keyScalar.string
                let childPath = keyPath.isEmpty ? key : "\(keyPath).\(key)"
                entries.append((key, try build(valueNode, keyPath: childPath, location: keyLocation)))
            }
            return ConfigNode(value: .mapping(entries), location: location, keyPath: keyPath)
        case .alias:
            throw ConfigError(
                code: "config.type", location: location, key: keyPath, problem: "YAML aliases are not supported here")
        }
    }

    private func buildScalar(_ scalar: Node.Scalar, keyPath: String, location: SourceLocation?) throws(ConfigError)
        -> ConfigNode
    {
        if scalar.style == .plain && Self.nullLiterals.contains(scalar.string) {
            return ConfigNode(value: .null, location: location, keyPath: keyPath)
        }
        do {
            switch try substitution.expand(scalar.string) {
            case .text(let text):
                return ConfigNode(value: .scalar(text), location: location, keyPath: keyPath)
            case .unset(let variable):
                return ConfigNode(value: .unresolved(variable: variable), location: location, keyPath: keyPath)
            }
        } catch {
            throw ConfigError(
                code: "config.malformed_variable", location: location, key: keyPath, problem: error.problem)
        }
    }
}
