import Foundation
public import RetentionCore

extension ConnectorFactory {
    /// `type: file-archive`: an `ArchiveSink` writing `<directory>/<connector>/<YYYY-MM>.jsonl.enc`
    /// and `<directory>/MANIFEST.sha256`. Building it fails without a key unless the settings say
    /// `encrypt: false` (then it logs one warning) or `generateKey: true` (then the key file in the
    /// state folder is read, or generated and named in one warning).
    public static var fileArchive: ConnectorFactory {
        ConnectorFactory(
            spec: FileArchiveConfiguration.spec,
            check: { settings, _ in _ = try FileArchiveConfiguration(settings: settings) },
            make: { settings, context in
                let configuration = try FileArchiveConfiguration(settings: settings)
                if configuration.keySource == .none {
                    context.log(
                        .warning,
                        "file archive is not encrypted (`encrypt: false`): archived records are stored in plain text",
                        ["connector": context.name]
                    )
                }
                let keyring = try configuration.keyring(
                    stateDirectory: context.stateDirectory, create: true, log: context.log, connector: context.name)
                let sink = FileArchiveSink(
                    directory: context.resolvePath(configuration.directory),
                    codec: ArchiveLineCodec(keyring: keyring),
                    keep: configuration.keep,
                    clock: context.clock,
                    log: context.log
                )
                return ConnectorInstance(archiveSink: sink)
            })
    }
}
