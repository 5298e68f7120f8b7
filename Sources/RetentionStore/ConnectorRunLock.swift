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
public final class RunLease: Sendable {
    private let releaser: @Sendable () -> Void
    private let released = Mutex(false)

    public init(release: @escaping @Sendable () -> Void) { releaser = release }

    public func release() {
        let first = released.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        if first { releaser() }
    }

    deinit { release() }
}

/// Another run of the connector held the lock for the whole wait.
public struct RunInProgress: LetheError {
    public var connector: String
    public var code: String { "sync.busy" }
    public var category: ErrorCategory { .transient }
    public var message: String { "another run of \(connector) is in progress" }

    public init(connector: String) { self.connector = connector }
}
