import Foundation
import GRDB
import Logging
@testable import PostgresStore
import PostgresNIO
import RetentionCore
@testable import RetentionStore
import Testing

/// A fresh, empty store of one kind for one check, and what a check needs beyond the protocols: raw
/// statements (to look at what is stored, or to tamper with it), reopening the same installation, and
/// another installation.
protocol StoreFixture: Sendable {
    var store: any StateStore { get }
    /// The same installation, opened again.
    func reopen() async throws -> any StateStore
    /// Another installation (its own secret).
    func another() async throws -> any StateStore
    /// Runs one statement outside the store.
    func execute(_ sql: String) async throws
    /// The first column of every row of a query, as text.
    func texts(_ sql: String) async throws -> [String]
    /// Changes the stored audit log behind the store's back (its append-only guard lifted).
    func tamper(_ tamper: AuditTamper) async throws
    func close() async
}

/// Closes a store a fixture opened besides its own (`reopen`, `another`).
func release(_ store: any StateStore) async {
    if let postgres = store as? PostgresStateStore { await postgres.close() }
}

enum AuditTamper: String, CaseIterable, Sendable {
    case editEvent, editDetail, deleteMiddle, deleteLast, reorderAt, rewriteLastWithHash
}

/// The kinds of store the suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }

    func make() async throws -> any StoreFixture {
        switch self {
        case .sqlite: try SQLiteFixture()
        case .postgres: try await PostgresFixture.make()
        }
    }
}

struct SQLiteFixture: StoreFixture {
    let directory: URL
    let sqlite: SQLiteStateStore
    var store: any StateStore { sqlite }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-store-\(UUID().uuidString)")
        sqlite = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
    }

    func reopen() async throws -> any StateStore { try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite")) }
    func another() async throws -> any StateStore { try SQLiteStateStore(path: directory.appendingPathComponent("other.sqlite")) }

    func execute(_ sql: String) async throws {
        try await sqlite.queue.write { db in try db.execute(sql: sql) }
    }

    func texts(_ sql: String) async throws -> [String] {
        try await sqlite.queue.read { db in try String.fetchAll(db, sql: sql) }
    }

    func tamper(_ tamper: AuditTamper) async throws {
        let at = StoreConformance.at
        try await sqlite.queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
            switch tamper {
            case .editEvent: try db.execute(sql: "UPDATE audit SET event = 'forged' WHERE seq = 2")
            case .editDetail: try db.execute(sql: "UPDATE audit SET detail = '{\"n\":\"9\"}' WHERE seq = 3")
            case .deleteMiddle: try db.execute(sql: "DELETE FROM audit WHERE seq = 2")
            case .deleteLast: try db.execute(sql: "DELETE FROM audit WHERE seq = 4")
            case .reorderAt: try db.execute(sql: "UPDATE audit SET at = at + 1 WHERE seq = 1")
            case .rewriteLastWithHash:
                // An attacker who recomputes the last hash still breaks the head kept beside the chain.
                let previous = (try Data.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = 3") ?? Data()).hexString
                let forged = AuditChain.hash(previous: previous, seq: 4, draft: AuditDraft(at: at, event: "forged", reference: "r-4", detail: ["n": "4"]))
                try db.execute(sql: "UPDATE audit SET event = 'forged', hash = ? WHERE seq = 4", arguments: [forged])
            }
        }
    }

    func close() async {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A database of its own on the server `LETHE_TEST_POSTGRES_URL` names, dropped after the check.
struct PostgresFixture: StoreFixture {
    static let serverURL = ProcessInfo.processInfo.environment["LETHE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Why the PostgreSQL checks are skipped, as the test output shows it.
    static var skipReason: Comment {
        let why = ProcessInfo.processInfo.environment["LETHE_TEST_POSTGRES_UNAVAILABLE"].map { " (\($0))" } ?? ""
        return Comment(rawValue: "PostgreSQL checks skipped: LETHE_TEST_POSTGRES_URL is not set\(why); `make test` starts a throwaway server")
    }

    let server: PostgresStoreURL
    let url: PostgresStoreURL
    let postgres: PostgresStateStore
    var store: any StateStore { postgres }

    static func make() async throws -> PostgresFixture {
        guard let text = serverURL else { throw StoreError(code: "test.no_postgres", message: "LETHE_TEST_POSTGRES_URL is not set") }
        let server = try PostgresStoreURL(text)
        var url = server
        url.database = "lethe_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await server.createDatabase(url.database)
        return PostgresFixture(server: server, url: url, postgres: try await PostgresStateStore.open(url: url))
    }

    func reopen() async throws -> any StateStore { try await PostgresStateStore.open(url: url) }

    func another() async throws -> any StateStore {
        var other = server
        other.database = url.database + "_b"
        try await server.createDatabase(other.database)
        return try await PostgresStateStore.open(url: other)
    }

    func execute(_ sql: String) async throws {
        try await postgres.client.query(PostgresQuery(unsafeSQL: sql))
    }

    func texts(_ sql: String) async throws -> [String] {
        var found: [String] = []
        for try await text in try await postgres.client.query(PostgresQuery(unsafeSQL: sql)).decode(String.self) { found.append(text) }
        return found
    }

    func tamper(_ tamper: AuditTamper) async throws {
        let at = StoreConformance.at
        try await execute("ALTER TABLE audit DISABLE TRIGGER USER")
        switch tamper {
        case .editEvent:
            try await execute("INSERT INTO audit_words (word) VALUES ('forged')")
            try await execute("UPDATE audit SET event = (SELECT id FROM audit_words WHERE word = 'forged') WHERE seq = 2")
        case .editDetail: try await execute("UPDATE audit SET detail = '\\x0101'::bytea WHERE seq = 3")
        case .deleteMiddle: try await execute("DELETE FROM audit WHERE seq = 2")
        case .deleteLast: try await execute("DELETE FROM audit WHERE seq = 4")
        case .reorderAt: try await execute("UPDATE audit SET at = at + 1 WHERE seq = 1")
        case .rewriteLastWithHash:
            let previous = try await texts("SELECT encode(hash, 'hex') FROM audit WHERE seq = 3").first ?? ""
            let forged = AuditChain.hash(previous: previous, seq: 4, draft: AuditDraft(at: at, event: "forged", reference: "r-4", detail: ["n": "4"]))
            try await execute("INSERT INTO audit_words (word) VALUES ('forged')")
            try await execute(
                "UPDATE audit SET event = (SELECT id FROM audit_words WHERE word = 'forged'), hash = decode('\(forged)', 'hex') WHERE seq = 4")
        }
    }

    func close() async {
        await postgres.close()
        try? await server.dropDatabase(url.database)
        try? await server.dropDatabase(url.database + "_b")
    }
}
