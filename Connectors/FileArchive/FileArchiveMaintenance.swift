import Foundation
public import RetentionCore

/// The archive's own upkeep, for `lethe archive rekey` and `lethe archive purge`: built from the same
/// settings as the connector, it takes the same lock as the sink, so it may run beside a daemon.
public struct FileArchiveMaintenance: Sendable {
    private let sink: FileArchiveSink

    /// The id of the key new entries are sealed with; nil with `encrypt: false`.
    public let currentKeyID: String?
    /// The archive's own retention; nil when entries are kept until removed by hand.
    public let keep: Period?

    /// Reads the settings as the connector does (a missing key is the same config error). With
    /// `generateKey: true` an existing key file is read, and none is generated.
    public init(settings: ConfigNode, context: ConnectorContext) throws {
        let configuration = try FileArchiveConfiguration(settings: settings)
        let keyring = try configuration.keyring(
            stateDirectory: context.stateDirectory, create: false, log: context.log, connector: context.name)
        if configuration.keySource == .generated, keyring.current == nil {
            throw FileArchiveError(
                code: "archive.key_required",
                message: "no archive key yet: \(ArchiveKeyFile.url(in: context.stateDirectory).path) does not exist",
                isTransient: false)
        }
        currentKeyID = keyring.current?.id
        keep = configuration.keep
        sink = FileArchiveSink(
            directory: context.resolvePath(configuration.directory), codec: ArchiveLineCodec(keyring: keyring),
            keep: configuration.keep, clock: context.clock, log: context.log)
    }

    /// Seals every entry again under the current key (see `FileArchiveSink.rekey`).
    public func rekey() async throws(FileArchiveError) -> ArchiveRekey {
        try await sink.rekey()
    }

    /// Removes the entries older than `keep` at the context clock's now; what was removed, by
    /// connector and month (counts only).
    public func purge() async throws(FileArchiveError) -> [ArchivePurge] {
        try await sink.purge()
    }
}
