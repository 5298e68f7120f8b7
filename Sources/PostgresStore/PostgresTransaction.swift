import Logging
import PostgresNIO
import RetentionStore

/// Transactions that rethrow the caller's own error (PostgresNIO's `withTransaction` wraps it), so a
/// `StoreError` such as `approval.unknown_batch` reaches the caller as SQLite's store throws it.
enum PostgresTransaction {
    static func run<T>(
        _ connection: PostgresConnection, logger: Logger, asynchronousCommit: Bool = false,
        _ body: (PostgresConnection) async throws -> sending T
    ) async throws -> sending T {
        try await connection.query("BEGIN", logger: logger)
        do {
            // A bulk write need not wait for the disk; `makeDurable` is the barrier.
            if asynchronousCommit { try await connection.query("SET LOCAL synchronous_commit = off", logger: logger) }
            let value = try await body(connection)
            try await connection.query("COMMIT", logger: logger)
            return value
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// What a lost or failed connection means, in words (the code's name otherwise).
    static func connectionProblem(_ code: PSQLError.Code) -> String? {
        switch code {
        case .serverClosedConnection, .uncleanShutdown: "the database closed the connection (it restarted or ended the session)"
        case .clientClosedConnection: "the connection to the database was closed"
        case .connectionError: "the connection to the database failed"
        case .poolClosed: "the connections to the database are closed"
        default: nil
        }
    }

    /// The code in words when it is a connection's problem, else its name.
    static func words(_ code: PSQLError.Code) -> String {
        connectionProblem(code) ?? "\(code)"
    }

    /// A store error for a failure of PostgreSQL, with the server's message (never a bound value).
    static func storeError(_ error: any Error, doing what: String) -> any Error {
        if error is StoreError { return error }
        if let error = error as? PSQLError {
            let detail = error.serverInfo?[.message] ?? words(error.code)
            return StoreError(code: "store.postgres", message: "\(what): \(detail)")
        }
        return StoreError(code: "store.postgres", message: "\(what): \(error)")
    }
}
