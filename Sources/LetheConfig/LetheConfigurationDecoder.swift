import Foundation
import RetentionCore

/// Decodes the root of `lethe.yaml` into a `LetheConfiguration`, recording every error it finds and
/// carrying on with what it could read.
struct LetheConfigurationDecoder {
    let loader: ConfigLoader
    let file: URL

    static let rootKeys: Set<String> = ["version", "state", "policies", "mail", "archive", "connectors", "operators", "approval", "alerts"]
    static let connectorKeys: Set<String> = ["name", "type", "policy", "settings", "safety", "schedule", "webhook"]
    static let safetyKeys: Set<String> = ["maxDeletesPerRun", "maxDeleteFraction"]
    static let defaultStateDirectory = ".lethe"

    func decode(_ root: ConfigNode, issues: inout ConfigIssues) -> LetheConfiguration {
        let reader = MappingReader(root, allowed: Self.rootKeys, issues: &issues)
        let version = issues.attempt { () throws(ConfigError) in try decodeVersion(reader) } ?? 1
        let (state, stateURL) = decodeState(reader, issues: &issues)
        let before = issues.errors.count
        let policies = decodePolicies(reader, issues: &issues)
        // A policy file with errors may hold the policy a connector names: do not also report that.
        let policiesComplete = issues.errors.count == before
        let mail = reader.optional("mail").flatMap { decodeSink($0, allowsFrom: true, issues: &issues) }
        let archive = reader.optional("archive").flatMap { decodeSink($0, allowsFrom: false, issues: &issues) }
        let connectors = decodeConnectors(reader, policies: policies, checkPolicies: policiesComplete, issues: &issues)
        let operators = reader.optional("operators").map { decodeOperators($0, issues: &issues) } ?? []
        let approval = reader.optional("approval").map { decodeApproval($0, issues: &issues) } ?? ApprovalRules()
        var configuration = LetheConfiguration(
            file: file, version: version, stateDirectory: state, policies: policies,
            mail: mail, archive: archive, connectors: connectors, operators: operators, approval: approval, stateURL: stateURL
        )
        configuration.alerts = reader.optional("alerts").flatMap { decodeAlerts($0, mailNode: reader.optional("mail"), mail: mail, issues: &issues) }
        return configuration
    }

    private func decodeVersion(_ reader: MappingReader) throws(ConfigError) -> Int {
        let node = try reader.required("version")
        let version = try node.int()
        guard version == 1 else {
            throw node.error("config.version", "unsupported version \(version) (this build reads version 1)")
        }
        return version
    }

    /// `state.directory` and `state.url`, left unread; an absent directory means `.lethe`.
    private func decodeState(_ reader: MappingReader, issues: inout ConfigIssues) -> (directory: ConfigNode, url: ConfigNode?) {
        let fallback = ConfigNode(
            value: .scalar(Self.defaultStateDirectory), location: reader.node.location,
            keyPath: reader.path("state.directory"))
        guard let node = reader.optional("state") else { return (fallback, nil) }
        let state = MappingReader(node, allowed: ["directory", "url"], issues: &issues)
        return (state.optional("directory") ?? fallback, state.optional("url"))
    }

    private func decodePolicies(_ reader: MappingReader, issues: inout ConfigIssues) -> [String: Policy] {
        guard let list = issues.attempt({ () throws(ConfigError) in try reader.required("policies").items() }) else {
            return [:]
        }
        var policies: [String: Policy] = [:]
        var seen: [String: String] = [:]
        for item in list {
            guard let path = issues.attempt({ () throws(ConfigError) in try item.string() }) else { continue }
            let policyFile = PolicyCatalog.resolve(path, configuration: file)
            let tree: ConfigNode
            do {
                tree = try loader.loadTree(file: policyFile)
            } catch where error.code == "config.not_found" {
                issues.add(
                    item.error(
                        "config.not_found",
                        "cannot read policy file \(path) (relative paths start at the config file's folder)"))
                continue
            } catch {
                issues.add(error)
                continue
            }
            guard let policy = PolicyDecoder().decodeFile(tree, issues: &issues) else { continue }
            if let earlier = seen[policy.name] {
                issues.add(item.error("config.duplicate_policy", "policy '\(policy.name)' is defined twice\(earlier)"))
                continue
            }
            seen[policy.name] = item.location.map { " (also listed at \($0))" } ?? ""
            policies[policy.name] = policy
        }
        return policies
    }

