import Foundation
@testable import PostgresStore
import PostgresNIO
import RetentionCore
import RetentionStore
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The distributed run lock on the server `LETHE_TEST_POSTGRES_URL` names (skipped, with the reason,
/// without one). Each check uses connector names of its own, so checks running together do not meet.
@Suite("PostgresRunLock", .enabled(if: PostgresFixture.serverURL != nil, PostgresFixture.skipReason))
struct PostgresRunLockTests {
    let url = try! PostgresStoreURL(PostgresFixture.serverURL ?? "postgres://none@localhost/none")

    func lock() -> PostgresRunLock { PostgresRunLock(url: url) }

    /// A connector name no other check uses.
    func unique(_ name: String) -> String { name + "-" + UUID().uuidString.prefix(8) }

    @Test("a second lock on the same connector waits, fails with the message, and gets it once the first is released")
    func secondWaitsThenTakesOver() async throws {
        let connector = unique("contacts")
        let first = try await lock().acquire(connector: connector, wait: .zero)
        let started = ContinuousClock.now
        let error = await #expect(throws: RunInProgress.self) {
            _ = try await lock().acquire(connector: connector, wait: .milliseconds(400))
        }
        #expect(ContinuousClock.now - started >= .milliseconds(400), "it waited for the whole wait")
        #expect(error?.message == "another run of \(connector) is in progress")
        try first.check()
        first.release()
        // The release unlocks on the lock's own connection a moment later: the waiting run polls.
        let second = try await lock().acquire(connector: connector, wait: .seconds(20))
        try second.check()
        second.release()
    }

    @Test("different connectors do not block each other")
    func differentConnectors() async throws {
        let contacts = try await lock().acquire(connector: unique("contacts"), wait: .zero)
        let leads = try await lock().acquire(connector: unique("leads"), wait: .zero)
        try contacts.check()
        try leads.check()
        contacts.release()
        leads.release()
    }

    @Test("a lock held by a process killed with SIGKILL is taken over within the wait")
    func killedHolderIsTakenOver() async throws {
        let connector = unique("contacts")
        let holder = try PsqlHolder(url: try #require(PostgresFixture.serverURL), namespace: PostgresRunLock.namespace, key: PostgresRunLock.key(connector))
        defer { holder.stop() }
        try holder.waitUntilLocked()
        await #expect(throws: RunInProgress.self) { _ = try await lock().acquire(connector: connector, wait: .zero) }
        let waiting = Task { try await lock().acquire(connector: connector, wait: .seconds(30)) }
        holder.kill()
        let lease = try await waiting.value
        try lease.check()
        lease.release()
    }

    @Test("a held lock whose connection is ended is marked lost, and the run's check stops it")
    func brokenConnectionIsLost() async throws {
        let connector = unique("contacts")
        let lease = try await lock().acquire(connector: connector, wait: .zero)
        try lease.check()
        let fixture = try await PostgresFixture.make()
        defer { Task { await fixture.close() } }
        let ended = try await fixture.texts(
            """
            SELECT pg_terminate_backend(pid)::text FROM pg_locks
            WHERE locktype = 'advisory' AND classid = \(UInt32(bitPattern: PostgresRunLock.namespace))
              AND objid = \(UInt32(bitPattern: PostgresRunLock.key(connector))) AND objsubid = 2 AND granted
            """)
        #expect(ended == ["true"])
        // The connection's close is noticed at once; bounded wait for it, not a fixed sleep.
        let deadline = ContinuousClock.now + .seconds(20)
        while (try? lease.check()) != nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(throws: RunLockLost.self) { try lease.check() }
        #expect(throws: RunLockLost.self) {
            try RunLease.$current.withValue(lease) { try RunLease.checkCurrent() }
        }
        lease.release()
        // The server released it with the session: another run takes it.
        let next = try await lock().acquire(connector: connector, wait: .seconds(20))
        next.release()
    }

    @Test("a run that still holds a lost lock after the grace is reported stuck; one that stopped in time is not")
    func aRunStuckAfterItsLockIsLostIsStopped() async throws {
        let reports = Reports()
        for stops in [false, true] {
            let connector = unique("contacts")
            var lock = lock()
            // The run that stops has ample time to (however loaded the machine); the stuck one is told soon.
            lock.stuckRunGrace = stops ? .seconds(5) : .milliseconds(300)
            lock.stuck = { message in reports.add(message) }
            let lease = try await lock.acquire(connector: connector, wait: .zero)
            let fixture = try await PostgresFixture.make()
            _ = try await fixture.texts(
                """
                SELECT pg_terminate_backend(pid)::text FROM pg_locks
                WHERE locktype = 'advisory' AND classid = \(UInt32(bitPattern: PostgresRunLock.namespace))
                  AND objid = \(UInt32(bitPattern: PostgresRunLock.key(connector))) AND objsubid = 2 AND granted
                """)
            await fixture.close()
            let deadline = ContinuousClock.now + .seconds(20)
            while (try? lease.check()) != nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            // A run that checks its lease stops and releases it within the grace.
            if stops {
                lease.release()
                try await Task.sleep(for: .seconds(6))
            } else {
                let reported = ContinuousClock.now + .seconds(20)
                while reports.messages.allSatisfy({ !$0.contains(connector) }), ContinuousClock.now < reported {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            let said = reports.messages.filter { $0.contains(connector) }
            if stops {
                #expect(said.isEmpty, "a run that stopped in time is not reported: \(said)")
            } else {
                #expect(said.count == 1 && said[0].contains("was lost (its database connection closed) and the run did not stop"), "\(said)")
                lease.release()
            }
        }
    }

    final class Reports: Sendable {
        private let list = Mutex<[String]>([])
        func add(_ message: String) { list.withLock { $0.append(message) } }
        var messages: [String] { list.withLock { $0 } }
    }

    @Test("a connection the database closed is named in words in the store's error, not by a code name")
    func aClosedConnectionIsNamedInWords() {
        for (code, words) in [(PSQLError.Code.serverClosedConnection, "the database closed the connection"),
                              (.clientClosedConnection, "the connection to the database was closed"),
                              (.connectionError, "the connection to the database failed")] {
            #expect(PostgresTransaction.connectionProblem(code)?.hasPrefix(words) == true, "\(code)")
        }
        #expect(PostgresTransaction.connectionProblem(.server) == nil, "a server error keeps the server's message")
    }

    @Test("the key of a connector is stable and differs between connectors")
    func keys() {
        #expect(PostgresRunLock.key("contacts") == PostgresRunLock.key("contacts"))
        #expect(PostgresRunLock.key("contacts") != PostgresRunLock.key("leads"))
        // The first 32 bits of SHA-256("contacts"): the same in every process and version.
        #expect(PostgresRunLock.key("contacts") == Int32(bitPattern: 0xAA5A_F408))
    }
}

/// `psql` holding a session-level advisory lock, idle, until it is stopped or killed.
final class PsqlHolder: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let output = Pipe()

    static var psql: String? {
        let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            .map { "/usr/lib/postgresql/\($0)/bin/psql" }
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/psql" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(url: String, namespace: Int32, key: Int32) throws {
        guard let psql = Self.psql else { throw StoreError(code: "test.no_psql", message: "psql is not installed (apt-get install postgresql-client)") }
        process.executableURL = URL(fileURLWithPath: psql)
        // psql takes the URL as is, but not sslmode's absence: the test server's URL carries it.
        process.arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The lock is taken, then psql waits, idle, for more input: its session holds the lock.
        input.fileHandleForWriting.write(Data("SELECT 'locked' FROM pg_advisory_lock(\(namespace), \(key));\n".utf8))
    }

    /// Returns once psql printed that it holds the lock (throws if it ended first).
    func waitUntilLocked() throws {
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("locked") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw StoreError(code: "test.psql", message: "psql ended before it held the lock") }
            seen.append(chunk)
        }
    }

    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        if process.isRunning { kill() }
        try? input.fileHandleForWriting.close()
    }
}
