import Foundation
import GRDB
import RetentionCore
@testable import RetentionStore
import Testing

/// A state written by a version that kept a copy of every contact's fields opens as the lean state:
/// the records keep their references and lifecycle, and the copies are gone from the file for good.
@Suite struct LeanMigrationTests {
    static let personal = ["kim.minjun.7731@example.com", "김민준", "010-5555-7731", "골프와 등산"]

    @Test func theCopiesOfContactsAreDroppedFromTheFileAndTheRecordsKept() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-migrate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("lethe.sqlite")

        // The schema as it stood before the lean state, with two records: one live, one destroyed.
        let state = LifecycleState(phase: .active)
        let old = try DatabaseQueue(path: path.path)
        try await old.write { db in try db.execute(sql: "PRAGMA secure_delete = OFF") }
        try await SQLiteMigrations.migrator(fingerprints: RecordFingerprints(secret: [1, 2, 3]), operationIDs: OperationIdentifier(secret: Data([1, 2, 3])), eventDigests: WebhookEventDigests(secret: Data([1, 2, 3])))
            .migrate(old, upTo: "v7-reappeared")
        try await old.write { db in
            let fields = StoreCodec.encode(fields: [
                "email": Self.personal[0], "name": Self.personal[1], "phone": Self.personal[2], "interests": Self.personal[3],
                "created_at": "2024-01-01", "purpose": "payment",
            ])
            try db.execute(
                sql: """
                    INSERT INTO records (connector, ref, record_id, fields, line, phase, state, seen_run, updated_at)
                    VALUES ('crm', 'r-00112233445566778899', 'c-7731', ?, 2, 'active', ?, 1, 0),
                           ('crm', 'r-99887766554433221100', NULL, NULL, NULL, 'deleted', ?, 1, 0)
                    """,
                arguments: [fields, StoreCodec.encode(state: state), StoreCodec.encode(state: LifecycleState(phase: .deleted))])
        }
        try old.close()
        #expect(Self.found(in: directory).count == Self.personal.count, "the old file holds the copies")

        let store = try SQLiteStateStore(path: path)
        #expect(Self.found(in: directory).isEmpty, "no copy left anywhere in the file")
        let live = try #require(try await store.record(connector: "crm", reference: "r-00112233445566778899"))
        #expect(live.recordID == "c-7731" && live.state?.phase == .active && live.facts == nil && live.digest == nil,
                "kept, and read again from its source at the next sync")
        let tombstone = try #require(try await store.record(connector: "crm", reference: "r-99887766554433221100"))
        #expect(tombstone.recordID == nil && tombstone.state?.phase == .deleted)
        #expect(try await store.knownRecords(connector: "crm").count == 2)

        // A delete of a record known by its earlier reference destroys it like any other.
        try await store.queue.write { db in
            try db.execute(sql: """
                INSERT INTO outbox (id, connector, ref, record_id, kind, rule, cycle, fields, status, created_at, updated_at)
                VALUES ('op-legacy', 'crm', 'r-00112233445566778899', 'c-7731', 'delete', '*', 0, x'0100', 'pending', 0, 0)
                """)
        }
        try await store.complete(OperationCompletion(operationID: "op-legacy", status: .done, attempts: 1, effect: .tombstone(phase: .deleted), audit: []))
        let destroyed = try #require(try await store.record(connector: "crm", reference: "r-00112233445566778899"))
        #expect(destroyed.recordID == nil && destroyed.state?.phase == .deleted)
    }

    /// The personal values found in the state folder's database files.
    static func found(in directory: URL) -> [String] {
        var bytes = Data()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix("lethe.sqlite") {
            bytes += (try? Data(contentsOf: directory.appendingPathComponent(name))) ?? Data()
        }
        return personal.filter { bytes.range(of: Data($0.utf8)) != nil }
    }
}
