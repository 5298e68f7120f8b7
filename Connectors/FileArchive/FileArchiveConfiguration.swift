import Foundation
import RetentionCore

/// Settings of a `file-archive` connector.
struct FileArchiveConfiguration: Sendable {
    /// How the current key is found.
    enum KeySource: Sendable, Equatable {
        /// `key` in the settings.
        case configured([UInt8])
        /// `generateKey: true` without `key`: `<state>/archive-key`, generated on first use.
        case generated
        /// `encrypt: false`: new entries are written in plain JSON Lines.
        case none
    }

    /// The archive folder; created when missing.
    var directory: String
    var keySource: KeySource
    /// Keys that only open lines sealed before a rotation.
    var previousKeys: [[UInt8]]
    /// With `generateKey: true`: a generated key file, if there is one, also opens older lines.
    var generateKey: Bool
    /// How long an entry is kept after `archivedAt`; nil keeps entries until removed by hand.
    var keep: Period?

    static let spec = ConnectorSpec(
        type: "file-archive",
        summary:
            "Separated storage (PIPA Art. 21(3)): JSON Lines per connector and month, AES-256-GCM encrypted "
            + "unless `encrypt: false`, with a SHA-256 manifest and a retention of its own (`keep`).",
        capabilities: [.archive],
        fields: [
            FieldSpec("directory", .string, required: true, "archive folder (created when missing)"),
            FieldSpec(
                "key", .string, secret: true,
                "base64 of a 32-byte AES-256 key (e.g. `openssl rand -base64 32`) that seals new entries; "
                    + "required unless `generateKey: true` or `encrypt: false`"
            ),
            FieldSpec(
                "previousKeys", .string, secret: true,
                "comma-separated earlier keys (base64), which only open entries sealed before a rotation "
                    + "(`lethe archive rekey`)"
            ),
            FieldSpec(
                "encrypt", .boolean, default: "true",
                "false stores archived records in plain JSON Lines (must be written explicitly; "
                    + "a key is required otherwise)"
            ),
            FieldSpec(
                "generateKey", .boolean, default: "false",
                "without `key`, use `<state>/archive-key` (mode 0600), generated on first use; "
                    + "back it up apart from the state"
            ),
            FieldSpec(
                "keep", .string,
                "how long an entry is kept after it was archived (`1y`, `36m`); older entries are purged "
                    + "and the purge audited; absent keeps them"
            ),
        ]
    )

    /// Reads and checks the settings. A missing or invalid key is a `ConfigError` on the `key` node
    /// whose message never contains a key.
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
        let keyNode = settings["key"].flatMap { $0.isNull ? nil : $0 }
        let key =
            try keyNode.map { (node: ConfigNode) throws(ConfigError) -> [UInt8]? in
                let text = try node.string().trimmingCharacters(in: .whitespacesAndNewlines)
                guard !text.isEmpty else { return nil }
                guard let bytes = ArchiveKeyring.keyBytes(base64: text) else {
                    throw node.error("config.invalid_key", "expected base64 of exactly 32 bytes (an AES-256 key)")
                }
                return bytes
            } ?? nil
        previousKeys = []
        if let node = settings["previousKeys"], !node.isNull {
            for text in try node.string().split(separator: ",") {
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty else { continue }
                guard let bytes = ArchiveKeyring.keyBytes(base64: trimmed) else {
                    throw node.error("config.invalid_key", "each previous key must be base64 of exactly 32 bytes")
                }
                previousKeys.append(bytes)
            }
        }
        let encrypt = try settings["encrypt"].flatMap { $0.isNull ? nil : $0 }?.bool() ?? true
        generateKey = try settings["generateKey"].flatMap { $0.isNull ? nil : $0 }?.bool() ?? false
        if let node = settings["keep"], !node.isNull, !(try node.string()).trimmingCharacters(in: .whitespaces).isEmpty
        {
            keep = try node.period()
        }
        switch (encrypt, key) {
        case (false, .some):
            throw (settings["encrypt"] ?? settings).error(
                "config.conflict", "`encrypt: false` and a key: remove the key, or the `encrypt: false`")
        case (false, nil):
            keySource = .none
        case (true, .some(let bytes)):
            keySource = .configured(bytes)
        case (true, nil):
            guard generateKey else {
                throw (keyNode ?? settings).error(
                    "config.archive_key_required",
                    "the archive must be encrypted: set `key` (LETHE_ARCHIVE_KEY, base64 of 32 random bytes: "
                        + "`openssl rand -base64 32`), or write `encrypt: false` to store archived records "
                        + "in plain text"
                )
            }
            keySource = .generated
        }
    }

    /// The keys, reading (and with `create`, generating) the key file for `generateKey`.
    func keyring(stateDirectory: URL, create: Bool, log: LogFunction, connector: String) throws(FileArchiveError)
        -> ArchiveKeyring
    {
        let file = ArchiveKeyFile.url(in: stateDirectory)
        switch keySource {
        case .none:
            return ArchiveKeyring(current: nil, previous: previousKeys)
        case .configured(let bytes):
            let generated = generateKey ? try ArchiveKeyFile.read(file) : nil
            return ArchiveKeyring(current: bytes, previous: previousKeys + (generated.map { [$0] } ?? []))
        case .generated:
            let key =
                create
                ? try ArchiveKeyFile.loadOrCreate(in: stateDirectory, log: log, connector: connector)
                : try ArchiveKeyFile.read(file)
            return ArchiveKeyring(current: key, previous: previousKeys)
        }
    }
}
