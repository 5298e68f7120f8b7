public import Foundation
public import RetentionCore
import Yams

/// Reads Lethe's YAML configuration.
///
/// The environment is injected (`ConfigLoader(environment: ProcessInfo.processInfo.environment)` in
/// the CLI, a literal dictionary in tests): the loader never reads the process environment itself.
/// Every error is a `ConfigError` naming the file, the line and the key; none contains a
/// configuration value that could be a secret.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// Parses `file` into a `ConfigNode` tree with locations (the path as given, line, column) and
    /// key paths (`connectors[0].settings.path`), `${VAR}` already substituted. An empty file is a
    /// `.null` root. YAML syntax errors and malformed `${` are `ConfigError`s with a line.
    public func loadTree(file: URL) throws(ConfigError) -> ConfigNode {
        try loadTree(text: Self.readText(file), name: Self.displayName(file))
    }

    /// Parses YAML `text` like `loadTree(file:)`, its locations naming it `name` (`pasted:3`).
    public func loadTree(text: String, name: String) throws(ConfigError) -> ConfigNode {
        var builder = ConfigTreeBuilder(file: name, substitution: VariableSubstitution(environment: environment))
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw Self.syntaxError(error, file: name, text: text)
        }
        guard let root else {
            return ConfigNode(value: .null, location: SourceLocation(file: name, line: 1), keyPath: "")
        }
        let location = builder.location(root.mark) ?? SourceLocation(file: name, line: 1)
        return try builder.build(root, keyPath: "", location: location)
    }

    /// Loads and checks a whole configuration: the main file, then every policy file it lists
    /// (relative paths against the main file's folder). Throws the first error; `diagnose` returns
    /// them all.
    public func load(file: URL) throws(ConfigError) -> LetheConfiguration {
        var issues = ConfigIssues()
        let configuration = load(file: file, issues: &issues)
        if let first = issues.errors.first { throw first }
        guard let configuration else {
            throw ConfigError(
                code: "config.invalid", location: nil, key: "", problem: "the configuration could not be read")
        }
        return configuration
    }

    /// Every error in the configuration, its policies and its connectors' settings (empty when all
    /// is well): load errors first (policy files before connectors), then `validateAll(registry:)`.
    /// For `lethe config validate`.
    public func diagnose(file: URL, registry: ConnectorRegistry) -> [ConfigError] {
        var issues = ConfigIssues()
        let configuration = load(file: file, issues: &issues)
        return issues.errors + (configuration?.validateAll(registry: registry) ?? [])
    }

    /// Loads one policy file (its root holds a single `policy:` mapping).
    public func loadPolicy(file: URL) throws(ConfigError) -> Policy {
        try policy(from: loadTree(file: file))
    }

    /// Loads a policy from YAML `text` (a root holding a single `policy:` mapping) with every check of
    /// `loadPolicy(file:)`; errors name `name` and the line (`pasted:3: policy.rules[0].keep: …`).
    public func loadPolicy(text: String, name: String) throws(ConfigError) -> Policy {
        try policy(from: loadTree(text: text, name: name))
    }

    private func policy(from tree: ConfigNode) throws(ConfigError) -> Policy {
        var issues = ConfigIssues()
        let policy = PolicyDecoder().decodeFile(tree, issues: &issues)
        if let first = issues.errors.first { throw first }
        guard let policy else {
            throw ConfigError(
                code: "config.invalid", location: tree.location, key: "policy", problem: "the policy could not be read")
        }
        return policy
    }

    func load(file: URL, issues: inout ConfigIssues) -> LetheConfiguration? {
        guard let tree = issues.attempt({ () throws(ConfigError) in try loadTree(file: file) }) else { return nil }
        return LetheConfigurationDecoder(loader: self, file: file).decode(tree, issues: &issues)
    }

    /// The path as the caller gave it (`config/lethe.yaml` stays relative), without a leading `./`.
    static func displayName(_ file: URL) -> String {
        let path = file.relativePath
        return path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    }

    static func readText(_ file: URL) throws(ConfigError) -> String {
        let name = displayName(file)
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw ConfigError(
                code: "config.not_found", location: nil, key: "",
                problem: "cannot read \(name): no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(
                code: "config.encoding", location: SourceLocation(file: name, line: 1), key: "",
                problem: "the file is not UTF-8")
        }
        return text
    }

    /// Maps a Yams error to a `ConfigError` with the line and column libyaml reported. The YAML text
    /// itself (which may hold secrets) is never quoted.
    static func syntaxError(_ error: any Error, file: String, text: String) -> ConfigError {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        func detail(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context else { return "YAML syntax error: \(problem)" }
            return "YAML syntax error: \(problem) (\(context.text) at line \(context.mark.line))"
        }
        guard let yaml = error as? YamlError else {
            return ConfigError(
                code: "config.syntax", location: SourceLocation(file: file, line: 1), key: "",
                problem: "YAML syntax error")
        }
        switch yaml {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return ConfigError(code: "config.syntax", location: at(mark), key: "", problem: detail(context, problem))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(
                code: "config.duplicate_key", location: at(context.mark), key: duplicates.joined(separator: ", "),
                problem: "the key appears more than once in the same mapping"
            )
        case .reader(let problem, let offset, _, _):
            let line = offset.map { offset in text.utf8.prefix(offset).count { $0 == UInt8(ascii: "\n") } + 1 } ?? 1
            return ConfigError(
                code: "config.syntax", location: SourceLocation(file: file, line: line), key: "",
                problem: "cannot read YAML: \(problem)")
        default:
            return ConfigError(
                code: "config.syntax", location: SourceLocation(file: file, line: 1), key: "",
                problem: "YAML syntax error")
        }
    }
}
