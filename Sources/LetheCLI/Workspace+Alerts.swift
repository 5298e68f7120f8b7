import LetheConfig
import RetentionCore
import RetentionStore
import SyncCoordinator

extension Workspace {
    /// The operator alerts of `alerts:` over `store`, through the transport its `sink` names; nil when
    /// the config has no `alerts:` (or an empty `to`). Links point at `LETHE_PUBLIC_URL` when it is set.
    func operatorAlerts(store: any StateStore) throws -> OperatorAlerts? {
        guard let alerts = configuration.alerts else { return nil }
        guard let factory = registry.factory(for: alerts.sink.type),
            let sink = try factory.make(alerts.sink.settings, try context(for: "alerts")).noticeSink
        else {
            throw ConfigError(
                code: "config.alerts_sink", location: alerts.location, key: "alerts.sink",
                problem: "mail transport '\(alerts.sink.type)' cannot send mail")
        }
        let sender = alerts.sender ?? configuration.mail?.from ?? "lethe@localhost"
        let publicURL = environment.variables["LETHE_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let settings = OperatorAlerts.Settings(
            recipients: alerts.recipients, sender: sender, digestAbove: alerts.digestAbove, languages: alerts.languages, publicURL: publicURL)
        let connectors = try configuration.connectors.map { (name: $0.name, policy: try policy(for: $0)) }
        return OperatorAlerts(store: store, sink: sink, settings: settings, connectors: connectors, clock: clock, log: log)
    }
}
