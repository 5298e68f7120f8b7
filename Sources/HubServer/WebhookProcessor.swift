import RetentionCore
public import ServiceLifecycle

/// Processes accepted webhook events as they arrive (woken by the intake route) and every few
/// seconds (events a previous process accepted but did not finish). On graceful shutdown it
/// finishes the pass in progress and stops; unprocessed events stay in the store for the next start.
/// At start and then hourly it purges processed events past their retention and runs the hub's
/// housekeeping (the archive's own retention). Each pass also applies
/// the consent decisions recorded while their connector was busy.
public struct WebhookProcessor: Service {
    let hub: Hub
    let interval: Duration

    public init(hub: Hub, interval: Duration = .seconds(5)) {
        self.hub = hub
        self.interval = interval
    }

    public func run() async throws {
        let stopping = StopFlag()
        var purged: ContinuousClock.Instant?
        await withGracefulShutdownHandler {
            while !(await stopping.isSet), !Task.isCancelled {
                if purged.map({ ContinuousClock.now - $0 >= .seconds(3600) }) ?? true {
                    await hub.purgeProcessedWebhookEvents()
                    await hub.housekeeping()
                    purged = ContinuousClock.now
                }
                await hub.processWebhookEvents()
                await hub.applyPendingConsents()
                guard !(await stopping.isSet), !Task.isCancelled else { break }
                await withTaskCancellationHandler {
                    await hub.wake.wait(timeout: interval)
                } onCancel: {
                    Task { await hub.wake.signal() }
                }
            }
        } onGracefulShutdown: {
            Task {
                await stopping.set()
                await hub.wake.signal()
            }
        }
    }
}

actor StopFlag {
    private(set) var isSet = false
    func set() { isSet = true }
}
