import Foundation
import GRDB
import RetentionStore
import Testing

/// One run of a connector at a time, across processes; a dry run changes nothing in the state.
@Suite(.serialized)
struct ConcurrentRunTests {
    /// Every table of a state database, row by row: what "the state" is.
    static func dump(_ harness: CLIHarness) throws -> String {
        let queue = try DatabaseQueue(path: harness.state.appendingPathComponent("lethe.sqlite").path)
        defer { try? queue.close() }
        return try queue.read { db in
            var text = ""
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for table in tables {
                text += "== \(table)\n"
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY 1") { text += "\(row)\n" }
            }
            return text
        }
    }

    /// `lethe` as a process, with the harness's variables.
    static func process(_ harness: CLIHarness, _ arguments: [String]) throws -> (Process, Pipe) {
        let binary = try #require(RunDaemonTests.binary, "build the lethe binary first (swift build --build-tests)")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments + ["--config", CLIHarness.repository.appendingPathComponent("config/lethe.yaml").path]
        process.environment = ProcessInfo.processInfo.environment.merging(harness.variables) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    @Test func twoSyncsStartedTogetherEndAsOneRunWouldLeaveTheFileAndTheState() async throws {
        let variables = ["LETHE_MAX_DELETE_FRACTION": "1", "LETHE_MAX_DELETES_PER_RUN": "100000"]
        let together = try CLIHarness(variables: variables)
        let started = try (0..<2).map { _ in try Self.process(together, ["sync", "--as-of", asOf, "--json"]) }
        var summaries: [[String: Any]] = []
        for (process, output) in started {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            summaries.append((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:])
        }
        let alone = try CLIHarness(variables: variables)
        let single = await alone.run(["sync", "--as-of", asOf, "--json"])
        #expect(single.status == 0)
        let deleted = summaries.compactMap { $0["deleted"] as? Int }
        #expect(deleted.sorted() == [0, single.json["deleted"] as? Int ?? -1], "one run did the work, the other found it done: \(deleted)")
        #expect(try Data(contentsOf: together.csv) == Data(contentsOf: alone.csv), "the file as one run leaves it")

        let statusTogether = await together.run(["status", "--json"])
        let statusAlone = await alone.run(["status", "--json"])
        #expect(NSDictionary(dictionary: statusTogether.json["records"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: statusAlone.json["records"] as? [String: Any] ?? [:]))
        #expect(NSDictionary(dictionary: statusTogether.json["operations"] as? [String: Any] ?? [:]) == NSDictionary(dictionary: statusAlone.json["operations"] as? [String: Any] ?? [:]))
        #expect(await together.run(["audit", "verify"]).status == 0)
    }

    @Test func aSecondRunWaitsThenGivesUpNamingTheConnector() async throws {
        var harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv")
        harness.variables["LETHE_LOCK_WAIT_SECONDS"] = "0.5"
        let lease = try await FileRunLock(folder: harness.state.appendingPathComponent("locks")).acquire(connector: "contacts", wait: .zero)
        let blocked = await harness.run(["sync", "--as-of", asOf, "--json"])
        #expect(blocked.status == 1)
        #expect((blocked.json["errors"] as? [String])?.first?.contains("another run of contacts is in progress") == true, "\(blocked.stdout)")
        #expect(!FileManager.default.fileExists(atPath: harness.state.appendingPathComponent("outbox").path), "nothing was done")
        lease.release()
        #expect(await harness.run(["sync", "--as-of", asOf]).status != 1, "free again once the other run ends")
    }

    @Test func aDryRunChangesNothingInTheState() async throws {
        let harness = try CLIHarness(csvFixture: "Tests/Fixtures/contacts-small.csv", variables: ["LETHE_MAX_DELETE_FRACTION": "1"])
        #expect(await harness.run(["sync", "--as-of", asOf]).status == 0)
        // The source moves on: rows removed (they would be gone) and the clock passes more expiries.
        let lines = try String(contentsOf: harness.csv, encoding: .utf8).components(separatedBy: "\r\n")
        try (lines.prefix(1) + lines.dropFirst(6)).joined(separator: "\r\n").write(to: harness.csv, atomically: true, encoding: .utf8)
        let fileBefore = try Data(contentsOf: harness.csv)
        let before = try Self.dump(harness)
        let dry = await harness.run(["sync", "--as-of", "2027-06-01T09:00:00+09:00", "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.json["gone"] as? Int ?? 0 > 0 || dry.json["deleted"] as? Int ?? 0 > 0, "the dry run reports what would happen: \(dry.stdout)")
        #expect(try Self.dump(harness) == before, "not one row of the state changed")
        #expect(try Data(contentsOf: harness.csv) == fileBefore)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.state.path).filter { $0.contains("dry-run") }
        #expect(leftovers.isEmpty, "the scratch copy is removed: \(leftovers)")
    }
}
