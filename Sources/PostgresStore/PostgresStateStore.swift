import Crypto
public import Foundation
public import Logging
import PostgresNIO
public import RetentionCore
public import RetentionStore

/// Lethe's state in PostgreSQL: the same protocols, transactions, idempotency and audit chain as
/// `SQLiteStateStore`, for several hub instances sharing one database.
///
/// The installation's secrets (the pseudonym key, the audit signing key) live in the database
/// (`lethe_meta`), so every instance computes the same keys, references and operation ids. The audit
/// log has one writer at a time: each append locks the head row (`FOR UPDATE`), so two instances never
/// fork the chain. Bulk writes (a sync's records, the release of staged operations, completions) are
/// multi-row statements over arrays (`UNNEST`), not one statement a row.
///
/// Open with `open(url:)`, and `close()` when done: the client's connections run on a task of their
/// own until then.
public final class PostgresStateStore: StateStore {
    let client: PostgresClient
    private let runner: Task<Void, Never>
    let logger: Logger
    /// The database, without its password (for messages).
    public let location: String
    public let fingerprints: RecordFingerprints
    public let operationIDs: OperationIdentifier
    let webhookEventDigests: WebhookEventDigests
    /// The key of consent links when `LETHE_LINK_SECRET` is not set: 32 bytes generated once and kept in
    /// the database (`lethe_meta.link_secret`), so every instance signs and accepts the same links.
    public let linkSecret: Data
    /// Records of earlier versions (moved from SQLite) are found by their reference through `legacy_refs`.
    let hasLegacyReferences: Bool
    let legacyReferences: LegacyReferences

    private init(
        client: PostgresClient, runner: Task<Void, Never>, logger: Logger, location: String, secret: Data, linkSecret: Data, hasLegacyReferences: Bool
    ) {
        self.linkSecret = linkSecret
        self.hasLegacyReferences = hasLegacyReferences
        legacyReferences = LegacyReferences(secret: secret)
        self.client = client
        self.runner = runner
        self.logger = logger
        self.location = location
        fingerprints = RecordFingerprints(secret: [UInt8](secret))
        operationIDs = OperationIdentifier(secret: secret)
        webhookEventDigests = WebhookEventDigests(secret: secret)
    }

    deinit { runner.cancel() }

    /// Connects, migrates the schema (instances starting together take turns) and reads the
    /// installation's secret, creating it on first use.
    public static func open(url: PostgresStoreURL, logger: Logger = Logger(label: "lethe.store.postgres", factory: { _ in SwiftLogNoOpLogHandler() })) async throws -> PostgresStateStore {
        // One connection first: a server that cannot be reached or refuses the login fails here at once
        // with its reason (the pool would keep trying).
        do {
            let probe = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: try url.connectionConfiguration(), id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw StoreError(code: "store.open", message: "cannot open the state database \(url.redacted): \(Self.describe(error))")
        }
        let client = PostgresClient(configuration: url.configuration, backgroundLogger: logger)
        let runner = Task { await client.run() }
        do {
            try await PostgresMigrations.migrate(client, logger: logger)
            // Created by the first instance; the insert comes first, so instances starting together agree.
            func secret(_ name: String) async throws -> Data {
                let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
                let stored = try await client.withConnection { connection in
                    try await connection.query(
                        "INSERT INTO lethe_meta (key, value) VALUES (\(name), \(fresh)) ON CONFLICT (key) DO NOTHING", logger: logger)
                    return try await connection.first("SELECT value FROM lethe_meta WHERE key = \(name)", String.self, logger: logger)
                }
                guard let stored else { throw StoreError(code: "store.open", message: "the installation's \(name) could not be stored") }
                return Data(base64Encoded: stored) ?? Data(stored.utf8)
            }
            let legacy = try await client.withConnection { connection in
                try await connection.first("SELECT EXISTS (SELECT 1 FROM legacy_refs)", Bool.self, logger: logger) ?? false
            }
            return PostgresStateStore(
                client: client, runner: runner, logger: logger, location: url.redacted, secret: try await secret("pseudonym_secret"),
                linkSecret: try await secret("link_secret"), hasLegacyReferences: legacy)
        } catch {
            runner.cancel()
            await runner.value
            throw StoreError(code: "store.open", message: "cannot open the state database \(url.redacted): \(Self.describe(error))")
        }
    }

