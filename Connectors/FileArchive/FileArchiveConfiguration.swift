import Foundation
public import RetentionCore

/// Settings of a `file-archive` connector.
struct FileArchiveConfiguration: Sendable {
    /// The archive folder; created when missing.
    var directory: String
    /// The AES-256 key bytes, or nil for an unencrypted archive.
    var keyBytes: [UInt8]?

    static let spec = ConnectorSpec(
        type: "file-archive",
        summary:
            "Separated storage (PIPA Art. 21(3)): JSON Lines per connector and month, optionally AES-256-GCM encrypted, with a SHA-256 manifest.",
        capabilities: [.archive],
        fields: [
            FieldSpec("directory", .string, required: true, "archive folder (created when missing)"),
            FieldSpec(
                "key", .string, secret: true,
                "base64 of a 32-byte AES-256 key (e.g. `openssl rand -base64 32`); empty or absent stores plain JSON Lines"
            ),
        ]
    )

    /// Reads and checks the settings. An invalid key is a `ConfigError` on the `key` node whose
    /// message never contains the key.
    init(settings: ConfigNode) throws(ConfigError) {
        try Self.spec.validate(settings)
        guard let directoryNode = settings["directory"] else {
            throw settings.error("config.missing", "required: directory")
        }
        let directory = try directoryNode.string()
        guard !directory.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw directoryNode.error("config.empty", "the directory must not be empty")
        }
        self.directory = directory
        guard let keyNode = settings["key"], !keyNode.isNull else { return }
        let text = try keyNode.string().trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return }
        guard let key = ArchiveLineCodec.keyBytes(base64: text) else {
            throw keyNode.error("config.invalid_key", "expected base64 of exactly 32 bytes (an AES-256 key)")
        }
        self.keyBytes = key
    }
}

extension ConnectorFactory {
    /// `type: file-archive`: an `ArchiveSink` writing `<directory>/<connector>/<YYYY-MM>.jsonl[.enc]`
    /// and `<directory>/MANIFEST.sha256`. Without a key it logs one warning when built.
    public static var fileArchive: ConnectorFactory {
        ConnectorFactory(spec: FileArchiveConfiguration.spec) { settings, context in
            let configuration = try FileArchiveConfiguration(settings: settings)
            if configuration.keyBytes == nil {
                context.log(
                    .warning, "file archive is not encrypted: set `key` to store archived records encrypted",
                    ["connector": context.name]
                )
            }
            let sink = FileArchiveSink(
                directory: context.resolvePath(configuration.directory),
                codec: ArchiveLineCodec(keyBytes: configuration.keyBytes),
                log: context.log
            )
            return ConnectorInstance(archiveSink: sink)
        }
    }
}
