public import RetentionCore

/// A hand-built configuration tree, written like block YAML: keys keep their order and each key or list item
/// gets the next line number, as if each were on its own line of `file`.
public indirect enum TestYAML: Sendable, ExpressibleByStringLiteral, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral,
    ExpressibleByNilLiteral
{
    case scalar(String)
    case mapping([(String, TestYAML)])
    case sequence([TestYAML])
    case unresolved(String)
    case null

    public init(stringLiteral value: String) { self = .scalar(value) }
    public init(dictionaryLiteral elements: (String, TestYAML)...) { self = .mapping(elements) }
    public init(arrayLiteral elements: TestYAML...) { self = .sequence(elements) }
    public init(nilLiteral: ()) { self = .null }

    /// The tree, its root at `firstLine` (the key introducing it) and its entries on the following lines.
    public func node(file: String = "test.yaml", keyPath: String = "mapping", firstLine: Int = 1) -> ConfigNode {
        var line = firstLine
        return build(file: file, keyPath: keyPath, line: &line)
    }

    private func build(file: String, keyPath: String, line: inout Int) -> ConfigNode {
        let location = SourceLocation(file: file, line: line)
        switch self {
        case .scalar(let text): return ConfigNode(value: .scalar(text), location: location, keyPath: keyPath)
        case .unresolved(let name): return ConfigNode(value: .unresolved(variable: name), location: location, keyPath: keyPath)
        case .null: return ConfigNode(value: .null, location: location, keyPath: keyPath)
        case .mapping(let entries):
            var built: [(key: String, node: ConfigNode)] = []
            for (key, value) in entries {
                line += 1
                built.append((key, value.build(file: file, keyPath: "\(keyPath).\(key)", line: &line)))
            }
            return ConfigNode(value: .mapping(built), location: location, keyPath: keyPath)
        case .sequence(let items):
            var built: [ConfigNode] = []
            for (index, item) in items.enumerated() {
                line += 1
                built.append(item.build(file: file, keyPath: "\(keyPath)[\(index)]", line: &line))
            }
            return ConfigNode(value: .sequence(built), location: location, keyPath: keyPath)
        }
    }
}
