import Foundation
import RetentionCore

/// How one client uses the budget shared with every client of its provider account.
struct SharedBudgetUse: Sendable {
    let budget: any SharedRateBudget
    /// The budget's key: never a credential (see `HTTPConfiguration.sharedBudgetAccount`).
    let account: String
    let requests: Int
    let per: Duration
    let clock: any LetheClock
    let sleep: @Sendable (Duration) async throws -> Void
    /// Whether the last ask failed (so that a failing store is reported once, not for every request).
    let failing = HTTPLocked(false)
}

extension RESTHTTPClient {
    /// Waits until the shared budget lets one attempt start (called inside the gate, after this
    /// client's own budget admitted it). When the budget cannot be asked (the state store fails), the
    /// attempt goes on under this client's own budget alone, with a warning when that starts and a
    /// note when the shared budget answers again.
    ///
    /// - Throws: `CancellationError` when the task is cancelled while waiting.
    func waitForSharedBudget() async throws {
        guard let shared = sharedBudget else { return }
        while true {
            try Task.checkCancellation()
            let wait: Duration
            do {
                wait = try await shared.budget.reserve(account: shared.account, requests: shared.requests, per: shared.per, at: shared.clock.now())
            } catch {
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                if !shared.failing.withLock({ failing in defer { failing = true }; return failing }) {
                    let code = (error as? any LetheError)?.code ?? String(describing: type(of: error))
                    log(.warning, "the shared request budget could not be asked: this connector keeps to its own budget until it can",
                        ["error": code])
                }
                return
            }
            if shared.failing.withLock({ failing in defer { failing = false }; return failing }) {
                log(.notice, "the shared request budget answers again", [:])
            }
            guard wait > .zero else { return }
            counters.withLock { $0.sharedBudgetWaits += 1 }
            try await shared.sleep(min(wait, shared.per))
        }
    }
}