    private func decodeSink(_ node: ConfigNode, allowsFrom: Bool, issues: inout ConfigIssues) -> SinkConfiguration? {
        let keys: Set<String> = allowsFrom ? ["type", "from", "settings", "transports"] : ["type", "settings"]
        let reader = MappingReader(node, allowed: keys, issues: &issues)
        guard var type = issues.attempt({ () throws(ConfigError) in try reader.text("type") }) else { return nil }
        let from =
            allowsFrom ? issues.attempt { () throws(ConfigError) in try reader.optionalText("from") } ?? nil : nil
        // `transports:` holds the settings of each mail transport; `type` (often from the environment,
        // LETHE_MAIL_TRANSPORT) picks one. Only the chosen one is read, so another's unset variables do not matter.
        var chosen = settings(reader)
        if let transports = reader.optional("transports") {
            guard let found = transports[type] ?? (type == "file" ? transports["file-mail"] : nil) else {
                let names = (try? transports.entries().map(\.key).joined(separator: ", ")) ?? ""
                issues.add(transports.error("config.unknown_transport", "no settings for transport '\(type)' (configured: \(names))"))
                return nil
            }
            chosen = found
        }
        // `mail.type: file` is the file outbox (`file-mail`).
        if allowsFrom, type == "file" { type = "file-mail" }
        var sink = SinkConfiguration(type: type, from: from, settings: chosen, location: node.location)
        sink.keyPath = node.keyPath
        sink.typeNode = reader.optional("type")
        return sink
    }

    /// `settings`, or an empty mapping at the owner's location when absent.
    private func settings(_ reader: MappingReader) -> ConfigNode {
        reader.optional("settings")
            ?? ConfigNode(value: .mapping([]), location: reader.node.location, keyPath: reader.path("settings"))
    }

    private func decodeConnectors(
        _ reader: MappingReader, policies: [String: Policy], checkPolicies: Bool, issues: inout ConfigIssues
    ) -> [ConnectorConfiguration] {
        guard let list = issues.attempt({ () throws(ConfigError) in try reader.required("connectors").items() }) else {
            return []
        }
        var connectors: [ConnectorConfiguration] = []
        var firstByName: [String: String] = [:]
        for item in list {
            guard let connector = decodeConnector(item, policies: checkPolicies ? policies : nil, issues: &issues)
            else { continue }
            if let earlier = firstByName[connector.name] {
                let nameNode = item["name"] ?? item
                issues.add(
                    nameNode.error(
                        "config.duplicate_connector", "connector name '\(connector.name)' is used twice\(earlier)"))
                continue
            }
            firstByName[connector.name] = connector.location.map { " (first at \($0))" } ?? ""
            connectors.append(connector)
        }
        return connectors
    }

    /// `policies` nil: policy names are not checked (a policy file failed to load).
    private func decodeConnector(_ node: ConfigNode, policies: [String: Policy]?, issues: inout ConfigIssues)
        -> ConnectorConfiguration?
    {
        let reader = MappingReader(node, allowed: Self.connectorKeys, issues: &issues)
        let name = issues.attempt { () throws(ConfigError) in try connectorName(reader) }
        let type = issues.attempt { () throws(ConfigError) in try reader.text("type") }
        let policy = issues.attempt { () throws(ConfigError) in try reader.text("policy") }
        if let policies, let policy, policies[policy] == nil, let node = reader.optional("policy") {
            let names = policies.keys.sorted().joined(separator: ", ")
            issues.add(
                node.error(
                    "config.unknown_policy", "no policy named '\(policy)' (loaded: \(names.isEmpty ? "none" : names))"))
        }
        let safety = reader.optional("safety").map { decodeSafety($0, issues: &issues) } ?? SafetyLimits()
        guard let name, let type, let policy else { return nil }
        var connector = ConnectorConfiguration(
            name: name, type: type, policy: policy, settings: settings(reader), safety: safety, location: node.location
        )
        connector.keyPath = node.keyPath
        connector.typeNode = reader.optional("type")
        connector.schedule = reader.optional("schedule")
        connector.webhook = reader.optional("webhook")
        return connector
    }

    private func connectorName(_ reader: MappingReader) throws(ConfigError) -> String {
        let name = try reader.text("name")
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
        }
        guard allowed else {
            throw try reader.required("name").error(
                "config.invalid_name", "use only letters, digits, - and _ in connector names")
        }
        return name
    }

    private func decodeSafety(_ node: ConfigNode, issues: inout ConfigIssues) -> SafetyLimits {
        let reader = MappingReader(node, allowed: Self.safetyKeys, issues: &issues)
        var limits = SafetyLimits()
        if let count = reader.optional("maxDeletesPerRun") {
            _ = issues.attempt { () throws(ConfigError) in
                let value = try count.int()
                guard value >= 0 else { throw count.error("config.range", "must be 0 or more") }
                limits.maxDeletesPerRun = value
            }
        }
        if let fraction = reader.optional("maxDeleteFraction") {
            _ = issues.attempt { () throws(ConfigError) in
                let value = try fraction.double()
                guard (0...1).contains(value) else { throw fraction.error("config.range", "must be between 0 and 1") }
                limits.maxDeleteFraction = value
            }
        }
        return limits
    }
}
