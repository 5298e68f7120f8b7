public import Foundation
import NIOCore
import PostgresNIO
public import RetentionStore

/// A whole state copied in from another store (`lethe store migrate`): into an empty database only,
/// in one transaction, table by table in multi-row statements (`UNNEST` of one array a column), then
/// checked before it commits: every table's row count, the audit chain and its head.
extension PostgresStateStore {
    /// What an import copied and checked.
    public struct ImportSummary: Sendable {
        /// Rows by table, as counted in the database before the commit (equal to the source's).
        public var counts: [String: Int64]
        /// The audit log as verified in the database before the commit.
        public var audit: AuditVerification
    }

    /// The tables of a state that hold rows (empty: the database holds no state yet).
    public func heldState() async throws -> [String: Int64] {
        try await read("count the state") { connection in try await heldState(connection) }
    }

    private func heldState(_ connection: PostgresConnection) async throws -> [String: Int64] {
        var held: [String: Int64] = [:]
        for (table, count) in try await tableCounts(connection) where count > 0 { held[table] = count }
        return held
    }

    private func tableCounts(_ connection: PostgresConnection) async throws -> [String: Int64] {
        var counts: [String: Int64] = [:]
        for table in StateTransfer.tables {
            guard try await exists(connection, table: table.name) else { continue }
            counts[table.name] = try await connection.first(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table.name)"), Int64.self, logger: logger) ?? 0
        }
        return counts
    }

    private func exists(_ connection: PostgresConnection, table: String) async throws -> Bool {
        try await connection.first("SELECT to_regclass(\(table)) IS NOT NULL", Bool.self, logger: logger) ?? false
    }

    /// Copies `source` into this database, which must hold no state, all or nothing. `linkSecret`
    /// (the source's consent-link key, when it has one) replaces the one generated here. Throws
    /// `store.not_empty` when the database already holds a state, `store.import` when a check fails.
    /// The store must be opened again afterwards: this one still holds the keys it generated.
    public func importState(
        _ source: any StateExport, linkSecret: Data?, chunkRows: Int = 20_000, progress: @Sendable (String, Int64) -> Void = { _, _ in }
    ) async throws -> ImportSummary {
        let expected = try source.counts()
        return try await transaction("copy the state") { connection in
            // Writers of this database wait behind the copy (the audit head is the first thing every sync locks).
            try await connection.query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE", logger: logger)
            let held = try await heldState(connection)
            let headSeq = try await connection.first("SELECT seq FROM audit_head WHERE id = 1", Int64.self, logger: logger) ?? 0
            guard held.isEmpty, headSeq == 0 else {
                let what = held.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                throw StoreError(
                    code: "store.not_empty",
                    message: "the database \(location) already holds a Lethe state (\(what.isEmpty ? "audit entries" : what)): migrate into an empty database")
            }
            for table in StateTransfer.tables {
                guard try await exists(connection, table: table.name) else {
                    if (expected[table.name] ?? 0) > 0 {
                        throw StoreError(code: "store.import", message: "the database has no table \(table.name) (an older Lethe's schema?)")
                    }
                    continue
                }
                var cursor: StateTransfer.Cursor?
                var copied: Int64 = 0
                while let (chunk, next) = try source.chunk(table, after: cursor, limit: chunkRows) {
                    try await insert(connection, chunk)
                    copied += Int64(chunk.count)
                    cursor = next
                }
                if let identity = table.identity {
                    try await connection.query(
                        PostgresQuery(unsafeSQL: """
                            SELECT setval(pg_get_serial_sequence('\(table.name)', '\(identity)'), COALESCE(MAX(\(identity)), 0) + 1, false)
                            FROM \(table.name)
                            """), logger: logger)
                }
                progress(table.name, copied)
            }
            var meta = source.meta.values
            if let linkSecret { meta["link_secret"] = linkSecret.base64EncodedString() }
            let names = meta.keys.sorted()
            try await connection.query(
                """
                INSERT INTO lethe_meta (key, value) SELECT * FROM UNNEST(\(names), \(names.map { meta[$0] ?? "" }))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, logger: logger)
            let head = source.meta.auditHead
            try await connection.query("UPDATE audit_head SET seq = \(head.seq), hash = \(head.hash) WHERE id = 1", logger: logger)

            // Checked before the commit: a difference rolls the whole copy back.
            let counts = try await tableCounts(connection)
            for (table, count) in expected where counts[table] != count {
                throw StoreError(
                    code: "store.import", message: "\(table): \(count) rows in the source, \(counts[table] ?? 0) copied; nothing was committed")
            }
            let audit = try await verifyAudit(connection)
            guard audit.ok, audit.headHash == head.hash, audit.entries == head.seq else {
                throw StoreError(
                    code: "store.import",
                    message: "the copied audit log does not verify (\(audit.problem ?? "head \(audit.headHash), expected \(head.hash)")); nothing was committed")
            }
            return ImportSummary(counts: counts, audit: audit)
        }
    }

    /// One chunk in one multi-row statement.
    private func insert(_ connection: PostgresConnection, _ chunk: StateTransfer.Chunk) async throws {
        var bindings = PostgresBindings()
        for (column, values) in zip(chunk.table.columns, chunk.columns) {
            switch (values, column.type) {
            case (.integers(let numbers), _): try bindings.append(NullableArray(numbers))
            case (.reals(let numbers), _): try bindings.append(NullableArray(numbers))
            case (.booleans(let flags), _): try bindings.append(NullableArray(flags))
            case (.blobs(let blobs), _): try bindings.append(NullableArray(blobs.map { $0?.buffer }))
            case (.texts(let texts), .reference): try bindings.append(NullableArray(texts.map(Self.encodeReference)))
            case (.texts(let texts), .hash):
                try bindings.append(NullableArray(try texts.map { text -> ByteBuffer? in
                    guard let text else { return nil }
                    guard let bytes = AuditCodec.hashBytes(text) else {
                        throw StoreError(code: "store.import", message: "an audit entry's hash is malformed: run `lethe audit verify` on the source")
                    }
                    return bytes.buffer
                }))
            case (.texts(let texts), _): try bindings.append(NullableArray(texts))
            }
        }
        let table = chunk.table
        let placeholders = (1...table.columns.count).map { "$\($0)" }.joined(separator: ", ")
        let overriding = table.identity == nil ? "" : " OVERRIDING SYSTEM VALUE"
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(table.name) (\(table.columns.map(\.target).joined(separator: ", ")))\(overriding)
                    SELECT * FROM UNNEST(\(placeholders))
                    """,
                binds: bindings),
            logger: logger)
    }
}
