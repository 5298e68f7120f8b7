import Foundation
import PostgresStore
import Testing

/// `state.url` (`LETHE_STORE_URL`) puts the state in PostgreSQL: a sync gives the same counts as on
/// SQLite, and a URL that cannot be read is a config error at its key that never repeats the password.
@Suite struct PostgresStoreCommandTests {
    static let asOf = "2026-11-29T09:00:00+09:00"
    static let server = ProcessInfo.processInfo.environment["LETHE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static var skipReason: Comment {
        let why = ProcessInfo.processInfo.environment["LETHE_TEST_POSTGRES_UNAVAILABLE"].map { " (\($0))" } ?? ""
        return Comment(rawValue: "PostgreSQL checks skipped: LETHE_TEST_POSTGRES_URL is not set\(why); `make test` starts a throwaway server")
    }

    @Test(.enabled(if: PostgresStoreCommandTests.server != nil, PostgresStoreCommandTests.skipReason))
    func aSyncOnPostgresCountsWhatItCountsOnSQLite() async throws {
        let server = try PostgresStoreURL(try #require(Self.server))
        var url = server
        url.database = "lethe_cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await server.createDatabase(url.database)
        do {
            try await syncBoth(url)
        } catch {
            try? await server.dropDatabase(url.database)
            throw error
        }
        try await server.dropDatabase(url.database)
    }

    private func syncBoth(_ url: PostgresStoreURL) async throws {
        let text = "postgres://\(url.user):\(url.password ?? "")@\(url.host):\(url.port)/\(url.database)?sslmode=disable"

        let sqlite = try CLIHarness()
        let postgres = try CLIHarness(variables: ["LETHE_STORE_URL": text])
        let expected = await sqlite.run(["sync", "--as-of", Self.asOf, "--json"])
        let got = await postgres.run(["sync", "--as-of", Self.asOf, "--json"])
        #expect(got.status == expected.status, "\(got.stderr)")
        let keys = ["pulled", "quarantined", "noticesSent", "extended", "fieldsErased", "archived", "deleted", "failed", "awaitingApproval"]
        for key in keys {
            #expect(got.json[key] as? Int == expected.json[key] as? Int, "\(key)")
        }
        #expect((got.json["pulled"] as? Int ?? 0) > 0)
        #expect(!FileManager.default.fileExists(atPath: postgres.state.appendingPathComponent("lethe.sqlite").path), "no SQLite state beside PostgreSQL")
        if FileManager.default.fileExists(atPath: sqlite.state.appendingPathComponent("link-secret").path) {
            #expect(!FileManager.default.fileExists(atPath: postgres.state.appendingPathComponent("link-secret").path), "the link secret is in the database")
        }

        // A second run changes nothing more on either, and the audit chain verifies.
        let again = await postgres.run(["sync", "--as-of", Self.asOf, "--json"])
        let againSQLite = await sqlite.run(["sync", "--as-of", Self.asOf, "--json"])
        for key in keys { #expect(again.json[key] as? Int == againSQLite.json[key] as? Int, "\(key) again") }
        let verify = await postgres.run(["audit", "verify", "--json"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let status = await postgres.run(["status", "--json"])
        #expect(status.status == 0)
    }

    @Test func aStoreURLThatCannotBeReadIsAConfigErrorWithoutThePassword() async throws {
        for (url, part) in [
            ("postgres://lethe:s3cretpw@db.example:notaport/lethe", "port"),
            ("postgres://lethe:s3cretpw@db.example:5432/lethe?sslmode=sometimes", "sslmode"),
            ("postgres://lethe:s3cretpw@db.example:5432", "database"),
            ("mysql://lethe:s3cretpw@db.example/lethe", "state.url"),
        ] {
            let harness = try CLIHarness(variables: ["LETHE_STORE_URL": url])
            let result = await harness.run(["status", "--json"])
            #expect(result.status == 2, "\(url): \(result.stderr)")
            #expect(result.stderr.contains("state.url") && result.stderr.contains(part), "\(url): \(result.stderr)")
            #expect(!(result.stdout + result.stderr).contains("s3cretpw"), "the password is never repeated")
        }
    }

    @Test func anUnreachableServerFailsClearly() async throws {
        // A port nothing listens on (bound, never accepting): the store does not open and says where.
        let harness = try CLIHarness(variables: ["LETHE_STORE_URL": "postgres://lethe:s3cretpw@127.0.0.1:1/lethe?sslmode=disable"])
        let result = await harness.run(["status", "--json"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("127.0.0.1:1/lethe"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("s3cretpw"))
    }
}
