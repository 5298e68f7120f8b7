import Foundation
import PostgresStore
import Testing

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Two hub instances on one PostgreSQL state: `lethe sync` started in both at once, one of them
/// killed with SIGKILL at a random point (a chosen request to the CRM, before or after the CRM acts,
/// a random delay, or the moment a notice's temporary file appears), the other let go on; started
/// again until a run finishes. Then the invariants of `CrashTests` hold: each due contact deleted by
/// exactly one effective delete, nothing else touched, each notice once (both instances write to one
/// outbox), no temporary file, the audit chain verifies, the register lists each destruction once.
/// The instance not killed either finishes or gives up with "another run … in progress" (exit 1),
/// never anything else. `LETHE_CRASH_KILLS` kill points (default 6), each in a fresh world (a fresh
/// database) of `LETHE_CRASH_RECORDS` contacts (default 400); `LETHE_CRASH_SEED` replays a run.
@Suite(.serialized)
struct TwoInstanceCrashTests {
    static var kills: Int { ProcessInfo.processInfo.environment["LETHE_CRASH_KILLS"].flatMap(Int.init) ?? 6 }
    static var records: Int { ProcessInfo.processInfo.environment["LETHE_CRASH_RECORDS"].flatMap(Int.init) ?? 400 }
    /// Rounds within one world before it counts as not finishing.
    static let roundsPerWorld = 6

