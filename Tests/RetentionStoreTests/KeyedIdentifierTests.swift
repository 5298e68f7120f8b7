import Crypto
import Foundation
import GRDB
import RetentionCore
@testable import RetentionStore
import Testing

/// Identifiers that stay after a record is destroyed (operation ids in the audit log, webhook event
/// ids) are keyed by the installation's secret: nobody without it can test candidate record ids.
@Suite struct KeyedIdentifierTests {
    static let cycle = Date(timeIntervalSince1970: 1_700_000_000)
    static let delete = PlannedOperation(kind: .delete, rule: "*", cycle: cycle)
    static let notify = PlannedOperation(kind: .notify, rule: "marketing", cycle: cycle)

    /// What anyone could compute from a guessed record id without the key.
    static func unkeyed(_ connector: String, _ recordID: String, _ operation: PlannedOperation, round: Int = 0) -> String {
        var identity = operation.identity(connector: connector, recordID: recordID)
        if round > 0 { identity += "\u{1F}round \(round)" }
        return "op-" + SHA256.hash(data: Data(identity.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    @Test func anOperationIDComputedWithoutTheKeyDoesNotMatch() {
        let mine = OperationIdentifier(secret: Data(repeating: 7, count: 32))
        let other = OperationIdentifier(secret: Data(repeating: 8, count: 32))
        for recordID in ["1", "2", "501", "kim@example.com"] {
            let id = mine.make(connector: "crm", recordID: recordID, operation: Self.delete)
            #expect(id.hasPrefix("op-") && id.count == 27)
            #expect(id == mine.make(connector: "crm", recordID: recordID, operation: Self.delete), "deterministic")
            #expect(id != Self.unkeyed("crm", recordID, Self.delete), "not the unkeyed hash of the identity")
            #expect(id != other.make(connector: "crm", recordID: recordID, operation: Self.delete), "another installation's key gives another id")
        }
        let later = mine.make(connector: "crm", recordID: "1", operation: Self.delete, round: 2)
        #expect(mine.round(of: later, connector: "crm", recordID: "1", operation: Self.delete) == 2)
        #expect(mine.round(of: Self.unkeyed("crm", "1", Self.delete, round: 2), connector: "crm", recordID: "1", operation: Self.delete) == nil)
    }

    /// Ids are stored and compared across versions: an id is `op-` and the first 12 bytes, in hex, of
    /// HMAC-SHA256 of the identity under the key derived from the secret — nothing else.
    @Test func anOperationIDIsTheKeyedMACOfItsIdentity() {
        let secret = Data(repeating: 7, count: 32)
        let derived = HMAC<SHA256>.authenticationCode(for: Data("lethe operation ids".utf8), using: SymmetricKey(data: secret))
        let identifiers = OperationIdentifier(secret: secret)
        for (recordID, operation, round) in [("1", Self.delete, 0), ("가나다-7", Self.notify, 0), ("501", Self.delete, 3)] {
            var identity = operation.identity(connector: "crm", recordID: recordID)
            if round > 0 { identity += "\u{1F}round \(round)" }
            let mac = HMAC<SHA256>.authenticationCode(for: Data(identity.utf8), using: SymmetricKey(data: Data(derived)))
            let expected = "op-" + Data(mac).prefix(12).map { String(format: "%02x", $0) }.joined()
            #expect(identifiers.make(connector: "crm", recordID: recordID, operation: operation, round: round) == expected)
        }
    }

    @Test func anOlderStateGetsKeyedOperationIDsAndForgetsProcessedWebhookEvents() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-keyed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("lethe.sqlite")
        let secret = Data(repeating: 3, count: 32)
        let old = try DatabaseQueue(path: path.path)
        try SQLiteMigrations.migrator(
            fingerprints: RecordFingerprints(secret: [UInt8](secret)), operationIDs: OperationIdentifier(secret: secret),
            eventDigests: WebhookEventDigests(secret: secret)
        ).migrate(old, upTo: "v9-outbox-record-key")
        let pendingNotice = Self.unkeyed("crm", "501", Self.notify)
        let secondDelete = Self.unkeyed("crm", "502", Self.delete, round: 1)
        let destroyed = Self.unkeyed("crm", "503", Self.delete)
        try await old.write { db in
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('pseudonym_secret', ?)", arguments: [secret.base64EncodedString()])
            for (id, recordID, kind, rule, status) in [
                (pendingNotice, "501", "notify", "marketing", "pending"), (secondDelete, "502", "delete", "*", "awaiting-approval"),
                (destroyed, nil, "delete", "*", "done"),
            ] as [(String, String?, String, String, String)] {
                try db.execute(
                    sql: """
                        INSERT INTO outbox (id, connector, ref, record_id, kind, rule, cycle, fields, status, created_at, updated_at)
                        VALUES (?, 'crm', 'r-00000000000000000000', ?, ?, ?, ?, ?, ?, 0, 0)
                        """,
                    arguments: [id, recordID, kind, rule, Self.cycle.timeIntervalSince1970, StoreCodec.encode(erased: []), status])
            }
            try db.execute(sql: """
                INSERT INTO webhook_events (connector, event_id, record_id, deleted, received_at, processed_at)
                VALUES ('crm', 'evt-501-created', '501', 0, 0, 1), ('crm', 'evt-502-changed', '502', 0, 0, NULL)
                """)
        }
        try old.close()

        let store = try SQLiteStateStore(path: path)
        let ids = store.operationIDs
        #expect(try await store.operation(id: pendingNotice) == nil)
        #expect(try await store.operation(id: ids.make(connector: "crm", recordID: "501", operation: Self.notify))?.status == .pending)
        #expect(try await store.operation(id: ids.make(connector: "crm", recordID: "502", operation: Self.delete, round: 1))?.kind == .delete,
                "the round is kept")
        #expect(try await store.operation(id: destroyed)?.status == .done, "a destroyed record's operation cannot be keyed again: kept as it was")

        let rows = try store.queue.read { db in try Row.fetchAll(db, sql: "SELECT event_id, record_id FROM webhook_events ORDER BY seq") }
        #expect(rows.allSatisfy { ($0[0] as String).hasPrefix("e-") }, "event ids are keyed digests")
        #expect(rows.map { $0[1] as String } == ["", "502"], "a processed event forgets its record; a pending one keeps it for processing")
        let replay = try await store.acceptWebhookEvents(
            connector: "crm", events: [WebhookEventDraft(eventID: "evt-501-created", recordID: "501", deleted: false)], at: Date())
        #expect(replay.replayed == 1 && replay.accepted == 0, "a replay is still recognised by its digest")
        let pending = try await store.pendingWebhookEvents(connector: "crm", limit: 10, dueBy: Date())
        #expect(pending.map(\.recordID) == ["502"])
    }

    @Test func processedWebhookEventsArePurgedAfterTheirPeriod() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-keyed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStateStore(path: directory.appendingPathComponent("lethe.sqlite"))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        _ = try await store.acceptWebhookEvents(connector: "crm", events: [
            WebhookEventDraft(eventID: "a", recordID: "1", deleted: false), WebhookEventDraft(eventID: "b", recordID: "2", deleted: false),
        ], at: start)
        let pending = try await store.pendingWebhookEvents(connector: "crm", limit: 10, dueBy: start)
        try await store.finishWebhookEvents([pending[0].seq], at: start)
        let stored = try await store.queue.read { db in try String.fetchAll(db, sql: "SELECT record_id FROM webhook_events ORDER BY seq") }
        #expect(stored == ["", "2"])
        #expect(try await store.purgeWebhookEvents(processedBefore: start) == 0, "not yet past its period")
        #expect(try await store.purgeWebhookEvents(processedBefore: start.addingTimeInterval(1)) == 1)
        #expect(try await store.pendingWebhookEvents(connector: "crm", limit: 10, dueBy: start).map(\.recordID) == ["2"], "pending events stay")
    }
}
