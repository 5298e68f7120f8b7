public import Foundation
import Crypto
import GRDB
import PrivateFiles
public import RetentionCore

/// The embedded default store: one SQLite file (WAL), zero set-up.
///
/// A pool of connections: one writer, and readers that never wait behind a long write (a sync's
/// batch transaction) — `/metrics`, `/api/status` and the dashboard read a committed snapshot.
public final class SQLiteStateStore: StateStore {
    let queue: DatabasePool
    /// The database file.
    public let path: URL
    /// The references earlier versions gave records (found through `legacy_refs`).
    let legacyReferences: LegacyReferences
    public let fingerprints: RecordFingerprints
    public let operationIDs: OperationIdentifier
    let webhookEventDigests: WebhookEventDigests
    /// Records of earlier versions are found by their reference through `legacy_refs`.
    let hasLegacyReferences: Bool

    /// Opens (and migrates) the database at `path`, creating its folder.
    public init(path: URL) throws {
        self.path = path
        // The owner's alone: the folder 0700, the database 0600 (SQLite gives its -wal and -shm files
        // the database file's mode).
        do {
            try PrivateFiles.makeFolder(path.deletingLastPathComponent().path)
            try PrivateFiles.ensureFile(path.path)
        } catch {
            throw StoreError(code: "store.open", message: "cannot create the state database: \(error.description)")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 4
        configuration.prepareDatabase { db in
            guard !db.configuration.readonly else {
                // Readers: a small page cache each. They look records up by key, scattered over the
                // table, where the operating system's file cache serves as well; every reader's cache
                // counts in the process's memory.
                try db.execute(sql: "PRAGMA cache_size = -4096")
                return
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // A sync walks and writes the records and the outbox in large batches: a 48 MiB page cache
            // (bounded: it counts in the process's memory) and a 64 MiB WAL between checkpoints.
            try db.execute(sql: "PRAGMA cache_size = -49152")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 16384")
            // What is deleted (a tombstoned record's id, an outbox row) is overwritten where that costs no extra I/O.
            try db.execute(sql: "PRAGMA secure_delete = FAST")
        }
        // Processes that open a new or older state at once take turns to migrate it.
        let opening = try FileRunLock.exclusive(path.path + ".open-lock")
        defer { opening.release() }
        do {
            queue = try DatabasePool(path: path.path, configuration: configuration)
            let stored = try queue.read { db -> String? in
                guard try db.tableExists("meta") else { return nil }
                return try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'pseudonym_secret'")
            }
            let secret = stored ?? SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
            let secretBytes = Data(base64Encoded: secret) ?? Data(secret.utf8)
            legacyReferences = LegacyReferences(secret: secretBytes)
            fingerprints = RecordFingerprints(secret: [UInt8](secretBytes))
            operationIDs = OperationIdentifier(secret: secretBytes)
            webhookEventDigests = WebhookEventDigests(secret: secretBytes)
            let migrator = SQLiteMigrations.migrator(fingerprints: fingerprints, operationIDs: operationIDs, eventDigests: webhookEventDigests)
            let before = try queue.read { db in try migrator.appliedIdentifiers(db) }
            try migrator.migrate(queue)
            try queue.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO meta (key, value) VALUES ('pseudonym_secret', ?)", arguments: [secret])
            }
            if !before.isEmpty, !before.contains("v8-lean-records") || !before.contains("v12-compact-audit") {
                // The copies of contacts' fields earlier versions kept are gone from the tables, and the
                // audit log is rewritten compact: give their pages back and overwrite them on disk too.
                // VACUUM writes the new pages through the WAL: the checkpoint puts them in the file
                // (over the old ones) and empties the WAL.
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "VACUUM")
                    try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                }
            }
            hasLegacyReferences = try queue.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM legacy_refs)") ?? false }
        } catch let error as DatabaseError {
            throw StoreError(code: "store.open", message: "cannot open the state database \(path.path): \(error.message ?? "error \(error.resultCode)")")
        }
    }

    public func reference(connector: String, recordID: String) -> String {
        fingerprints.reference(connector: connector, id: recordID)
    }

    /// The reference earlier versions gave a record (HMAC-SHA256): records they stored keep it.
    func legacyReference(connector: String, recordID: String) -> String {
        legacyReferences.reference(connector: connector, recordID: recordID)
    }

    /// The key of a tombstone of an earlier version (no id left to hash): its reference's first 64 bits.
    static func legacyKey(_ reference: String) -> Int64 {
        RecordFingerprints.key(ofReference: reference) ?? Int64(bitPattern: SipHasher(k0: 1, k1: 2).hash(reference))
    }

    // MARK: Runs

    public func beginRun(connector: String, asOf: Date, dryRun: Bool) async throws -> Int64 {
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO runs (connector, as_of, dry_run, started_at) VALUES (?, ?, ?, ?)",
                arguments: [connector, asOf.timeIntervalSince1970, dryRun, Date().timeIntervalSince1970]
            )
            return db.lastInsertedRowID
        }
    }

    public func finishRun(_ run: Int64, summary: String) async throws {
        try await queue.write { db in
            try db.execute(
                sql: "UPDATE runs SET finished_at = ?, summary = ? WHERE id = ?",
                arguments: [Date().timeIntervalSince1970, summary, run]
            )
        }
    }

    // MARK: Watermarks

    public func watermark(connector: String) async throws -> String? {
        try await queue.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM watermarks WHERE connector = ?", arguments: [connector])
        }
    }

    public func setWatermark(connector: String, value: String?) async throws {
        try await queue.write { db in
            try db.execute(
                sql: "INSERT INTO watermarks (connector, value) VALUES (?, ?) ON CONFLICT(connector) DO UPDATE SET value = excluded.value",
                arguments: [connector, value]
            )
        }
    }
}

/// A store failure.
public struct StoreError: LetheError {
    public var code: String
    public var message: String
    public var category: ErrorCategory { .permanent }

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

package enum StoreCoding {
    // Reused: creating coders per row dominated large syncs. Both are safe to share (they keep no
    // state between calls); Foundation does not mark them Sendable.
    nonisolated(unsafe) static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()

    nonisolated(unsafe) static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    package static func encode(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    package static func decode<T: Decodable>(_ type: T.Type, _ text: String?) throws -> T? {
        guard let text else { return nil }
        return try decoder.decode(type, from: Data(text.utf8))
    }

    /// ISO-8601 in UTC, for audit details.
    package static func timestamp(_ date: Date) -> String {
        AuditTimestamp.iso8601(date)
    }
}