    @Test(.enabled(if: PostgresStoreCommandTests.server != nil, PostgresStoreCommandTests.skipReason), .timeLimit(.minutes(20)))
    func twoInstancesOneKilledEndWithEveryOperationExecutedOnce() async throws {
        let server = try PostgresStoreURL(try #require(PostgresStoreCommandTests.server))
        let seed = SeededGenerator.seed("LETHE_CRASH_SEED")
        print("TwoInstanceCrashTests: seed \(seed) (replay with LETHE_CRASH_SEED=\(seed)), \(Self.kills) kill points, \(Self.records) contacts")
        var generator = SeededGenerator(seed: seed)
        var killed = 0
        var worlds = 0
        var survivors: [String: Int] = [:]
        var requestsPerRun = 40
        var secondsPerRun = 1.0
        while killed < Self.kills {
            worlds += 1
            let fixture = CrashFixture(count: Self.records, generator: &generator)
            let world = try await TwoInstanceWorld(fixture: fixture, server: server)
            var log: [String] = []
            var finished = false
            var rounds = 0
            while !finished {
                rounds += 1
                #expect(rounds <= Self.roundsPerWorld, "seed \(seed) world \(worlds): no run finished: \(log)")
                guard rounds <= Self.roundsPerWorld else { break }
                let point = killed >= Self.kills ? nil : CrashTests.KillPoint.random(using: &generator, requests: requestsPerRun, seconds: secondsPerRun)
                let victim = Int.random(in: 0..<2, using: &generator)
                let requestsBefore = try await world.crash.fake.stats()["requests"] as? Int ?? 0
                // Both at (nearly) the same time; which one starts first is drawn too.
                let first = Int.random(in: 0..<2, using: &generator)
                var children: [CrashWorld.Child?] = [nil, nil]
                children[first] = try world.startSync(instance: first)
                children[1 - first] = try world.startSync(instance: 1 - first)
                guard let target = children[victim], let other = children[1 - victim] else { break }
                if case .request(let k, let phase) = point {
                    try await world.crash.fake.faults(["kill": ["pid": Int(target.pid), "request": k, "phase": phase]])
                }
                switch point {
                case .delay(let seconds):
                    if await !target.wait(seconds: seconds) { target.kill() }
                case .temporaryFile:
                    while target.process.isRunning, !world.crash.outboxHasTemporaryFile() { try await Task.sleep(nanoseconds: 100_000) }
                    target.kill()
                default: break
                }
                for child in [target, other] where await !child.wait(seconds: 120) {
                    child.kill()
                    Issue.record("seed \(seed) world \(worlds): lethe sync hung; \(child.errors.suffix(2000))")
                    _ = await child.wait(seconds: 10)
                }
                try await world.crash.fake.faults(["kill": NSNull()])
                let requests = (try await world.crash.fake.stats()["requests"] as? Int ?? 0) - requestsBefore
                let names = ["a", "b"]
                var round = "\(names[victim]) \(target.killed ? "killed \(point.map(String.init(describing:)) ?? "?")" : "\(Self.outcome(target))")"
                round += ", \(names[1 - victim]) \(Self.outcome(other)), \(requests) requests"
                log.append(round)
                if target.killed { killed += 1 }
                for child in [target, other] where !child.killed {
                    let inProgress = child.status == 1 && child.output.contains("another run of hubspot is in progress")
                    #expect(child.status == 0 || inProgress, "seed \(seed) world \(worlds): \(round): \(child.output) \(child.errors.suffix(3000))")
                    if child.status == 0 { finished = true }
                }
                if target.killed { survivors[Self.outcome(other), default: 0] += 1 }
                if point == nil || !target.killed {
                    requestsPerRun = max(requestsPerRun, requests)
                    let seconds = max(Date().timeIntervalSince(target.started), Date().timeIntervalSince(other.started))
                    secondsPerRun = (secondsPerRun + seconds) / 2
                }
            }
            print("TwoInstanceCrashTests: world \(worlds): \(log.joined(separator: "; "))")
            let label = "seed \(seed) world \(worlds) (\(log.joined(separator: "; ")))"
            try await world.crash.checkInvariants(label)

            // Once finished, a further run in either instance finds nothing left to do.
            for instance in 0..<2 {
                let again = try world.startSync(instance: instance)
                if await !again.wait(seconds: 120) { again.kill() }
                #expect(again.status == 0, "\(label): \(again.output)")
                for key in ["deleted", "fieldsErased", "noticesSent"] {
                    #expect(again.json[key] as? Int == 0, "\(label): a further run \(key) \(again.json[key] ?? "nil")")
                }
            }
            await world.drop()
        }
        print("TwoInstanceCrashTests: \(killed) kill points over \(worlds) worlds, every invariant held; the other instance then \(survivors)")
    }

    /// How a run that was not killed ended.
    static func outcome(_ child: CrashWorld.Child) -> String {
        if child.killed { return "killed" }
        if child.status == 1, child.output.contains("is in progress") { return "gave up (another run in progress)" }
        return child.status == 0 ? "finished" : "exited \(child.status)"
    }
}

/// A `CrashWorld` whose state is a fresh PostgreSQL database (`state.url` in its configuration), with
/// two instance folders (`state/a`, `state/b`: each instance's `LETHE_STATE_DIR`) and one outbox that
/// both write their notices to (`state/outbox`).
final class TwoInstanceWorld: @unchecked Sendable {
    let crash: CrashWorld
    let server: PostgresStoreURL
    let url: PostgresStoreURL
    let instances: [URL]

    init(fixture: CrashFixture, server: PostgresStoreURL, fakeArguments: [String] = []) async throws {
        self.server = server
        var url = server
        url.database = "lethe_two_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try await server.createDatabase(url.database)
        self.url = url
        let crash = try CrashWorld(fixture: fixture, fakeArguments: fakeArguments)
        crash.storeURL = url
        self.crash = crash
        instances = ["a", "b"].map { crash.state.appendingPathComponent($0) }
        let text = "postgres://\(url.user):\(url.password ?? "")@\(url.host):\(url.port)/\(url.database)?sslmode=disable"
        var yaml = try String(contentsOf: crash.config, encoding: .utf8)
        for (from, to) in [
            ("  directory: ${LETHE_STATE_DIR}\n", "  directory: ${LETHE_STATE_DIR}\n  url: \(text)\n"),
            ("directory: ${LETHE_STATE_DIR}/outbox", "directory: \(crash.outbox.path)"),
        ] {
            precondition(yaml.contains(from), "the crash world's configuration changed: \(from)")
            yaml = yaml.replacingOccurrences(of: from, with: to)
        }
        try yaml.write(to: crash.config, atomically: true, encoding: .utf8)
    }

