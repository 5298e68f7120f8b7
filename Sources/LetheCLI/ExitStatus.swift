import ArgumentParser
import RetentionCore

/// The exit codes, owned in one place (see docs/cli.md).
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// An operation failed (dead-lettered) or the command could not do its job.
    case operationalFailure = 1
    /// Bad usage or configuration: nothing was changed.
    case badUsage = 2
    /// Deletes wait for approval and nothing failed.
    case awaitingApproval = 3

    static func forError(_ error: any Error) -> ExitStatus {
        if let lethe = error as? any LetheError {
            return lethe.category == .config ? .badUsage : .operationalFailure
        }
        return .operationalFailure
    }

    var exitCode: ExitCode { ExitCode(rawValue) }
}
