import Foundation
import PostgresStore
import RetentionCore
import RetentionStore
import Testing

/// `lethe store migrate --to postgres://…`: a SQLite state built by real syncs moves whole into an
/// empty PostgreSQL database — the same status, audit head, destruction register, references and
/// consent-link key — a database that already holds a state is refused, and a bad URL is a usage
/// error that names the part and never repeats the password.
@Suite struct StoreMigrateCommandTests {
    static let asOf = "2026-11-29T09:00:00+09:00"

    /// A fresh database on the test server, dropped after `body`.
    static func withDatabase(_ body: (PostgresStoreURL, String) async throws -> Void) async throws {
        let server = try PostgresStoreURL(try #require(PostgresStoreCommandTests.server))
        var url = server
        url.database = "lethe_migrate_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await server.createDatabase(url.database)
        let text = "postgres://\(url.user):\(url.password ?? "")@\(url.host):\(url.port)/\(url.database)?sslmode=disable"
        do {
            try await body(url, text)
        } catch {
            try? await server.dropDatabase(url.database)
            throw error
        }
        try await server.dropDatabase(url.database)
    }

    /// Records in every phase: deleted (an approved batch), quarantined, noticed, held, dead-lettered
    /// notices (addresses that are no mailbox) and deletes waiting in a batch.
    static func builtState() async throws -> CLIHarness {
        var harness = try CLIHarness()
        // Addresses of one domain that are no mailbox: their notices fail for good (dead letters).
        let text = try String(contentsOf: harness.csv, encoding: .utf8).replacingOccurrences(of: "@example.org", with: "#example.org")
        try text.write(to: harness.csv, atomically: true, encoding: .utf8)
        let first = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(first.json["awaitingApproval"] as? Int ?? 0 > 0, "\(first.stdout)\(first.stderr)")
        let approved = await harness.run(["approve", "contacts-1", "--by", "kim"])
        #expect(approved.status == 0, "\(approved.stderr)")
        let second = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(second.json["deleted"] as? Int ?? 0 > 0, "\(second.stdout)\(second.stderr)")
        let hold = await harness.run(["hold", "add", "--connector", "contacts", "--reason", "litigation 2026-17", "C001283"])
        #expect(hold.status == 0, "\(hold.stderr)")
        harness.variables["LETHE_MAX_DELETES_PER_RUN"] = "3"
        let later = await harness.run(["sync", "--as-of", "2027-12-01T09:00:00+09:00", "--json"])
        #expect(later.json["awaitingApproval"] as? Int ?? 0 > 0, "a second batch waits: \(later.stdout)\(later.stderr)")
        harness.variables["LETHE_MAX_DELETES_PER_RUN"] = nil
        return harness
    }

    @Test(.enabled(if: PostgresStoreCommandTests.server != nil, PostgresStoreCommandTests.skipReason))
    func aMigratedStateShowsWhatTheSQLiteStateShowed() async throws {
        let sqlite = try await Self.builtState()
        let status = await sqlite.run(["status", "--json"])
        #expect(status.status == 0)
        #expect(status.json["deadOperations"] as? Int ?? 0 > 0, "dead letters to move: \(status.stdout)")
        #expect((status.json["openApprovalBatches"] as? [Any])?.isEmpty == false, "a batch to move: \(status.stdout)")
        #expect(status.json["holds"] as? Int == 1)
        let verify = await sqlite.run(["audit", "verify", "--json"])
        let register = try await DeletionSafetyTests.registerRows(sqlite, config: CLIHarness.repository.appendingPathComponent("config/lethe.yaml").path)
        #expect(!register.isEmpty)
        let database = sqlite.state.appendingPathComponent("lethe.sqlite")

        try await Self.withDatabase { url, text in
            let migrate = await sqlite.run(["store", "migrate", "--to", text])
            #expect(migrate.status == 0, "\(migrate.stdout)\(migrate.stderr)")
            #expect(migrate.stdout.contains("left as it was"), "\(migrate.stdout)")
            #expect(migrate.stdout.contains("record_state"), "a line per table: \(migrate.stdout)")
            if let password = url.password, !password.isEmpty { #expect(!(migrate.stdout + migrate.stderr).contains(password)) }
            let after = await sqlite.run(["status", "--json"])
            #expect(after.stdout == status.stdout, "the SQLite state is as it was")
            #expect(await sqlite.run(["audit", "verify", "--json"]).stdout == verify.stdout)

            var postgres = sqlite
            postgres.variables["LETHE_STORE_URL"] = text
            let moved = await postgres.run(["status", "--json"])
            #expect(moved.status == 0, "\(moved.stderr)")
            #expect(NSDictionary(dictionary: moved.json) == NSDictionary(dictionary: status.json),
                    "the same status on PostgreSQL:\n\(moved.stdout)\n\(status.stdout)")
            let movedVerify = await postgres.run(["audit", "verify", "--json"])
            #expect(movedVerify.status == 0, "\(movedVerify.stdout)\(movedVerify.stderr)")
            #expect(movedVerify.json["headHash"] as? String == verify.json["headHash"] as? String)
            #expect(movedVerify.json["entries"] as? Int == verify.json["entries"] as? Int)
            let movedRegister = try await DeletionSafetyTests.registerRows(
                postgres, config: CLIHarness.repository.appendingPathComponent("config/lethe.yaml").path)
            #expect(movedRegister == register, "the same destruction register")

            // References, operation ids and consent links: the installation's keys came along.
            let sqliteStore = try SQLiteStateStore(path: database)
            let postgresStore = try await PostgresStateStore.open(url: url)
            let reference = sqliteStore.reference(connector: "contacts", recordID: "C001283")
            #expect(postgresStore.reference(connector: "contacts", recordID: "C001283") == reference)
            let held = try await postgresStore.record(connector: "contacts", reference: reference)
            let original = try await sqliteStore.record(connector: "contacts", reference: reference)
            #expect(held != nil && held?.state?.phase == original?.state?.phase && held?.key == original?.key)
            #expect(try await postgresStore.auditPublicKey() == sqliteStore.auditPublicKey())
            if let secret = try? Data(contentsOf: sqlite.state.appendingPathComponent("link-secret")) {
                #expect(postgresStore.linkSecret == secret, "consent links signed before the move still verify")
            }
            await postgresStore.close()

            // A sync on PostgreSQL goes on from where SQLite stopped: nothing new to do at the same instant.
            let resumed = await postgres.run(["sync", "--as-of", "2027-12-01T09:00:00+09:00", "--json"])
            #expect(resumed.json["noticesSent"] as? Int == 0 && resumed.json["deleted"] as? Int == 0, "\(resumed.stdout)\(resumed.stderr)")

            // The database now holds a state: a second move is refused and changes nothing.
            let again = await sqlite.run(["store", "migrate", "--to", text])
            #expect(again.status == 2, "\(again.stdout)\(again.stderr)")
            #expect(again.stderr.contains("already holds a Lethe state"), "\(again.stderr)")
        }
    }

    @Test(.enabled(if: PostgresStoreCommandTests.server != nil, PostgresStoreCommandTests.skipReason))
    func aSyncInProgressStopsTheMove() async throws {
        let sqlite = try CLIHarness()
        let first = await sqlite.run(["sync", "--as-of", Self.asOf, "--json"])
        #expect(first.status == 3)
        try await Self.withDatabase { _, text in
            let lease = try await FileRunLock(folder: sqlite.state.appendingPathComponent("locks")).acquire(connector: "contacts", wait: .zero)
            let busy = await sqlite.run(["store", "migrate", "--to", text])
            lease.release()
            #expect(busy.status == 1, "\(busy.stderr)")
            #expect(busy.stderr.contains("another run of contacts is in progress"), "\(busy.stderr)")
            var postgres = sqlite
            postgres.variables["LETHE_STORE_URL"] = text
            let empty = await postgres.run(["status", "--json"])
            #expect(empty.json["auditEntries"] as? Int == 0, "nothing was copied: \(empty.stdout)")
        }
    }

    @Test func aBadURLIsAUsageErrorNamingThePartWithoutThePassword() async throws {
        let harness = try CLIHarness()
        _ = await harness.run(["sync", "--as-of", Self.asOf, "--json"])
        for (url, part) in [
            ("postgres://lethe:s3cretpw@db.example:notaport/lethe", "port"),
            ("postgres://lethe:s3cretpw@db.example:5432/lethe?sslmode=sometimes", "sslmode"),
            ("postgres://lethe:s3cretpw@db.example:5432", "database"),
            ("mysql://lethe:s3cretpw@db.example/lethe", "scheme"),
        ] {
            let result = await harness.run(["store", "migrate", "--to", url])
            #expect(result.status == 2, "\(url): \(result.stderr)")
            #expect(result.stderr.contains("--to") && result.stderr.contains(part), "\(url): \(result.stderr)")
            #expect(!(result.stdout + result.stderr).contains("s3cretpw"), "the password is never repeated")
        }
    }

    @Test func withoutASQLiteStateThereIsNothingToMove() async throws {
        let harness = try CLIHarness()
        let result = await harness.run(["store", "migrate", "--to", "postgres://lethe:s3cretpw@127.0.0.1:1/lethe?sslmode=disable"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("no SQLite state"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: harness.state.appendingPathComponent("lethe.sqlite").path), "none was created")
    }
}