    /// Drops the database (best effort; the test server is thrown away after the run in any case).
    func drop() async {
        try? await server.dropDatabase(url.database)
    }

    /// `lethe sync --as-of … --json` in one instance, started.
    func startSync(instance: Int) throws -> CrashWorld.Child {
        try start(["sync", "--as-of", CrashFixture.asOfText, "--json"], instance: instance)
    }

    /// A command in one instance (its own `LETHE_STATE_DIR`), started.
    func start(_ arguments: [String], instance: Int, variables: [String: String] = [:]) throws -> CrashWorld.Child {
        let binary = try #require(RunDaemonTests.binary, "build the lethe binary first (swift build --build-tests)")
        let logs = crash.root.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var environment = crash.environment
        environment["LETHE_STATE_DIR"] = instances[instance].path
        environment.merge(variables) { $1 }
        return try CrashWorld.Child(binary: binary, arguments: arguments + ["--config", crash.config.path], environment: environment, folder: logs)
    }
}

/// Two `lethe run` daemons on one PostgreSQL state, both scheduling the same connector every minute
/// and both asked over the API to sync it, in turns while the other runs it: the one that finds the
/// connector held by the other instance answers `sync.busy`, no operation is executed twice (each due
/// contact one effective delete, each notice once), and the audit chain verifies.
@Suite(.serialized)
struct TwoDaemonTests {
    static let adminToken = "admin-token-for-the-two-daemon-tests-0123456789"

    /// A `lethe run` of one instance, its log in a file.
    struct RunningDaemon {
        let child: CrashWorld.Child
        let port: Int

        var log: String { child.errors }
        func count(_ text: String) -> Int { log.components(separatedBy: text).count - 1 }

        func sync() async throws -> (Int, String) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/sync/hubspot")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(TwoDaemonTests.adminToken)", forHTTPHeaderField: "Authorization")
            request.timeoutInterval = 120
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        /// SIGTERM, then the exit status (nil, and killed, when it did not exit within `seconds`).
        func stop(within seconds: Double) async -> Int32? {
            child.process.terminate()
            if await child.wait(seconds: seconds) { return child.status }
            child.kill()
            return nil
        }
    }

