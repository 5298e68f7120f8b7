public import Foundation

/// Claims on pending operations, so that several executors sharing one state (hub instances on one
/// PostgreSQL, processes on one SQLite file) never execute the same operation at the same time.
///
/// A claim names its claimant (an opaque per-process token, `OutboxClaims.processClaimant`) and lasts
/// until an instant. An executor claims a page of due operations before it executes them and acts
/// only on those it got; it gives its claims up when it ends (`releaseClaims`). A claim whose holder
/// stopped without that lapses and is taken over. A claim on an operation that is no longer pending
/// (done, dead, cancelled) is inert. Claims live in `outbox_claims` (operation position, connector,
/// claimant, until), a table of their own, so that claiming is one small insert per operation.
public protocol OutboxClaimStore: Sendable {
    /// Claims those of `positions` that are operations of `connector`, `pending`, and not claimed by
    /// another claimant until after `now` (unclaimed, lapsed, or already the claimant's: renewed), for
    /// `claimant` until `until`. Returns the positions claimed. One statement: on PostgreSQL operations
    /// another transaction holds are skipped (`FOR UPDATE SKIP LOCKED`), so two claimants asking at
    /// once get disjoint sets; SQLite's single writer serialises them.
    func claim(connector: String, positions: [Int64], by claimant: String, until: Date, now: Date) async throws -> Set<Int64>
    /// Gives up every claim `claimant` holds on the connector's operations, and forgets claims
    /// (anyone's) that lapsed before `now`. Returns how many claims were removed.
    @discardableResult
    func releaseClaims(connector: String, by claimant: String, now: Date) async throws -> Int
}

public enum OutboxClaims {
    /// This process's claimant token: random, made once per process (it names no host, user or contact).
    public static let processClaimant: String = {
        var generator = SystemRandomNumberGenerator()
        return "lethe-" + String(generator.next() as UInt64, radix: 16)
    }()
}
