import Foundation
import RetentionCore

/// Connector factories that only carry a spec, for `validate(registry:)` tests.
enum FakeConnectors {
    struct NotBuildable: Error {}

    static func factory(_ type: String, _ capabilities: Set<ConnectorSpec.Capability>, _ fields: [FieldSpec])
        -> ConnectorFactory
    {
        ConnectorFactory(
            spec: ConnectorSpec(type: type, summary: "test \(type)", capabilities: capabilities, fields: fields)
        ) { _, _ in
            throw NotBuildable()
        }
    }

    /// `fake` (a source with a required `path` and an optional integer `batch`), `mailer` (notices)
    /// and `vault` (archive).
    static let registry = ConnectorRegistry([
        factory(
            "fake", [.source],
            [FieldSpec("path", .string, required: true, "file"), FieldSpec("batch", .integer, "rows per batch")]),
        factory("mailer", [.notices], [FieldSpec("directory", .string, required: true, "folder")]),
        factory("vault", [.archive], [FieldSpec("directory", .string, "folder")]),
    ])
}