    @Test(.enabled(if: PostgresStoreCommandTests.server != nil, PostgresStoreCommandTests.skipReason), .timeLimit(.minutes(5)))
    func twoDaemonsTakeTurnsAndExecuteEveryOperationOnce() async throws {
        let server = try PostgresStoreURL(try #require(PostgresStoreCommandTests.server))
        let seed = SeededGenerator.seed("LETHE_CRASH_SEED")
        var generator = SeededGenerator(seed: seed)
        let fixture = CrashFixture(count: CrashTests.records, generator: &generator)
        // Slow answers (100 ms each): a run holds the connector long enough for the other to find it held.
        let world = try await TwoInstanceWorld(fixture: fixture, server: server, fakeArguments: ["--latency-ms", "100"])
        var yaml = try String(contentsOf: world.crash.config, encoding: .utf8)
        precondition(yaml.contains("    policy: kr-pipa\n"), "the crash world's configuration changed")
        yaml = yaml.replacingOccurrences(of: "    policy: kr-pipa\n", with: "    policy: kr-pipa\n    schedule:\n      full: \"* * * * *\"\n")
        try yaml.write(to: world.crash.config, atomically: true, encoding: .utf8)

        var daemons: [RunningDaemon] = []
        defer { for daemon in daemons where daemon.child.process.isRunning { daemon.child.kill() } }
        for instance in 0..<2 {
            let child = try world.start(["run", "--as-of", CrashFixture.asOfText, "-v"], instance: instance, variables: [
                "LETHE_HTTP_PORT": "0", "LETHE_ADMIN_TOKEN": Self.adminToken, "LETHE_PUBLIC_URL": "https://lethe.example.test",
                // A run that finds the connector held gives up at once (and says so) instead of waiting.
                "LETHE_LOCK_WAIT_SECONDS": "0",
            ])
            var port = 0
            let deadline = Date().addingTimeInterval(30)
            while port == 0, child.process.isRunning, Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
                port = RunDaemonTests.Daemon.port(announcedBy: "lethe run: listening on", in: child.errors) ?? 0
            }
            daemons.append(RunningDaemon(child: child, port: port))
            try #require(port > 0, "the daemon did not start: \(child.errors.suffix(2000))")
        }

        // Turns: one instance syncs; while it holds the connector, the other is asked to and refuses.
        // The schedules run the connector every minute too: a turn whose first instance found it held by
        // a scheduled run proves nothing and is taken again.
        var turns: [String] = []
        for round in 0..<4 {
            let (first, second) = (daemons[round % 2], daemons[1 - round % 2])
            for attempt in 1...5 {
                let startedBefore = first.count("sync started")
                async let firstAnswer = first.sync()
                let deadline = Date().addingTimeInterval(30)
                while first.count("sync started") == startedBefore, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
                let refused = try await second.sync()
                let done = try await firstAnswer
                turns.append("\(round % 2 == 0 ? "a" : "b") \(done.0), other \(refused.0)")
                if done.0 == 502, done.1.contains("sync.busy"), attempt < 5 {
                    try await Task.sleep(for: .seconds(1))
                    continue
                }
                #expect(done.0 == 200, "round \(round): \(done.1)")
                #expect(refused.0 == 502 && refused.1.contains("sync.busy"), "round \(round): the other instance ran it at the same time: \(refused.1)")
                break
            }
        }

        // The schedules: both instances find the connector due at the next minute; one runs it.
        let startedBefore = daemons.map { $0.count("sync started") }
        let minute = (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        try await Task.sleep(for: .seconds(max(0, minute - Date().timeIntervalSince1970) + 5))
        let scheduled = zip(daemons, startedBefore).map { $0.count("sync started") - $1 }
        let busy = daemons.map { $0.count("sync.busy") }
        print("TwoDaemonTests: seed \(seed); turns \(turns); at the minute, runs started \(scheduled), sync.busy in the logs \(busy)")
        #expect(scheduled.reduce(0, +) >= 1, "a scheduled run started: \(daemons.map { $0.log.suffix(1500) })")

        for (index, daemon) in daemons.enumerated() {
            #expect(daemon.count("sync started") >= 2, "instance \(index) ran the connector")
            #expect(await daemon.stop(within: 20) == 0, "instance \(index) exits 0 on SIGTERM: \(daemon.log.suffix(1500))")
            let failures = daemon.log.split(separator: "\n").filter { ($0.hasPrefix("error") || $0.hasPrefix("warning")) && !$0.contains("sync.busy") }
            #expect(failures.isEmpty, "instance \(index): \(failures.prefix(5))")
        }
        try await world.crash.checkInvariants("seed \(seed), two daemons (\(turns))")
        // Nothing killed, nothing failed: each operation was asked of the CRM once, by one instance — every
        // due contact one delete request, every erasure one write.
        var repeated: [String] = []
        let byID = Dictionary(uniqueKeysWithValues: try await world.crash.fake.records().map { (String(describing: $0["provider_id"]!), $0) })
        for contact in fixture.contacts {
            let asked = byID[contact.hubspotID]?["delete_requests"] as? Int ?? -1
            let updates = byID[contact.hubspotID]?["updates"] as? Int ?? -1
            switch contact.outcome {
            case .delete: if asked != 1 { repeated.append("\(contact.hubspotID): \(asked) delete requests") }
            case .erase: if updates != 1 || asked != 0 { repeated.append("\(contact.hubspotID): \(updates) writes, \(asked) delete requests") }
            case .notice, .keep: if asked != 0 { repeated.append("\(contact.hubspotID): \(asked) delete requests") }
            }
        }
        #expect(repeated.isEmpty, "an operation asked of the CRM more than once: \(repeated.prefix(20))")
        await world.drop()
    }
}
