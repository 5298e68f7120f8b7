import Foundation
public import RetentionCore
import Synchronization

/// One run of a connector at a time, across processes: a `lethe sync` beside `lethe run` or another
/// `lethe sync` on the same state waits for the other to finish.
///
/// Conformers guarantee: while a lease is held no other lease for the same connector is granted, in
/// this process or any other sharing the state; a lease whose process dies is released (by the
/// operating system, or by expiry); `acquire` waits at most `wait`, then throws `RunInProgress`.
public protocol ConnectorRunLock: Sendable {
    func acquire(connector: String, wait: Duration) async throws -> RunLease
}

/// A held run lock. Release it once (`release` is idempotent).
///
/// A lock held through something that can break while the run goes on (a database connection) says
/// so through `check`: the run calls `RunLease.checkCurrent()` before each step that acts on a source
/// or a recipient, and stops with `RunLockLost` once the lock may belong to someone else.
public final class RunLease: Sendable {
    private let releaser: @Sendable () -> Void
    private let checker: @Sendable () throws -> Void
    private let released = Mutex(false)

    public init(release: @escaping @Sendable () -> Void, check: @escaping @Sendable () throws -> Void = {}) {
        releaser = release
        checker = check
    }

    public func release() {
        let first = released.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { releaser() }
    }

    /// Throws (`RunLockLost`) when the lock is no longer certainly held.
    public func check() throws { try checker() }

    deinit { release() }

    /// The lease the current run holds (set by whoever acquired it, for the steps below it).
    @TaskLocal public static var current: RunLease?

    /// Throws when the current run's lease was lost; does nothing without a lease.
    public static func checkCurrent() throws { try current?.check() }
}

/// The run lock broke while the run went on (its database connection failed): another run may hold it
/// now, so this one stops before its next operation. Operations already done are recorded; those left
/// stay pending in the outbox for the next run.
public struct RunLockLost: LetheError {
    public var connector: String
    public var reason: String
    public var code: String { "sync.lock_lost" }
    public var category: ErrorCategory { .transient }
    public var message: String { "the run lock of \(connector) was lost (\(reason)); the run stopped before its next operation" }

    public init(connector: String, reason: String) {
        self.connector = connector
        self.reason = reason
    }
}

/// Another run of the connector held the lock for the whole wait.
public struct RunInProgress: LetheError {
    public var connector: String
    public var code: String { "sync.busy" }
    public var category: ErrorCategory { .transient }
    public var message: String { "another run of \(connector) is in progress" }

    public init(connector: String) { self.connector = connector }
}
