import Foundation
import GRDB
import PostgresStore
import RetentionCore
@testable import RetentionStore
import Testing

/// A SQLite state copied into PostgreSQL (`lethe store migrate`): records of earlier versions keep
/// the references they had (`legacy_refs`) and are found and destroyed by them there too; the audit
/// chain arrives with its head; a database that holds a state is refused and left as it was.
@Suite struct StateTransferTests {
    @Test(.enabled(if: PostgresFixture.serverURL != nil, PostgresFixture.skipReason))
    func recordsOfEarlierVersionsAreFoundByTheirReferencesAfterTheMove() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-transfer-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("lethe.sqlite")

        // A state of the version before the lean records: one live record, one destroyed, both with
        // references that do not carry their keys.
        let old = try DatabaseQueue(path: path.path)
        let secret: [UInt8] = [1, 2, 3]
        try await SQLiteMigrations.migrator(
            fingerprints: RecordFingerprints(secret: secret), operationIDs: OperationIdentifier(secret: Data(secret)),
            eventDigests: WebhookEventDigests(secret: Data(secret))
        ).migrate(old, upTo: "v7-reappeared")
        // And the tombstone of c-42, destroyed by that version, whose id comes back later.
        let returning = LegacyReferences(secret: Data(secret)).reference(connector: "crm", recordID: "c-42")
        try await old.write { db in
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('pseudonym_secret', ?)", arguments: [Data(secret).base64EncodedString()])
            try db.execute(
                sql: """
                    INSERT INTO records (connector, ref, record_id, fields, line, phase, state, seen_run, updated_at)
                    VALUES ('crm', 'r-00112233445566778899', 'c-7731', NULL, 2, 'active', ?, 1, 0),
                           ('crm', 'r-99887766554433221100', NULL, NULL, NULL, 'deleted', ?, 1, 0),
                           ('crm', ?, NULL, NULL, NULL, 'deleted', ?, 1, 0)
                    """,
                arguments: [StoreCodec.encode(state: LifecycleState(phase: .active)), StoreCodec.encode(state: LifecycleState(phase: .deleted)),
                            returning, StoreCodec.encode(state: LifecycleState(phase: .deleted))])
        }
        try old.close()
        let sqlite = try SQLiteStateStore(path: path)
        try await sqlite.queue.write { db in
            try db.execute(sql: """
                INSERT INTO outbox (id, connector, ref, record_id, kind, rule, cycle, fields, status, created_at, updated_at)
                VALUES ('op-legacy', 'crm', 'r-00112233445566778899', 'c-7731', 'delete', '*', 0, x'0100', 'pending', 0, 0)
                """)
        }
        try await sqlite.appendAudit([
            AuditDraft(at: StoreConformance.at, event: "record.quarantined", connector: "crm", reference: "r-00112233445566778899", detail: ["reason": "x"]),
            AuditDraft(at: StoreConformance.at, event: "note", detail: ["n": "2"]),
        ])
        _ = try await sqlite.appendAuditCheckpoint(at: StoreConformance.at)
        let head = try await sqlite.verifyAudit()
        #expect(head.ok && head.entries == 3)

        let fixture = try await PostgresFixture.make()
        do {
            let summary = try await fixture.postgres.importState(try sqlite.exportSnapshot(), linkSecret: Data(repeating: 7, count: 32))
            #expect(summary.counts["legacy_refs"] == 3 && summary.counts["record_state"] == 3 && summary.counts["outbox"] == 1)
            #expect(summary.audit.ok && summary.audit.headHash == head.headHash)

            let moved = try await PostgresStateStore.open(url: fixture.url)
            #expect(moved.linkSecret == Data(repeating: 7, count: 32))
            #expect(moved.reference(connector: "crm", recordID: "c-9") == sqlite.reference(connector: "crm", recordID: "c-9"), "the pseudonym key came along")
            #expect(try await moved.auditPublicKey() == sqlite.auditPublicKey())
            #expect(try await moved.verifyAudit().headHash == head.headHash)
            let live = try #require(try await moved.record(connector: "crm", reference: "r-00112233445566778899"))
            #expect(live.recordID == "c-7731" && live.state?.phase == .active)
            let tombstone = try #require(try await moved.record(connector: "crm", reference: "r-99887766554433221100"))
            #expect(tombstone.recordID == nil && tombstone.state?.phase == .deleted)

            // A delete of the record known by its earlier reference destroys it like any other.
            try await moved.complete(OperationCompletion(operationID: "op-legacy", status: .done, attempts: 1, effect: .tombstone(phase: .deleted), audit: []))
            let destroyed = try #require(try await moved.record(connector: "crm", reference: "r-00112233445566778899"))
            #expect(destroyed.recordID == nil && destroyed.state?.phase == .deleted)

            // c-42 is read again: each store writes it over its earlier version's tombstone and counts it
            // as reappeared (one record, found by its earlier reference, not a second one).
            for store in [sqlite, moved] as [any StateStore] {
                let key = store.fingerprints.key(connector: "crm", id: "c-42")
                let upsert = RecordUpsert(
                    key: key, reference: store.fingerprints.reference(connector: "crm", id: "c-42"), recordID: "c-42", digest: 1, facts: nil,
                    line: 9, state: LifecycleState(phase: .active), nextDue: nil, reason: nil, operations: [], isNew: true)
                let reappeared = try await store.write(connector: "crm", RecordWrites(at: StoreConformance.at, upserts: [upsert]))
                #expect(reappeared == 1, "\(type(of: store)): the record is counted as reappeared")
                let record = try #require(try await store.record(connector: "crm", reference: returning), "\(type(of: store))")
                #expect(record.recordID == "c-42" && record.key == key && record.line == 9, "\(type(of: store)): the tombstone took the record's key")
                #expect(try await store.knownRecords(connector: "crm").count == 3, "\(type(of: store)): no second row for c-42")
            }

            // The database holds a state now: a second copy is refused and changes nothing.
            await #expect(throws: StoreError.self) { _ = try await moved.importState(try sqlite.exportSnapshot(), linkSecret: nil) }
            #expect(try await moved.heldState()["record_state"] == 3)
            #expect(try await moved.verifyAudit().entries == 4, "the three moved, and c-42's record.reappeared")
            await moved.close()
        } catch {
            await fixture.close()
            throw error
        }
        await fixture.close()
    }
}