    /// Closes the connections. The store cannot be used after.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? StoreError { return error.message }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(PostgresTransaction.words(error.code)): \(underlying)" }
            return PostgresTransaction.words(error.code)
        }
        return "\(error)"
    }

    // MARK: Connections

    /// Runs `body` on a connection outside any transaction (one statement, or reads).
    func read<T>(_ what: String, _ body: (PostgresConnection) async throws -> sending T) async throws -> sending T {
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw PostgresTransaction.storeError(error, doing: what)
        }
    }

    /// Runs `body` in one transaction; `bulk`: committed without waiting for the disk (`makeDurable`).
    func transaction<T>(_ what: String, bulk: Bool = false, _ body: @Sendable (PostgresConnection) async throws -> sending T) async throws -> sending T {
        do {
            return try await client.withConnection { connection in
                try await PostgresTransaction.run(connection, logger: logger, asynchronousCommit: bulk, body)
            }
        } catch {
            throw PostgresTransaction.storeError(error, doing: what)
        }
    }

    public func makeDurable() async throws {
        // A commit that waits for the disk flushes the log up to it, every earlier commit included.
        try await transaction("make the state durable") { connection in
            try await connection.query("UPDATE lethe_meta SET value = value WHERE key = 'pseudonym_secret'", logger: logger)
        }
    }

    public func reference(connector: String, recordID: String) -> String {
        fingerprints.reference(connector: connector, id: recordID)
    }

    /// The keyed digest under which a provider's event id is kept (`PendingWebhookEvent.eventID`).
    public func webhookEventDigest(connector: String, eventID: String) -> String {
        webhookEventDigests.digest(connector: connector, eventID: eventID)
    }

    // MARK: Runs

    public func beginRun(connector: String, asOf: Date, dryRun: Bool) async throws -> Int64 {
        try await read("begin a run") { connection in
            let rows = try await connection.query(
                """
                INSERT INTO runs (connector, as_of, dry_run, started_at)
                VALUES (\(connector), \(asOf.timeIntervalSince1970), \(dryRun), \(Date().timeIntervalSince1970)) RETURNING id
                """, logger: logger)
            var id: Int64 = 0
            for try await value in rows.decode(Int64.self) { id = value }
            return id
        }
    }

    public func finishRun(_ run: Int64, summary: String) async throws {
        try await read("finish a run") { connection in
            try await connection.query(
                "UPDATE runs SET finished_at = \(Date().timeIntervalSince1970), summary = \(summary) WHERE id = \(run)", logger: logger)
        }
    }

    // MARK: Watermarks

    public func watermark(connector: String) async throws -> String? {
        try await read("read a watermark") { connection in
            try await connection.first("SELECT value FROM watermarks WHERE connector = \(connector)", String?.self, logger: logger) ?? nil
        }
    }

    public func setWatermark(connector: String, value: String?) async throws {
        try await read("write a watermark") { connection in
            try await connection.query(
                """
                INSERT INTO watermarks (connector, value) VALUES (\(connector), \(value))
                ON CONFLICT (connector) DO UPDATE SET value = excluded.value
                """, logger: logger)
        }
    }
}

extension PostgresConnection {
    /// The first row's value, decoded; nil when there is no row.
    func first<T: PostgresDecodable>(_ query: PostgresQuery, _ type: T.Type, logger: Logger) async throws -> T? {
        var found: T?
        for try await value in try await self.query(query, logger: logger).decode(T.self) where found == nil { found = value }
        return found
    }

    /// Every row's value, decoded.
    func all<T: PostgresDecodable>(_ query: PostgresQuery, _ type: T.Type, logger: Logger) async throws -> [T] {
        var found: [T] = []
        for try await value in try await self.query(query, logger: logger).decode(T.self) { found.append(value) }
        return found
    }
}
