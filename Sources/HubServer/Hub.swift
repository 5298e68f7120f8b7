public import Foundation
public import RetentionCore
public import RetentionStore
public import SyncCoordinator

/// How one connector's webhooks are checked and read. Built from the connector's `webhook:` config
/// (LetheCLI wires WebhookIntake in); the server only calls these.
public struct WebhookEndpoint: Sendable {
    /// `nil` when the delivery is authentic; else a short reason code (`bad_signature`, …).
    public var verify: @Sendable (_ method: String, _ uri: String, _ headers: [(name: String, value: String)], _ body: Data, _ now: Date) -> String?
    /// The record events of an authentic delivery; throws on a malformed body.
    public var events: @Sendable (_ body: Data) throws -> [WebhookEventDraft]

    public init(
        verify: @escaping @Sendable (String, String, [(name: String, value: String)], Data, Date) -> String?,
        events: @escaping @Sendable (Data) throws -> [WebhookEventDraft]
    ) {
        self.verify = verify
        self.events = events
    }
}

/// A configured connector as the daemon runs it.
public struct HubConnector: Sendable {
    public var runtime: ConnectorRuntime
    public var webhook: WebhookEndpoint?
    /// The source can pull incrementally (its manifest has `incremental`).
    public var incremental: Bool

    public init(runtime: ConnectorRuntime, webhook: WebhookEndpoint? = nil, incremental: Bool = false) {
        self.runtime = runtime
        self.webhook = webhook
        self.incremental = incremental
    }
}

/// The daemon's shared state: the store, the coordinator, the connectors and the metrics. Routes,
/// the webhook processor and the scheduler all act through it, one connector at a time.
public final class Hub: Sendable {
    public let configuration: HubConfiguration
    public let store: any StateStore
    public let coordinator: SyncCoordinator
    public let connectors: [String: HubConnector]
    public let metrics: HubMetrics
    public let locks = ConnectorLocks()
    /// Policy time: consent links, plans and syncs (`--as-of` fixes it).
    public let clock: any LetheClock
    /// Real time for what a provider stamps: the freshness window of webhook signatures.
    public let wallClock: any LetheClock
    public let log: LogFunction
    /// Verifies the links of notices (`/consent/{token}`); nil: those routes answer 400.
    public let consentLinks: ConsentLinkSigner?
    /// Who may use the admin surface: operators' tokens and sign-in sessions (`Hub+Auth.swift`).
    public let authenticator: HubAuthenticator
    let wake = WakeSignal()
    /// Upkeep the daemon runs at start and hourly besides its own (the archive's retention).
    public let housekeeping: @Sendable () async -> Void
    /// The policies the what-if page compares with (`Hub+WhatIf.swift`); nil: it offers none.
    public let whatIfPolicies: WhatIfPolicies?

    public init(
        configuration: HubConfiguration, store: any StateStore, coordinator: SyncCoordinator, connectors: [HubConnector],
        clock: any LetheClock, wallClock: any LetheClock = SystemClock(), log: @escaping LogFunction, metrics: HubMetrics = HubMetrics(),
        consentLinks: ConsentLinkSigner? = nil, housekeeping: @escaping @Sendable () async -> Void = {}, whatIfPolicies: WhatIfPolicies? = nil
    ) {
        self.housekeeping = housekeeping
        self.whatIfPolicies = whatIfPolicies
        self.wallClock = wallClock
        self.consentLinks = consentLinks
        // Sessions are signed with a key derived from the installation's link secret, so every
        // instance accepts them; without a signer (tests), a key of this process alone.
        let sessionKey = consentLinks?.derivedKey(purpose: "lethe session v1")
            ?? Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        self.authenticator = HubAuthenticator(configuration: configuration, sessionKey: sessionKey)
        self.configuration = configuration
        self.store = store
        self.coordinator = coordinator
        self.connectors = Dictionary(connectors.map { ($0.runtime.name, $0) }) { first, _ in first }
        self.clock = clock
        self.log = log
        self.metrics = metrics
        metrics.prime(connectors: self.connectors.keys.sorted())
    }

    public var policies: [String: Policy] { connectors.mapValues(\.runtime.policy) }

    /// One sync of a connector under its lock; `nil` when it is already running.
    public func sync(_ name: String, incremental: Bool, wait: Bool = false) async throws -> SyncSummary? {
        guard let connector = connectors[name] else { return nil }
        let work: @Sendable () async throws -> SyncSummary = {
            let started = ContinuousClock.now
            do {
                let summary = try await self.coordinator.sync(
                    connector.runtime, options: .init(incremental: incremental && connector.incremental))
                self.metrics.sync(connector: name, kind: incremental ? "incremental" : "full", duration: ContinuousClock.now - started, summary: summary)
                return summary
            } catch {
                self.metrics.sync(connector: name, kind: incremental ? "incremental" : "full", duration: ContinuousClock.now - started, summary: nil)
                throw error
            }
        }
        return wait ? try await locks.withLock(name, work) : try await locks.ifFree(name, work)
    }

