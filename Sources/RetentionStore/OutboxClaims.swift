import Crypto
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
    /// The claimants holding claims on the connector's operations that have not lapsed by `now`.
    func claimants(connector: String, now: Date) async throws -> Set<String>
}

public enum OutboxClaims {
    /// This process's claimant token, made once per process: `lethe-<process space>-<pid>-<random>`.
    /// The process space is a digest of the kernel's boot id and this process's PID namespace, so a
    /// token says which process made it to another process in the same space (a restarted hub on the
    /// same machine or container) and nothing to anyone else; it names no host, user or contact.
    public static let processClaimant: String = {
        var generator = SystemRandomNumberGenerator()
        return "lethe-\(processSpace ?? "unknown")-\(getpid())-" + String(generator.next() as UInt64, radix: 16)
    }()

    /// A digest of this kernel boot and PID namespace: processes that share it see each other's pids.
    public static let processSpace: String? = {
        guard let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8),
              let namespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid") else { return nil }
        let digest = SHA256.hash(data: Data((boot.trimmingCharacters(in: .whitespacesAndNewlines) + "\u{1F}" + namespace).utf8))
        return digest.prefix(6).hexString
    }()

    /// Whether `claimant` is the token of a process of this process space that has ended (so its
    /// claims need not wait to lapse). A token of another machine or container, of a process still
    /// running, or that cannot be read, is not.
    public static func endedHere(_ claimant: String, current: String = processClaimant) -> Bool {
        guard claimant != current, let space = processSpace else { return false }
        let parts = claimant.split(separator: "-")
        guard parts.count == 4, parts[0] == "lethe", parts[1] == space, let pid = Int32(parts[2]), pid > 0 else { return false }
        // Our own pid under another token: an earlier process this pid belonged to.
        if pid == getpid() { return true }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}
