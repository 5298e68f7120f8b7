extension ConnectorTemplates {
    static func configuration(_ name: ConnectorName) -> GeneratedFile {
        let capabilities =
            switch name.kind {
            case .source: "[.source, .writeBack]"
            case .sink: "[.notices]"
            }
        return GeneratedFile(
            path: "\(name.folder)/\(name.name)Configuration.swift",
            contents: #"""
                import RetentionCore

                /// Settings of a `\#(name.configType)` connector. The spec is the one description of them:
                /// `lethe config validate`, `lethe connectors list` and the redaction of secrets derive from it.
                struct \#(name.name)Configuration: Sendable {
                    static let spec = ConnectorSpec(
                        type: "\#(name.configType)",
                        summary: "\#(name.name) (say in one sentence what this connector reads or delivers).",
                        capabilities: \#(capabilities),
                        fields: [
                            // One FieldSpec per setting; secrets come from the environment (${VARIABLE}):
                            // FieldSpec("url", .string, required: true, "the API's base URL"),
                            // FieldSpec("token", .string, required: true, secret: true, "the API token"),
                        ]
                    )

                    init(settings: ConfigNode) throws(ConfigError) {
                        try Self.spec.validate(settings)
                    }
                }

                """#)
    }

    static func error(_ name: ConnectorName) -> GeneratedFile {
        GeneratedFile(
            path: "\(name.folder)/\(name.name)Error.swift",
            contents: #"""
                public import RetentionCore

                /// A failure of the \#(name.name) connector. Say which failures are transient (a retry may help)
                /// and which permanent. Messages name the step, never a field value, an address or a secret.
                public struct \#(name.name)Error: ConnectorFailure, Equatable {
                    public var code: String
                    public var message: String
                    public var isTransient: Bool

                    public init(code: String, message: String, isTransient: Bool) {
                        self.code = code
                        self.message = message
                        self.isTransient = isTransient
                    }

                    /// A requirement the connector does not implement yet (permanent: a retry cannot help).
                    static func notImplemented(_ requirement: String) -> \#(name.name)Error {
                        \#(name.name)Error(
                            code: "\#(name.errorPrefix).not_implemented",
                            message: "\#(name.target).\(requirement) is not implemented yet (\#(name.folder)/\#(name.target).swift)",
                            isTransient: false)
                    }
                }

                """#)
    }

    static func readme(_ name: ConnectorName) -> GeneratedFile {
        let role =
            switch name.kind {
            case .source:
                "A source of \(name.name) records with write-back (deletes and erasures)."
            case .sink:
                "A notice sink that delivers extension notices through \(name.name)."
            }
        let example =
            switch name.kind {
            case .source: "contacts"
            case .sink: "notices"
            }
        return GeneratedFile(
            path: "\(name.folder)/README.md",
            contents: #"""
                # \#(name.name) connector (`type: \#(name.configType)`)

                \#(role)

                ## Settings
                | key | type | required | meaning |
                |---|---|---|---|
                | | | | (one row per `FieldSpec` in `\#(name.name)Configuration.spec`) |

                ```yaml
                connectors:
                  - name: \#(example)
                    type: \#(name.configType)
                    settings: {}
                ```

                ## Guarantees
                - (what the conformance suite checks, and what this connector adds: idempotency, what is
                  transient, what never reaches a log)

                ## Run it locally
                `swift test --filter \#(name.testTarget)` runs the conformance suite; each failing case names
                the check that does not hold yet. Then point a connector at a sandbox and run
                `lethe connectors test` and `lethe sync --dry-run`.

                """#)
    }
}
