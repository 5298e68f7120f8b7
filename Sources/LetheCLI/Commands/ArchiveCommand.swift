import ArgumentParser
import FileArchiveSink
import Foundation
import LetheConfig
import RetentionCore
import RetentionStore

struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Upkeep of the file archive: seal it again under a new key, purge what outlived `keep`.",
        subcommands: [Rekey.self, Purge.self]
    )

    struct Rekey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal every archived entry again under the current key.",
            discussion: """
                Reads the archive with `key` and `previousKeys` (LETHE_ARCHIVE_KEY, LETHE_ARCHIVE_PREVIOUS_KEYS) and \
                rewrites each month file whose lines are not all sealed with the current key: lines of a previous \
                key, of the format without key ids, and plain .jsonl files (merged into the month's .enc file). \
                Each file is replaced atomically, then the manifest. Once it succeeds, the previous keys can be \
                removed from the configuration. Safe to run again, and beside a running daemon.
                """
        )
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let workspace = try Workspace(options: global)
            let report = try await ArchiveCommand.maintenance(workspace).rekey()
            let output = workspace.environment.output
            if global.json {
                output.out(JSONOutput.line(report))
            } else {
                output.out(
                    "sealed \(report.entries) entries in \(report.filesRewritten) files under key \(report.keyID)"
                        + (report.plainFilesEncrypted > 0
                            ? " (\(report.plainFilesEncrypted) plain files encrypted)" : ""))
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove archived entries older than the archive's `keep`, and audit each removal.",
            discussion: """
                An entry expires `keep` after it was archived (UTC); --as-of fixes now. Each connector and month \
                purged is recorded in the audit log as `archive.purged` with its count (no personal data).
                """
        )
        @OptionGroup var global: GlobalOptions

        struct Report: Encodable {
            var keep: String?
            var purged: [ArchivePurge]
            var entries: Int
        }

        func run() async throws {
            let workspace = try Workspace(options: global)
            let maintenance = try ArchiveCommand.maintenance(workspace)
            let purged = try await ArchiveCommand.purge(maintenance, workspace: workspace, store: workspace.openStore())
            let report = Report(
                keep: maintenance.keep?.description, purged: purged, entries: purged.map(\.entries).reduce(0, +))
            let output = workspace.environment.output
            if global.json {
                output.out(JSONOutput.line(report))
            } else if maintenance.keep == nil {
                output.out("the archive has no `keep`: nothing is purged")
            } else {
                output.out("purged \(report.entries) entries older than \(report.keep ?? "?")")
                for purge in purged {
                    let note = purge.removedFile ? " (file removed)" : ""
                    output.out("  \(purge.connector) \(purge.month): \(purge.entries)\(note)")
                }
            }
        }
    }

    /// The upkeep handle of the configured `file-archive`.
    static func maintenance(_ workspace: Workspace) throws -> FileArchiveMaintenance {
        guard let archive = workspace.configuration.archive, archive.type == ConnectorFactory.fileArchive.type else {
            throw ConfigError(
                code: "config.no_archive", location: nil, key: "archive",
                problem: "no `archive:` block of type file-archive in the configuration")
        }
        return try FileArchiveMaintenance(settings: archive.settings, context: try workspace.context(for: "archive"))
    }

    /// Purges the expired entries and appends one `archive.purged` audit entry per connector and
    /// month removed from (counts only), as any other destruction is recorded.
    static func purge(_ maintenance: FileArchiveMaintenance, workspace: Workspace, store: any StateStore) async throws
        -> [ArchivePurge]
    {
        let purged = try await maintenance.purge()
        guard !purged.isEmpty else { return [] }
        let now = workspace.clock.now()
        try await store.appendAudit(
            purged.map { purge in
                AuditDraft(
                    at: now, event: "archive.purged", connector: purge.connector,
                    detail: [
                        "month": purge.month, "entries": "\(purge.entries)", "fileRemoved": "\(purge.removedFile)",
                        "keep": maintenance.keep?.description ?? "", "operator": workspace.operatorName,
                    ])
            })
        return purged
    }
}
