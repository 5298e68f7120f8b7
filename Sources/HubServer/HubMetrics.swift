public import Foundation
import Metrics
public import Prometheus
public import RetentionCore
public import RetentionStore
public import SyncCoordinator

/// Lethe's metrics, every name prefixed `lethe_`, labelled only by connector names, states, kinds,
/// outcomes and reason codes — never by record ids or field values.
///
/// Counters are swift-metrics instruments made by a factory over this hub's own Prometheus registry
/// (no global bootstrap, so several hubs can live in one test process); gauges that describe the
/// store are refreshed from it when `/metrics` is scraped, at most once per `refreshInterval`
/// (scrapes in between, however many, run no store query). Every family is present from the
/// first scrape: `prime(connectors:)` registers each at zero.
public final class HubMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let gate: RefreshGate

    public init(refreshInterval: TimeInterval = 30) {
        registry = PrometheusCollectorRegistry()
        factory = PrometheusMetricsFactory(registry: registry)
        gate = RefreshGate(interval: refreshInterval)
    }

    /// How many times the store gauges were refreshed (each refresh runs the store's count queries).
    public var refreshes: Int { get async { await gate.count } }

    /// Registers every family at zero for these connectors, so dashboards and alerts find each one
    /// before anything happened.
    public func prime(connectors: [String]) {
        for connector in connectors {
            Counter(label: "lethe_webhook_deliveries_total", dimensions: [("connector", connector), ("result", "accepted"), ("reason", "ok")], factory: factory)
                .increment(by: 0)
            for result in ["accepted", "replayed", "retried", "dead"] {
                Counter(label: "lethe_webhook_events_total", dimensions: [("connector", connector), ("result", result)], factory: factory).increment(by: 0)
            }
            for kind in ["full", "incremental", "webhook"] {
                Counter(label: "lethe_syncs_total", dimensions: [("connector", connector), ("kind", kind), ("result", "ok")], factory: factory).increment(by: 0)
                Counter(label: "lethe_syncs_total", dimensions: [("connector", connector), ("kind", kind), ("result", "failed")], factory: factory).increment(by: 0)
            }
            _ = Timer(label: "lethe_sync_duration_seconds", dimensions: [("connector", connector), ("kind", "full")], factory: factory)
            Counter(label: "lethe_operations_total", dimensions: [("connector", connector), ("kind", "delete"), ("outcome", "done")], factory: factory)
                .increment(by: 0)
            Gauge(label: "lethe_records", dimensions: [("connector", connector), ("state", "active")], factory: factory).record(0)
            Gauge(label: "lethe_outbox_operations", dimensions: [("connector", connector), ("kind", "delete"), ("status", "pending")], factory: factory)
                .record(0)
            Gauge(label: "lethe_records_missing_awaiting_approval", dimensions: [("connector", connector)], factory: factory).record(0)
            Gauge(label: "lethe_records_reappeared", dimensions: [("connector", connector)], factory: factory).record(0)
            Gauge(label: "lethe_overdue_destructions", dimensions: [("connector", connector)], factory: factory).record(0)
        }
    }

    /// Refreshes the store gauges unless they were refreshed less than the interval before `at`;
    /// concurrent scrapes share one refresh.
    public func refreshIfStale(store: any StateStore, policies: [String: Policy], now: Date, at instant: Date) async {
        await gate.run(at: instant) { try? await self.refresh(store: store, policies: policies, now: now) }
    }

    public func webhook(connector: String, accepted: Bool, reason: String) {
        Counter(
            label: "lethe_webhook_deliveries_total",
            dimensions: [("connector", connector), ("result", accepted ? "accepted" : "rejected"), ("reason", reason)],
            factory: factory
        ).increment()
    }

    public func webhookEvents(connector: String, accepted: Int, replayed: Int) {
        Counter(label: "lethe_webhook_events_total", dimensions: [("connector", connector), ("result", "accepted")], factory: factory)
            .increment(by: accepted)
        Counter(label: "lethe_webhook_events_total", dimensions: [("connector", connector), ("result", "replayed")], factory: factory)
            .increment(by: replayed)
    }

    /// Webhook events whose processing failed: retried later, or dead-lettered after their attempts.
    public func webhookEventsFailed(connector: String, retried: Int, dead: Int) {
        Counter(label: "lethe_webhook_events_total", dimensions: [("connector", connector), ("result", "retried")], factory: factory)
            .increment(by: retried)
        Counter(label: "lethe_webhook_events_total", dimensions: [("connector", connector), ("result", "dead")], factory: factory)
            .increment(by: dead)
    }

    /// A finished sync: its duration and the operations it completed or failed.
    public func sync(connector: String, kind: String, duration: Duration, summary: SyncSummary?) {
        Timer(label: "lethe_sync_duration_seconds", dimensions: [("connector", connector), ("kind", kind)], factory: factory)
            .recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        Counter(
            label: "lethe_syncs_total", dimensions: [("connector", connector), ("kind", kind), ("result", summary == nil ? "failed" : "ok")],
            factory: factory
        ).increment()
        guard let summary else { return }
        let outcomes: [(String, String, Int)] = [
            ("notify", "done", summary.noticesSent), ("extend", "done", summary.extended), ("erase-fields", "done", summary.fieldsErased),
            ("archive", "done", summary.archived), ("delete", "done", summary.deleted), ("any", "failed", summary.failed),
            ("any", "cancelled", summary.cancelled), ("delete", "awaiting-approval", summary.awaitingApproval),
        ]
        for (operation, outcome, count) in outcomes where count > 0 {
            Counter(label: "lethe_operations_total", dimensions: [("connector", connector), ("kind", operation), ("outcome", outcome)], factory: factory)
                .increment(by: count)
        }
    }

    /// Refreshes the store gauges: records by connector and state, operations by kind and status,
    /// overdue destructions per connector (expiry + destroyWithin passed and still live).
    public func refresh(store: any StateStore, policies: [String: Policy], now: Date) async throws {
        let status = try await store.statusCounts()
        for (connector, phases) in status.records {
            for (phase, count) in phases {
                Gauge(label: "lethe_records", dimensions: [("connector", connector), ("state", phase)], factory: factory).record(count)
            }
        }
        for (connector, operations) in status.operations {
            for (key, count) in operations {
                let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                Gauge(label: "lethe_outbox_operations", dimensions: [("connector", connector), ("kind", parts[0]), ("status", parts[1])], factory: factory)
                    .record(count)
            }
        }
        var missing: [String: Int] = [:]
        for batch in status.openBatches { missing[batch.connector, default: 0] += batch.missingRecords }
        for connector in policies.keys {
            Gauge(label: "lethe_records_missing_awaiting_approval", dimensions: [("connector", connector)], factory: factory).record(missing[connector] ?? 0)
            Gauge(label: "lethe_records_reappeared", dimensions: [("connector", connector)], factory: factory).record(status.reappeared[connector] ?? 0)
        }
        for (connector, policy) in policies {
            let overdue = try await store.overdueCount(connector: connector, policy: policy, now: now)
            Gauge(label: "lethe_overdue_destructions", dimensions: [("connector", connector)], factory: factory).record(overdue)
        }
    }

    /// The Prometheus text exposition.
    public func exposition() -> String {
        registry.emitToString()
    }
}

/// At most one refresh per interval, however many callers ask at once.
actor RefreshGate {
    let interval: TimeInterval
    private var last: Date?
    private var running: Task<Void, Never>?
    private(set) var count = 0

    init(interval: TimeInterval) { self.interval = interval }

    func run(at instant: Date, _ refresh: @escaping @Sendable () async -> Void) async {
        if let running {
            await running.value
            return
        }
        if let last, instant.timeIntervalSince(last) < interval, instant >= last { return }
        let task = Task { await refresh() }
        running = task
        count += 1
        await task.value
        last = instant
        running = nil
    }
}
