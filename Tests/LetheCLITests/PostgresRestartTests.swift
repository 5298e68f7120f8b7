import Foundation
import PostgresStore
import Testing

/// The PostgreSQL server restarts (a fast shutdown: every session cut) while `lethe sync` runs with its
/// state there, after a drawn number of requests to the CRM: the run stops safely — exit 1 with an error
/// naming what broke (its run lock's connection, the state store), or exit 0 when nothing was left to
/// act on; never a hang — and once the server is back the next runs end where an undisturbed run ends
/// (`CrashWorld.checkInvariants`, and a further run has nothing left to do). It runs on a second
/// throwaway server of its own, which `scripts/test-postgres.sh` provides through a script that starts
/// and restarts it (`LETHE_TEST_POSTGRES_RESTART`), so that the tests beside it keep their sessions;
/// skipped, with the reason, without one. `LETHE_FAULT_SEED` replays a run.
@Suite(.serialized)
struct PostgresRestartTests {
    static let restart = ProcessInfo.processInfo.environment["LETHE_TEST_POSTGRES_RESTART"].flatMap { $0.isEmpty ? nil : $0 }
    static var enabled: Bool { PostgresStoreCommandTests.server != nil && restart != nil }
    static var skipReason: Comment {
        if PostgresStoreCommandTests.server == nil { return PostgresStoreCommandTests.skipReason }
        return "PostgreSQL restart checks skipped: LETHE_TEST_POSTGRES_RESTART is not set; scripts/test-postgres.sh starts a server it can restart"
    }

