import RetentionCore

/// `operators:` and `approval:`.
extension LetheConfigurationDecoder {
    static let operatorKeys: Set<String> = ["name", "tokenHash"]
    static let approvalKeys: Set<String> = ["twoPersonAbove"]

    /// Each operator's `name` (letters, digits, `.`, `-`, `_`; unique; not `admin`) and `tokenHash`
    /// (`sha256:` and 64 hex digits).
    func decodeOperators(_ node: ConfigNode, issues: inout ConfigIssues) -> [OperatorConfiguration] {
        guard let items = issues.attempt({ () throws(ConfigError) in try node.items() }) else { return [] }
        var operators: [OperatorConfiguration] = []
        var firstByName: [String: String] = [:]
        for item in items {
            let reader = MappingReader(item, allowed: Self.operatorKeys, issues: &issues)
            let name = issues.attempt { () throws(ConfigError) in try operatorName(reader) }
            let digest = issues.attempt { () throws(ConfigError) -> [UInt8] in
                let hash = try reader.required("tokenHash")
                guard let digest = OperatorConfiguration.digest(parsing: try hash.string()) else {
                    throw hash.error(
                        "config.token_hash",
                        "must be sha256: and 64 hex digits, the SHA-256 of the operator's token (printf %s \"$TOKEN\" | sha256sum)")
                }
                return digest
            }
            guard let name, let digest else { continue }
            let nameNode = reader.optional("name") ?? item
            if let earlier = firstByName[name] {
                issues.add(nameNode.error("config.duplicate_operator", "operator name '\(name)' is used twice\(earlier)"))
                continue
            }
            firstByName[name] = item.location.map { " (first at \($0))" } ?? ""
            operators.append(OperatorConfiguration(name: name, tokenDigest: digest, location: item.location))
        }
        return operators
    }

    private func operatorName(_ reader: MappingReader) throws(ConfigError) -> String {
        let name = try reader.text("name")
        let allowed = name.count <= 64 && name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == ".")
        }
        guard allowed else {
            throw try reader.required("name").error(
                "config.invalid_name", "use at most 64 letters, digits, '.', '-' and '_' in operator names (a role or login, not a person's full name)")
        }
        guard name != OperatorConfiguration.adminName else {
            throw try reader.required("name").error(
                "config.reserved_name", "'admin' is the holder of LETHE_ADMIN_TOKEN; give this operator another name")
        }
        return name
    }

    func decodeApproval(_ node: ConfigNode, issues: inout ConfigIssues) -> ApprovalRules {
        let reader = MappingReader(node, allowed: Self.approvalKeys, issues: &issues)
        var rules = ApprovalRules()
        if let above = reader.optional("twoPersonAbove") {
            _ = issues.attempt { () throws(ConfigError) in
                let value = try above.int()
                guard value >= 0 else { throw above.error("config.range", "must be 0 or more (0: every batch needs two operators)") }
                rules.twoPersonAbove = value
            }
        }
        return rules
    }
}
