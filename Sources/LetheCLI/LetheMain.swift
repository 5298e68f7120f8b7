import ArgumentParser
import Foundation
import RetentionCore

/// Runs the CLI. `run(arguments:)` is what `main` calls and what tests call in-process.
public enum LetheMain {
    public static func main() async {
        let status = await run(arguments: Array(CommandLine.arguments.dropFirst()))
        exit(status)
    }

    /// Parses and runs one command against `CommandEnvironment.current`; returns the exit code.
    public static func run(arguments: [String]) async -> Int32 {
        let output = CommandEnvironment.current.output
        let command: any ParsableCommand
        do {
            command = try Lethe.parseAsRoot(arguments)
        } catch {
            let code = Lethe.exitCode(for: error)
            let message = Lethe.fullMessage(for: error)
            if code == .success {
                output.out(message)
                return 0
            }
            output.err(message)
            return ExitStatus.badUsage.rawValue
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch let error as any LetheError {
            output.err("error: \(error.message)")
            return ExitStatus.forError(error).rawValue
        } catch {
            let code = Lethe.exitCode(for: error)
            let message = Lethe.fullMessage(for: error)
            if code == .success {
                // `--help`, `help` and `--version` end here.
                if !message.isEmpty { output.out(message) }
                return 0
            }
            output.err(message)
            return code == .validationFailure ? ExitStatus.badUsage.rawValue : ExitStatus.operationalFailure.rawValue
        }
    }
}

struct Lethe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lethe",
        abstract: "Enforce personal-data retention across CRMs: quarantine, notify, erase, delete — provably.",
        discussion: """
            Exit codes: 0 success; 1 an operation failed (dead-lettered), operations stay pending for the next run, \
            another run of the connector is in progress, or the command failed; 2 bad usage or configuration; \
            3 deletes or records missing from the source wait for approval and nothing failed.
            Every command takes --config (default config/lethe.yaml) and --json (one JSON object, last line of stdout).
            """,
        subcommands: [
            SyncCommand.self, PlanCommand.self, StatusCommand.self, ApproveCommand.self, HoldCommand.self,
            RetryCommand.self, AuditCommand.self, ConnectorsCommand.self, ConfigCommand.self, RunCommand.self, MailCommand.self,
            ArchiveCommand.self, ReportCommand.self, StoreCommand.self,
        ]
    )
}