    /// Processes every connector's accepted webhook events (oldest first), a batch at a time: the
    /// latest event of each record wins, and every named record is re-read from the source — a
    /// record the source still has is ingested and evaluated whatever the event said (a deletion
    /// event is confirmed, never trusted), one it no longer has is tombstoned. Events are marked
    /// processed only after their sync finished: a crash re-processes them (idempotent). A batch
    /// that fails is retried with backoff; after `webhookAttempts` its events are dead-lettered
    /// (counted in `/api/status` and the metrics) and the connector goes on with the rest.
    public func processWebhookEvents(batch: Int = 500) async {
        for name in connectors.keys.sorted() {
            guard let connector = connectors[name] else { continue }
            while true {
                let pending: [PendingWebhookEvent]
                do {
                    pending = try await store.pendingWebhookEvents(connector: name, limit: batch, dueBy: wallClock.now())
                } catch {
                    log(.error, "webhook events could not be read", ["connector": name])
                    break
                }
                guard !pending.isEmpty else { break }
                let failed: (events: [PendingWebhookEvent], code: String)?
                do {
                    failed = try await locks.withLock(name) {
                        try await self.coordinator.withRunLock(name) {
                            // Read again under the run lock: another instance sharing the state may
                            // have processed these events meanwhile; each is processed once.
                            let pending = try await self.store.pendingWebhookEvents(connector: name, limit: batch, dueBy: self.wallClock.now())
                            guard !pending.isEmpty else { return nil }
                            do {
                                let started = ContinuousClock.now
                                let ids = Self.latestEventPerRecord(pending)
                                let summary = try await self.coordinator.syncRecords(
                                    connector.runtime, changed: ids.filter { !$0.deleted }.map(\.recordID), deleted: ids.filter(\.deleted).map(\.recordID))
                                self.metrics.sync(connector: name, kind: "webhook", duration: ContinuousClock.now - started, summary: summary)
                                try await self.store.finishWebhookEvents(pending.map(\.seq), at: self.clock.now())
                                return nil
                            } catch where !(error is CancellationError) && !(error is RunInProgress) && !Task.isCancelled {
                                return (pending, (error as? any LetheError)?.code ?? "\(type(of: error))")
                            }
                        }
                    }
                } catch {
                    // Cancelled (shutting down): the events stay pending for the next start.
                    guard !(error is CancellationError), !Task.isCancelled else { return }
                    // Another process runs this connector (a `lethe sync`, another instance): not a
                    // failure of the events; they wait for the next pass.
                    if error is RunInProgress { break }
                    let code = (error as? any LetheError)?.code ?? "\(type(of: error))"
                    await failWebhookEvents(pending, connector: name, code: code)
                    continue
                }
                if let failed { await failWebhookEvents(failed.events, connector: name, code: failed.code) }
            }
        }
    }

    /// Applies the consent decisions recorded while their connector was busy, for each connector
    /// that is free now.
    public func applyPendingConsents() async {
        for name in connectors.keys.sorted() {
            guard let connector = connectors[name] else { continue }
            do {
                _ = try await locks.ifFree(name) { try await self.coordinator.applyPendingConsents(connector.runtime) }
            } catch {
                log(.warning, "pending consent decisions could not be applied yet", ["connector": name, "code": (error as? any LetheError)?.code ?? "\(type(of: error))"])
            }
        }
    }

    /// Forgets processed webhook events (their keyed digests) older than the configured period
    /// (`LETHE_WEBHOOK_KEEP_DAYS`); pending and dead-lettered events stay.
    public func purgeProcessedWebhookEvents() async {
        let cutoff = wallClock.now().addingTimeInterval(-Double(configuration.webhookEventRetention.components.seconds))
        do {
            let purged = try await store.purgeWebhookEvents(processedBefore: cutoff)
            if purged > 0 { log(.info, "processed webhook events purged", ["events": String(purged)]) }
        } catch {
            log(.warning, "processed webhook events could not be purged", ["error": (error as? any LetheError)?.code ?? "\(type(of: error))"])
        }
    }

    /// One failed attempt for a batch of events: retried after a backoff, or dead-lettered once an
    /// event has had `webhookAttempts` attempts.
    func failWebhookEvents(_ events: [PendingWebhookEvent], connector name: String, code: String) async {
        let now = wallClock.now()
        let attempts = configuration.webhookAttempts
        let dead = events.filter { $0.attempts + 1 >= attempts }.map(\.seq)
        var retried = 0
        do {
            for (attempt, group) in Dictionary(grouping: events.filter { $0.attempts + 1 < attempts }, by: \.attempts) {
                // 5 s, 10 s, 20 s, … at most 5 minutes.
                let delay = min(5 * pow(2, Double(attempt)), 300)
                try await store.failWebhookEvents(group.map(\.seq), error: code, retryAt: now.addingTimeInterval(delay), at: now)
                retried += group.count
            }
            try await store.failWebhookEvents(dead, error: code, retryAt: nil, at: now)
        } catch {
            log(.error, "webhook failure not recorded; the events stay pending", ["connector": name])
            return
        }
        metrics.webhookEventsFailed(connector: name, retried: retried, dead: dead.count)
        log(dead.isEmpty ? .warning : .error, dead.isEmpty ? "webhook processing failed; the events are retried" : "webhook events dead-lettered", [
            "connector": name, "code": code, "retried": String(retried), "dead": String(dead.count),
        ])
    }

    /// The latest event of each record, in the order records first appear: a deletion followed by a
    /// restore (or the reverse) counts as its last event.
    static func latestEventPerRecord(_ events: [PendingWebhookEvent]) -> [PendingWebhookEvent] {
        var latest: [String: PendingWebhookEvent] = [:]
        var order: [String] = []
        for event in events.sorted(by: { $0.seq < $1.seq }) {
            if latest[event.recordID] == nil { order.append(event.recordID) }
            latest[event.recordID] = event
        }
        return order.compactMap { latest[$0] }
    }

    /// Asks the webhook processor to run now.
    public func wakeProcessor() async { await wake.signal() }
}

/// A wake-up signal that coalesces: signals while nobody waits are remembered once.
actor WakeSignal {
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?

    func signal() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            pending = true
        }
    }

    /// Returns at the next signal, or after `timeout`.
    func wait(timeout: Duration) async {
        if pending {
            pending = false
            return
        }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.signal()
        }
        await withCheckedContinuation { waiter = $0 }
        pending = false
        timer.cancel()
    }
}
