import Logging
import PostgresNIO
import RetentionStore

extension PostgresStoreURL {
    /// Creates the database `name` on this URL's server, connected to this URL's database (its role
    /// needs `CREATEDB`). For set-up scripts and tests; `name` is letters, digits and `_` only.
    public func createDatabase(_ name: String) async throws {
        try await administer("CREATE DATABASE \(try Self.databaseName(name))")
    }

    /// Drops the database `name` on this URL's server if it exists, closing its connections.
    public func dropDatabase(_ name: String) async throws {
        try await administer("DROP DATABASE IF EXISTS \(try Self.databaseName(name)) WITH (FORCE)")
    }

    private static func databaseName(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.count <= 63, name.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }) else {
            throw StoreError(code: "store.database_name", message: "a database name must be 1 to 63 letters, digits or _")
        }
        return name
    }

    private func administer(_ statement: String) async throws {
        let client = PostgresClient(configuration: configuration)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: statement))
        }
    }
}
