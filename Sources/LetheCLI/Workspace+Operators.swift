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

extension Workspace {
    /// Checks operator tokens for commands (`lethe approve --token-env`): the config's operators and
    /// `LETHE_ADMIN_TOKEN` (the operator `admin`). Sessions are not used outside the daemon.
    func operatorAuthenticator() -> HubAuthenticator {
        var hub = HubConfiguration(adminToken: environment.variables["LETHE_ADMIN_TOKEN"])
        hub.operators = configuration.operators.map { HubOperator(name: $0.name, tokenDigest: $0.tokenDigest) }
        return HubAuthenticator(configuration: hub, sessionKey: Data(count: 32))
    }
}
