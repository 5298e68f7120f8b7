import Foundation
import RetentionCore

/// Settings of a `file-mail` connector.
struct FileMailConfiguration: Sendable {
    /// The folder the `.eml` files go into; created when missing.
    var directory: String

    static let spec = ConnectorSpec(
        type: "file-mail",
        summary: "Writes each notice as an RFC 5322 .eml file into a folder (a file outbox for review or pickup).",
        capabilities: [.notices],
        fields: [
            FieldSpec(
                "directory", .string, required: true, "folder the .eml files are written to (created when missing)")
        ]
    )

    init(settings: ConfigNode) throws(ConfigError) {
        try Self.spec.validate(settings)
        guard let node = settings["directory"] else {
            throw settings.error("config.missing", "required: directory")
        }
        let directory = try node.string()
        guard !directory.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw node.error("config.empty", "the directory must not be empty")
        }
        self.directory = directory
    }
}