    /// Runs the restart script with `argument` (`start`: the server of these tests, created and started
    /// on first use, its URL printed; `restart`: a fast restart, returning once it accepts connections
    /// again), within `seconds`; returns what it printed. Its output goes to files of the world.
    static func script(_ argument: String, logs: URL, within seconds: Double = 90) async throws -> String {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let output = logs.appendingPathComponent("restart-\(argument).out")
        let errors = logs.appendingPathComponent("restart-\(argument).err")
        for file in [output, errors] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        // The script's exit status is written to a file when it ends, and that file is what is waited
        // for: Foundation sees a child's end only once every holder of the descriptors it gave the child
        // closed them, and a process another test starts at the same moment may inherit one of them
        // and hold it for its whole life.
        let ended = logs.appendingPathComponent("restart-\(argument).status")
        try? FileManager.default.removeItem(at: ended)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", #"status=0; bash "$0" "$1" || status=$?; echo "$status" > "$2.tmp" && mv "$2.tmp" "$2""#,
                             try #require(restart), argument, ended.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        // Polled: the task sleeps, not the thread (other tests keep the cooperative pool).
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32?
        while status == nil, Date() < deadline {
            status = (try? String(contentsOf: ended, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if status == nil { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        let text = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        let exit = try #require(status, "the restart script (\(argument)) did not end within \(Int(seconds)) s: \(text.suffix(1000))")
        try #require(exit == 0, "the restart script (\(argument)) failed (exit \(exit)): \(text.suffix(1000))")
        return ((try? String(contentsOf: output, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(.enabled(if: PostgresRestartTests.enabled, PostgresRestartTests.skipReason), .timeLimit(.minutes(3)))
    func aServerRestartMidRunStopsTheRunSafelyAndTheNextRunsFinishTheWork() async throws {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: logs) }
        // A server of its own: the restart cuts every session on it, and other tests use the shared one.
        let server = try PostgresStoreURL(try await Self.script("start", logs: logs))
        let seed = SeededGenerator.seed("LETHE_FAULT_SEED")
        print("PostgresRestartTests: seed \(seed) (replay with LETHE_FAULT_SEED=\(seed))")
        var generator = SeededGenerator(seed: seed)
        let fixture = CrashFixture(count: 300, generator: &generator)
        // Each CRM answer takes 400 ms (a run of this fixture asks about 25: three pages, the re-reads,
        // the writes), so the run is still at work when the server goes down, however slowly a loaded
        // machine lets this test look at the fake's count: while it reads and
        // evaluates (its lock is lost before it acts: exit 1) or while its writes are with the CRM (a
        // batch handed over finishes, and a run with nothing left to act on may end with exit 0).
        let world = try await TwoInstanceWorld(fixture: fixture, server: server, fakeArguments: ["--latency-ms", "400"])
        let restartAt = Int.random(in: 2...14, using: &generator)

        // -v: on a failure, its log says which step it was at.
        let child = try world.start(["sync", "--as-of", CrashFixture.asOfText, "--json", "-v"], instance: 0)
        var requests = 0
        while child.process.isRunning, requests < restartAt {
            try await Task.sleep(nanoseconds: 20_000_000)
            requests = try await world.crash.fake.stats()["requests"] as? Int ?? 0
        }
        let restarted = child.process.isRunning
        #expect(restarted, "seed \(seed): the run ended before the restart (after \(requests) requests): nothing was tested")
        if restarted { _ = try await Self.script("restart", logs: logs) }
        if await !child.wait(seconds: 60) {
            child.kill()
            Issue.record("seed \(seed): lethe sync hung after the restart: \(child.errors.suffix(2000))")
            _ = await child.wait(seconds: 10)
        }
        let total = try await world.crash.fake.stats()["requests"] as? Int ?? 0
        let done = ["deleted", "fieldsErased", "noticesSent"].map { "\($0) \(child.json[$0].map { "\($0)" } ?? "-")" }.joined(separator: ", ")
        var log = ["restart after \(requests) of \(total) requests (\(restarted ? "mid-run" : "after the run")): exit \(child.status) (\(done))"]
        #expect([0, 1].contains(child.status), "seed \(seed): \(log) \(child.errors.suffix(3000))")
        if restarted, child.status == 1 {
            // It says what broke (in --json, under "errors"): the run lock's connection, or the state
            // store's step and PostgreSQL's word for the cut session.
            // Or, a run stuck on a store call the restart left unanswered, stopped after its lock was
            // lost (no summary then): its standard error says so.
            let errors = child.json["errors"] as? [String] ?? []
            let stopped = child.errors.contains("the run lock of hubspot was lost") && child.errors.contains("the run did not stop")
            let named = stopped || !errors.isEmpty && errors.allSatisfy { error in
                ["run lock of hubspot was lost", "terminating connection", "connection", "database", "PostgreSQL"].contains { error.contains($0) }
            }
            #expect(named, "seed \(seed): the error names what broke: \(child.output.suffix(1500)) \(child.errors.suffix(1500))")
        } else if child.status == 0 {
            #expect((child.json["errors"] as? [String] ?? ["no summary"]).isEmpty, "seed \(seed): \(child.output.suffix(1500))")
        }

        var status = child.status
        for _ in 0..<4 where status != 0 {
            let run = try await world.startSync(instance: 0).finished(within: 60)
            status = run.status
            log.append("then exit \(run.status)")
        }
        print("PostgresRestartTests: \(log.joined(separator: "; "))")
        #expect(status == 0, "seed \(seed): no run finished after the restart: \(log)")
        let label = "seed \(seed) (\(log.joined(separator: "; ")))"
        try await world.crash.checkInvariants(label)
        // Nothing is left for a further run: what the runs reported done was done.
        let again = try await world.startSync(instance: 0).finished(within: 60)
        #expect(again.status == 0, "\(label): \(again.output) \(again.errors.suffix(1500))")
        for key in ["deleted", "fieldsErased", "noticesSent"] {
            #expect(again.json[key] as? Int == 0, "\(label): a further run \(key) \(again.json[key] ?? "nil")")
        }
        await world.drop()
    }
}

extension CrashWorld.Child {
    /// Waits for the process to end (killing it after `seconds`), then returns it.
    func finished(within seconds: Double) async -> CrashWorld.Child {
        if await !wait(seconds: seconds) {
            kill()
            Issue.record("lethe did not finish within \(Int(seconds)) s: \(errors.suffix(2000))")
            _ = await wait(seconds: 10)
        }
        return self
    }
}
