import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
public import RetentionStore
import Synchronization

/// `ConnectorRunLock` for several instances on one PostgreSQL: a session-level advisory lock,
/// `pg_try_advisory_lock(namespace, key(connector))`, held on a connection of its own for the run's
/// duration. Every instance and every `lethe sync` sharing the database excludes the others.
///
/// The server releases the lock when the connection ends: a holder killed with SIGKILL, or whose host
/// went away, frees it for the next run (at once for a closed socket; after the TCP keepalives this
/// lock sets on its session, about 25 seconds, for a host cut off the network). While the lock is
/// held, the connection is probed every `heartbeat` (`SELECT 1`, given `heartbeatTimeout` to answer);
/// a probe that fails or times out, or the connection closing, marks the lease lost, and the run
/// stops before its next operation (`RunLease.check`, `RunLockLost`). The probe notices a lost network
/// (≤ `heartbeat` + `heartbeatTimeout`, 10 s) before the server lets another holder in.
///
/// Two connectors whose keys collide (32 bits of SHA-256 of the name) only take turns: never less
/// exclusion, sometimes more.
public struct PostgresRunLock: ConnectorRunLock {
    /// The first key of every run lock ("leth" in ASCII); the migrations' lock uses the one-key form,
    /// which PostgreSQL keeps apart from two-key locks.
    public static let namespace: Int32 = 0x6C_65_74_68

    public let url: PostgresStoreURL
    /// The first pause of a waiting run; each next one doubles, up to `maxPoll`.
    public var poll: Duration = .milliseconds(100)
    public var maxPoll: Duration = .seconds(1)
    /// How often the held lock's connection is probed, and how long a probe may take.
    public var heartbeat: Duration = .seconds(5)
    public var heartbeatTimeout: Duration = .seconds(5)
    /// A run that still holds its lease this long after the lock was lost is stuck — a store call that
    /// never returns once its database went away — and `stuck` is called (by default: the process ends
    /// with exit status 1, saying why). Everything the run did is durable and the next run finishes
    /// it; a process that goes on as if it held the lock, or never ends, helps nobody. nil: never.
    public var stuckRunGrace: Duration? = .seconds(30)
    public var stuck: @Sendable (String) -> Void = { message in
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(1)
    }
    let logger = Logger(label: "lethe.runlock.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    public init(url: PostgresStoreURL) { self.url = url }

    /// The second key of a connector's lock: the first 32 bits of SHA-256 of its name (stable across
    /// processes, versions and platforms).
    public static func key(_ connector: String) -> Int32 {
        let digest = Array(SHA256.hash(data: Data(connector.utf8)))
        return Int32(bitPattern: UInt32(digest[0]) << 24 | UInt32(digest[1]) << 16 | UInt32(digest[2]) << 8 | UInt32(digest[3]))
    }

    public func acquire(connector: String, wait: Duration) async throws -> RunLease {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: try url.connectionConfiguration(), id: 0, logger: logger)
        } catch {
            throw StoreError(code: "store.lock", message: "cannot connect for the run lock of \(connector) to \(url.redacted): \(PostgresStateStore.describe(error))")
        }
        let key = Self.key(connector)
        do {
            // The server drops a session whose client's host stopped answering after about 25 seconds
            // (ignored on a Unix socket, where there is no network to lose).
            try await connection.query(
                """
                SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false),
                    set_config('tcp_keepalives_count', '3', false)
                """, logger: logger)
            let deadline = ContinuousClock.now + wait
            var pause = poll
            while true {
                let taken = try await connection.first(
                    "SELECT pg_try_advisory_lock(\(Self.namespace), \(key))", Bool.self, logger: logger) ?? false
                if taken { break }
                let left = deadline - ContinuousClock.now
                guard left > .zero else { throw RunInProgress(connector: connector) }
                try await Task.sleep(for: min(pause, left))
                pause = min(pause * 2, maxPoll)
            }
        } catch {
            try? await connection.close()
            if error is RunInProgress || error is CancellationError { throw error }
            throw StoreError(code: "store.lock", message: "cannot take the run lock of \(connector): \(PostgresStateStore.describe(error))")
        }
        let held = HeldLock(connector: connector, connection: connection, grace: stuckRunGrace, stuck: stuck)
        connection.closeFuture.whenComplete { _ in held.lose("its database connection closed") }
        let heartbeat = heartbeat
        let timeout = heartbeatTimeout
        let logger = logger
        let beating = Task {
            while !Task.isCancelled {
                do { try await Task.sleep(for: heartbeat) } catch { return }
                guard await Self.probe(connection, timeout: timeout, logger: logger) else {
                    held.lose("its database connection did not answer within \(timeout)")
                    try? await connection.close()
                    return
                }
            }
        }
        return RunLease(
            release: {
                held.release()
                beating.cancel()
                // Unlocked first (the next run need not wait for the close), then closed; the server
                // releases the lock with the session in any case.
                Task {
                    _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.namespace), \(key))", logger: logger)
                    try? await connection.close()
                }
            },
            check: { try held.check() })
    }

    /// Whether `SELECT 1` answered within `timeout`; a probe that does not is ended by closing the
    /// connection.
    static func probe(_ connection: PostgresConnection, timeout: Duration, logger: Logger) async -> Bool {
        await withTaskGroup(of: Bool?.self) { group in
            group.addTask { (try? await connection.query("SELECT 1", logger: logger)) != nil }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return nil }
                return false
            }
            var answered = false
            if let first = await group.next() { answered = first ?? false }
            // A query stuck on a dead network ends when its connection closes.
            if !answered { try? await connection.close() }
            group.cancelAll()
            return answered
        }
    }
}

/// The state of one held run lock: lost (and why) once its connection failed while held.
final class HeldLock: Sendable {
    let connector: String
    let connection: PostgresConnection
    private enum State { case held, lost(String), released }
    private let state = Mutex(State.held)

    let grace: Duration?
    let stuck: @Sendable (String) -> Void

    init(connector: String, connection: PostgresConnection, grace: Duration? = nil, stuck: @escaping @Sendable (String) -> Void = { _ in }) {
        self.connector = connector
        self.connection = connection
        self.grace = grace
        self.stuck = stuck
    }

    func lose(_ reason: String) {
        let lost = state.withLock { state -> Bool in
            guard case .held = state else { return false }
            state = .lost(reason)
            return true
        }
        guard lost, let grace else { return }
        // The run checks the lease before it acts again and then ends, releasing it; one that has not
        // after `grace` waits on something that will not come.
        Task {
            try? await Task.sleep(for: grace)
            let stillLost = state.withLock { state -> Bool in
                if case .lost = state { return true }
                return false
            }
            if stillLost {
                stuck("the run lock of \(connector) was lost (\(reason)) and the run did not stop within \(grace.components.seconds) s: stopping")
            }
        }
    }

    func release() { state.withLock { $0 = .released } }

    func check() throws {
        let reason: String? = state.withLock { state in
            switch state {
            case .held: nil
            case .lost(let reason): reason
            case .released: "it was released"
            }
        }
        if let reason { throw RunLockLost(connector: connector, reason: reason) }
    }
}
