import Foundation
import HubServer
import LetheConfig
import RetentionCore

/// The operators of the config (and the admin token) as the daemon and `lethe approve` check them.
extension Workspace {
    /// The daemon's settings from the environment, with the config's operators and four-eyes rule.
    func hubConfiguration() throws -> HubConfiguration {
        var hub: HubConfiguration
        do {
            hub = try HubConfiguration(environment: environment.variables)
        } catch {
            throw ConfigError(code: "config.environment", location: nil, key: "", problem: error.message)
        }
        hub.operators = configuration.operators.map { HubOperator(name: $0.name, tokenDigest: $0.tokenDigest) }
        hub.twoPersonAbove = configuration.approval.twoPersonAbove
        return hub
    }
}
