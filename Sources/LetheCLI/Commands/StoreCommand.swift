import ArgumentParser
import Foundation
import LetheConfig
import PostgresStore
import RetentionCore
import RetentionStore

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Move the state to another store.",
        subcommands: [Migrate.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite state of the state folder into an empty PostgreSQL database.",
            discussion: """
                Copies everything the SQLite state (lethe.sqlite in state.directory, LETHE_STATE_DIR) holds: records and \
                their tombstones, the outbox, approval batches and sign-offs, holds, the audit log with its head and \
                signed checkpoints, the webhook inbox, consent decisions, schedules, records missing from the source, \
                and the installation's secrets (the pseudonym key, the audit signing key, the consent-link secret), so \
                references, operation ids and consent links stay valid and `lethe audit verify` gives the same head.

                Refuses a database that already holds a state. Holds the run lock of every configured connector while \
                it copies (stop `lethe run` first: its webhook intake and consent pages write too). Copies in one \
                PostgreSQL transaction and checks, before it commits, every table's row count and the audit chain; \
                then compares `lethe status` on both. The SQLite state is left as it was: delete it when satisfied. \
                Afterwards set LETHE_STORE_URL (state.url) to the same URL.

                Exit 0 when copied and checked; 1 when the copy failed or a sync holds a connector (nothing was \
                committed); 2 for a bad URL or a database that already holds a state.
                """
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: "The PostgreSQL database: postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require].")
        var to: String

        struct Report: Encodable {
            var from: String
            var to: String
            var tables: [String: Int64]
            var auditEntries: Int64
            var auditHead: String
            var sqliteLeftInPlace: Bool
        }

        func run() async throws {
            let workspace = try Workspace(options: global)
            let url: PostgresStoreURL
            do {
                url = try PostgresStoreURL(to)
            } catch let error as StoreError {
                let problem = error.message.hasPrefix("LETHE_STORE_URL: ") ? String(error.message.dropFirst("LETHE_STORE_URL: ".count)) : error.message
                throw ConfigError(code: "config.store_url", location: nil, key: "--to", problem: problem)
            }
            let folder = try workspace.stateDirectory()
            let database = folder.appendingPathComponent("lethe.sqlite")
            guard FileManager.default.fileExists(atPath: database.path) else {
                throw ConfigError(
                    code: "store.no_source", location: nil, key: "state.directory",
                    problem: "there is no SQLite state at \(database.path) to migrate (LETHE_STATE_DIR)")
            }
            let output = workspace.environment.output
            let quiet = global.json
            let say: @Sendable (String) -> Void = { line in if !quiet { output.out(line) } }

            // No sync of this state runs while it is copied.
            let locks = FileRunLock(folder: folder.appendingPathComponent("locks"))
            var wait = Duration.zero
            if let text = workspace.environment.variables["LETHE_LOCK_WAIT_SECONDS"], !text.isEmpty {
                guard let seconds = Double(text), seconds >= 0, seconds <= 86_400 else {
                    throw ConfigError(code: "config.environment", location: nil, key: "LETHE_LOCK_WAIT_SECONDS", problem: "must be a number of seconds (0 to 86400)")
                }
                wait = .milliseconds(Int64(seconds * 1000))
            }
            var leases: [RunLease] = []
            defer { leases.forEach { $0.release() } }
            for connector in workspace.configuration.connectors {
                leases.append(try await locks.acquire(connector: connector.name, wait: wait))
            }

            let source = try SQLiteStateStore(path: database)
            let sourceAudit = try await source.verifyAudit()
            guard sourceAudit.ok else {
                throw StoreError(code: "store.audit_broken", message: "the SQLite audit log does not verify (\(sourceAudit.problem ?? "broken")): nothing was copied")
            }
            let sourceStatus = try await source.statusCounts()
            let linkFile = folder.appendingPathComponent("link-secret")
            let linkSecret = (try? Data(contentsOf: linkFile)).flatMap { $0.count >= 32 ? $0 : nil }

            let target = try await PostgresStateStore.open(url: url)
            let summary: PostgresStateStore.ImportSummary
            do {
                let held = try await target.heldState()
                guard held.isEmpty else {
                    let what = held.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    throw ConfigError(
                        code: "store.not_empty", location: nil, key: "--to",
                        problem: "the database \(url.redacted) already holds a Lethe state (\(what)); migrate only into an empty database")
                }
                say("copying \(database.path) to \(url.redacted) in one transaction")
                let export = try source.exportSnapshot()
                summary = try await target.importState(export, linkSecret: linkSecret) { table, rows in
                    say("  \(table): \(rows) rows")
                }
                await target.close()
            } catch let error as StoreError where error.code == "store.not_empty" {
                await target.close()
                throw ConfigError(code: error.code, location: nil, key: "--to", problem: error.message)
            } catch {
                await target.close()
                throw error
            }

            // Opened again with the secrets copied: what `lethe status` shows must be what SQLite shows.
            let moved = try await PostgresStateStore.open(url: url)
            let movedStatus: StoreStatus
            let movedAudit: AuditVerification
            do {
                movedStatus = try await moved.statusCounts()
                movedAudit = try await moved.verifyAudit()
                await moved.close()
            } catch {
                await moved.close()
                throw error
            }
            guard movedStatus == sourceStatus else {
                throw StoreError(
                    code: "store.migrate_mismatch",
                    message: "the copy in \(url.redacted) does not show the SQLite state's status; do not switch to it (the SQLite state is untouched)")
            }
            guard movedAudit.ok, movedAudit.headHash == sourceAudit.headHash else {
                throw StoreError(
                    code: "store.migrate_mismatch",
                    message: "the audit log in \(url.redacted) does not verify with the SQLite head; do not switch to it (the SQLite state is untouched)")
            }

            if global.json {
                output.out(JSONOutput.line(Report(
                    from: database.path, to: url.redacted, tables: summary.counts, auditEntries: movedAudit.entries,
                    auditHead: movedAudit.headHash, sqliteLeftInPlace: true)))
                return
            }
            let records = sourceStatus.records.values.flatMap(\.values).reduce(0, +)
            let operations = sourceStatus.operations.values.flatMap(\.values).reduce(0, +)
            output.out("migrated to \(url.redacted): \(records) records, \(operations) operations, \(sourceStatus.openBatches.count) open approval batches, "
                + "\(sourceStatus.holds) holds, \(movedAudit.entries) audit entries")
            output.out("checked: every table's row count, the audit log (head \(movedAudit.headHash), as on SQLite) and `lethe status`")
            output.out("the SQLite state \(database.path) was left as it was: delete it when you are satisfied")
            output.out("next: set LETHE_STORE_URL (state.url) to this database for every instance, then start them")
        }
    }
}
