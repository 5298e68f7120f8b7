import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `lethe sync` killed with SIGKILL at random points — at a chosen request to the CRM (before or after
/// the CRM acts on it), after a random delay, or the moment a temporary file appears in the outbox —
/// and started again until a run finishes; then every contact is where the policy says, each due one
/// deleted by exactly one effective delete, each notice sent once, and the audit chain and register
/// whole. `LETHE_CRASH_KILLS` kill points (default 10) over fresh worlds of `LETHE_CRASH_RECORDS`
/// contacts (default 400); `LETHE_CRASH_SEED` replays a run.
@Suite(.serialized)
struct CrashTests {
    static var kills: Int { ProcessInfo.processInfo.environment["LETHE_CRASH_KILLS"].flatMap(Int.init) ?? 10 }
    static var records: Int { ProcessInfo.processInfo.environment["LETHE_CRASH_RECORDS"].flatMap(Int.init) ?? 400 }
    /// Kills within one world before it is let run to its end (then a fresh world).
    static let killsPerWorld = 4

    enum KillPoint: CustomStringConvertible {
        case request(Int, phase: String)
        case delay(Double)
        case temporaryFile

        /// Two in five at a request, two in five after a delay, one in five at a notice's write.
        static func random(using generator: inout SeededGenerator, requests: Int, seconds: Double) -> KillPoint {
            switch Int.random(in: 0..<5, using: &generator) {
            case 0, 1: .request(Int.random(in: 1...requests, using: &generator), phase: Bool.random(using: &generator) ? "after" : "before")
            case 2, 3: .delay(Double.random(in: 0.05...max(0.1, seconds), using: &generator))
            default: .temporaryFile
            }
        }

        var description: String {
            switch self {
            case .request(let k, let phase): "at request \(k) (\(phase) the CRM acts)"
            case .delay(let seconds): "after \(String(format: "%.3f", seconds)) s"
            case .temporaryFile: "when a temporary file appears in the outbox"
            }
        }
    }

    @Test(.timeLimit(.minutes(10)))
    func killedSyncsEndWithEveryDueRecordDeletedOnceAndEveryNoticeSentOnce() async throws {
        let seed = SeededGenerator.seed("LETHE_CRASH_SEED")
        print("CrashTests: seed \(seed) (replay with LETHE_CRASH_SEED=\(seed)), \(Self.kills) kill points, \(Self.records) contacts")
        var generator = SeededGenerator(seed: seed)
        var killed = 0
        var worlds = 0
        // What a whole run takes, learnt from the runs seen so far (kill points spread over it).
        var requestsPerRun = 40
        var secondsPerRun = 1.0
        while killed < Self.kills {
            worlds += 1
            let fixture = CrashFixture(count: Self.records, generator: &generator)
            let world = try CrashWorld(fixture: fixture)
            var log: [String] = []
            var killsHere = 0
            var runs = 0
            while true {
                runs += 1
                #expect(runs <= Self.killsPerWorld + 3, "seed \(seed) world \(worlds): no run finished: \(log)")
                guard runs <= Self.killsPerWorld + 3 else { break }
                let point = killsHere >= Self.killsPerWorld || killed >= Self.kills
                    ? nil : KillPoint.random(using: &generator, requests: requestsPerRun, seconds: secondsPerRun)
                let requestsBefore = try await world.fake.stats()["requests"] as? Int ?? 0
                let child = try world.startSync()
                if case .request(let k, let phase) = point {
                    try await world.fake.faults(["kill": ["pid": Int(child.pid), "request": k, "phase": phase]])
                }
                switch point {
                case .delay(let seconds):
                    if await !child.wait(seconds: seconds) { child.kill() }
                case .temporaryFile:
                    while child.process.isRunning, !world.outboxHasTemporaryFile() { try await Task.sleep(nanoseconds: 100_000) }
                    child.kill()
                default: break
                }
                if await !child.wait(seconds: 120) {
                    child.kill()
                    Issue.record("seed \(seed) world \(worlds): lethe sync hung; \(child.errors.suffix(2000))")
                    _ = await child.wait(seconds: 10)
                }
                try await world.fake.faults(["kill": NSNull()])
                let requests = (try await world.fake.stats()["requests"] as? Int ?? 0) - requestsBefore
                if child.killed {
                    killsHere += 1
                    killed += 1
                    log.append("killed \(point.map(String.init(describing:)) ?? "?") after \(requests) requests")
                    continue
                }
                let seconds = Date().timeIntervalSince(child.started)
                log.append("finished with \(child.status) after \(requests) requests, \(String(format: "%.2f", seconds)) s")
                if point == nil || runs == 1 {
                    requestsPerRun = max(requestsPerRun, requests)
                    // An average: one run slowed down by a loaded machine does not push later kill points past the end.
                    secondsPerRun = (secondsPerRun + seconds) / 2
                }
                #expect(child.status == 0, "seed \(seed) world \(worlds): \(child.output) \(child.errors.suffix(3000))")
                break
            }
            print("CrashTests: world \(worlds): \(log.joined(separator: "; "))")
            try await world.checkInvariants("seed \(seed) world \(worlds) (\(log.joined(separator: "; ")))")

            // Once finished, a further run finds nothing left to do.
            let again = try await world.run(["sync", "--as-of", CrashFixture.asOfText, "--json"])
            #expect(again.status == 0)
            for key in ["deleted", "fieldsErased", "noticesSent"] {
                #expect(again.json[key] as? Int == 0, "seed \(seed) world \(worlds): a further run \(key) \(again.json[key] ?? "nil")")
            }
        }
        print("CrashTests: \(killed) kill points over \(worlds) worlds, every invariant held")
    }

    /// The CSV connector: its write-back is one atomic rewrite of the file. Killed at random moments
    /// and the moment the rewrite's temporary copy (or a notice's) appears, the file ends as one
    /// undisturbed run leaves it, with the counts the fixture's oracle gives.
    @Test(.timeLimit(.minutes(10)))
    func killedCSVSyncsEndAsOneUndisturbedRunEnds() async throws {
        let seed = SeededGenerator.seed("LETHE_CRASH_SEED")
        print("CrashTests (CSV): seed \(seed) (replay with LETHE_CRASH_SEED=\(seed)), \(Self.kills) kill points")
        var generator = SeededGenerator(seed: seed)
        let variables = ["LETHE_MAX_DELETE_FRACTION": "1", "LETHE_MAX_DELETES_PER_RUN": "100000"]
        let alone = try CLIHarness(variables: variables)
        let started = Date()
        #expect(await alone.run(["sync", "--as-of", asOf]).status == 0)
        // Delays spread over a whole run (learnt again from the first run of each fixture).
        var secondsPerRun = max(0.2, Date().timeIntervalSince(started))
        let expectedFile = try Data(contentsOf: alone.csv)
        let oracle = try FullDiskTests.expected()
        let binary = try #require(RunDaemonTests.binary, "build the lethe binary first (swift build --build-tests)")
        let config = CLIHarness.repository.appendingPathComponent("config/lethe.yaml").path
        var killed = 0
        var worlds = 0
        while killed < Self.kills {
            worlds += 1
            let harness = try CLIHarness(variables: variables)
            let environment = ProcessInfo.processInfo.environment.merging(harness.variables) { $1 }
            var log: [String] = []
            var killsHere = 0
            while true {
                #expect(log.count <= Self.killsPerWorld + 3, "seed \(seed) world \(worlds): no run finished: \(log)")
                guard log.count <= Self.killsPerWorld + 3 else { break }
                let kill = killsHere < Self.killsPerWorld && killed < Self.kills
                let watch = kill && Int.random(in: 0..<3, using: &generator) == 0
                let delay = Double.random(in: 0.02...max(0.05, secondsPerRun), using: &generator)
                let child = try CrashWorld.Child(
                    binary: binary, arguments: ["sync", "--as-of", asOf, "--json", "--config", config], environment: environment, folder: harness.root)
                if watch {
                    while child.process.isRunning, !Self.writing(in: [harness.root, harness.state.appendingPathComponent("outbox")]) {
                        try await Task.sleep(nanoseconds: 100_000)
                    }
                    child.kill()
                } else if kill, await !child.wait(seconds: delay) {
                    child.kill()
                }
                if await !child.wait(seconds: 120) {
                    child.kill()
                    Issue.record("seed \(seed) world \(worlds): lethe sync hung; \(child.errors.suffix(2000))")
                    _ = await child.wait(seconds: 10)
                }
                if child.killed {
                    killsHere += 1
                    killed += 1
                    log.append(watch ? "killed mid-write" : "killed after \(String(format: "%.3f", delay)) s")
                    continue
                }
                let seconds = Date().timeIntervalSince(child.started)
                if log.isEmpty { secondsPerRun = (secondsPerRun + seconds) / 2 }
                log.append("finished with \(child.status) after \(String(format: "%.2f", seconds)) s")
                #expect(child.status == 0, "seed \(seed) world \(worlds): \(child.output) \(child.errors.suffix(3000))")
                break
            }
            print("CrashTests (CSV): world \(worlds): \(log.joined(separator: "; "))")
            let label = "seed \(seed) world \(worlds) (\(log.joined(separator: "; ")))"
            #expect(try Data(contentsOf: harness.csv) == expectedFile, "\(label): the file is not as one run leaves it")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.root.path).filter { $0.hasSuffix(".tmp") }
                + (FileManager.default.enumerator(atPath: harness.state.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".tmp") }
            #expect(leftovers.isEmpty, "\(label): temporary files left: \(leftovers)")
            let outbox = harness.state.appendingPathComponent("outbox")
            let notices = try FileManager.default.contentsOfDirectory(atPath: outbox.path).filter { $0.hasSuffix(".eml") && !$0.hasPrefix(".") }
            let recipients = try notices.map { name in
                try String(contentsOf: outbox.appendingPathComponent(name), encoding: .utf8).components(separatedBy: "\r\n").first { $0.hasPrefix("To:") } ?? ""
            }
            #expect(notices.count == oracle["noticesSent"], "\(label): \(notices.count) notices")
            #expect(Set(recipients).count == recipients.count, "\(label): a recipient noticed twice")
            #expect(await harness.run(["audit", "verify"]).status == 0, "\(label)")
            let rows = await harness.run(["audit", "export", "--format", "json"]).json["register"] as? [[String: Any]] ?? []
            let deletes = rows.filter { ($0["method"] as? String ?? "").hasPrefix("원본 레코드 삭제") }
            let erasures = rows.filter { ($0["method"] as? String ?? "").hasPrefix("선택 항목 삭제") }
            #expect(deletes.count == oracle["deleted"], "\(label): \(deletes.count) deletes in the register")
            #expect(erasures.count == oracle["fieldsErased"], "\(label): \(erasures.count) erasures in the register")
            #expect(Set(deletes.map { $0["reference"] as? String ?? "" }).count == deletes.count, "\(label): a destruction listed twice")
            let again = await harness.run(["sync", "--as-of", asOf, "--json"])
            #expect(again.json["deleted"] as? Int == 0 && again.json["noticesSent"] as? Int == 0, "\(label): \(again.stdout)")
        }
        print("CrashTests (CSV): \(killed) kill points over \(worlds) worlds, every invariant held")
    }

    /// Whether a temporary file (a rewrite's copy, a notice being written) exists in one of the folders.
    static func writing(in folders: [URL]) -> Bool {
        folders.contains { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).contains { $0.hasPrefix(".") && $0.hasSuffix(".tmp") }
        }
    }
}

extension CrashWorld {
    /// Whether a notice is being written right now (its hidden temporary file exists).
    func outboxHasTemporaryFile() -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: outbox.path) else { return false }
        return names.contains { $0.hasPrefix(".") && $0.hasSuffix(".tmp") }
    }
}
