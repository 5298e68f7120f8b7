import ArgumentParser
import FileArchiveSink
import Foundation
import HubServer
import Hummingbird
import LetheConfig
import Logging
import RESTCRMConnector
import RetentionCore
import RetentionStore
import Scheduling
import ServiceLifecycle
import SyncCoordinator
import UnixSignals
import WebhookIntake

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the daemon: scheduled syncs, webhook intake, the admin API and metrics.",
        discussion: """
            Serves /webhooks/{connector}, /consent/{token} (the links of notices), /api (bearer LETHE_ADMIN_TOKEN or an \
            operator's token from `operators:`, or a session from /signin), \
            /metrics (bearer LETHE_METRICS_TOKEN; unset: 404; also on LETHE_METRICS_ADDRESS when set), /healthz and \
            /readyz on LETHE_HTTP_HOST:LETHE_HTTP_PORT (default 127.0.0.1:8080); runs each \
            connector's `schedule:` (missed runs once on start) and processes accepted webhooks within seconds. \
            Environment: LETHE_PUBLIC_URL (the URL CRMs and notice links use), LETHE_WEBHOOK_MAX_BYTES, \
            LETHE_SHUTDOWN_SECONDS, LETHE_LINK_SECRET, LETHE_WEBHOOK_KEEP_DAYS, LETHE_LOG_FORMAT (text or json). \
            A set LETHE_ADMIN_TOKEN, LETHE_METRICS_TOKEN or LETHE_LINK_SECRET shorter than 32 bytes: exit 2 before \
            anything listens. SIGTERM or SIGINT: stop \
            taking work, finish the step in progress, exit 0. --as-of fixes the policy's "now" (syncs, plans, \
            consent links); the scheduler and the freshness of webhook signatures follow real time. \
            With `alerts:` in the config, operators are mailed once per event about batches waiting for approval, \
            dead operations and overdue destructions, after each scheduled run and hourly. \
            See docs/operations.md.
            """
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let workspace = try Workspace(options: global)
        let environment = workspace.environment
        try workspace.checkSecrets()
        let hubConfiguration = try workspace.hubConfiguration()
        let store = try await workspace.openStore()
        let coordinator = try workspace.coordinator(store: store)
        var connectors: [HubConnector] = []
        var schedules: [String: ConnectorSchedule] = [:]
        var shutdowns: [@Sendable () async -> Void] = []
        for configured in workspace.configuration.connectors {
            let runtime = try workspace.runtime(configured)
            if let shutdown = runtime.shutdown { shutdowns.append(shutdown) }
            var endpoint: WebhookEndpoint?
            if let node = configured.webhook {
                if Self.webhookEnabled(node) {
                    endpoint = Self.endpoint(try WebhookConfiguration(config: node))
                } else {
                    workspace.log(.warning, "webhook secret is empty: the webhook route of this connector is off", ["connector": configured.name])
                }
            }
            if let node = configured.schedule {
                schedules[configured.name] = try ConnectorSchedule(config: node, defaultZone: runtime.policy.zone)
            }
            let incremental = runtime.source.supportsIncrementalPull
            connectors.append(HubConnector(runtime: runtime, webhook: endpoint, incremental: incremental))
        }
        // The archive's own retention, hourly: what outlived its `keep` is destroyed and audited.
        let archive = (try? ArchiveCommand.maintenance(workspace)).flatMap { $0.keep == nil ? nil : $0 }
        // Operator alerts (`alerts:`): checked after each scheduled run and with the hourly upkeep.
        let alerts = try workspace.operatorAlerts(store: store)
        // The dashboard's what-if page: the policy files beside the configuration, or a pasted policy.
        let catalog = try PolicyCatalog(configuration: workspace.configuration, loader: ConfigLoader(environment: environment.variables))
        let whatIf = WhatIfPolicies(files: { catalog.names() }, load: { try catalog.load($0) }, parse: { try PolicyCatalog.parse($0) })
        let hub = Hub(configuration: hubConfiguration, store: store, coordinator: coordinator, connectors: connectors,
                      clock: workspace.clock, log: workspace.log, consentLinks: try workspace.linkSigner(store: store),
                      housekeeping: {
                          await alerts?.checkLogged()
                          guard let archive else { return }
                          do {
                              _ = try await ArchiveCommand.purge(archive, workspace: workspace, store: store)
                          } catch {
                              workspace.log(.error, "archive purge failed", ["code": (error as? any LetheError)?.code ?? "\(type(of: error))"])
                          }
                      },
                      whatIfPolicies: whatIf)
        let format = LogFormat(environment: environment.variables)
        let logger = Logger(label: "lethe") { label in
            LetheLogHandler(label: label, output: environment.output, format: format, logLevel: global.verbose ? .info : .warning)
        }
        let app = Application(
            router: hub.router(),
            configuration: .init(address: .hostname(hubConfiguration.host, port: hubConfiguration.port), serverName: "lethe"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? hubConfiguration.port
                environment.output.err("lethe run: listening on \(hubConfiguration.host):\(port) (public URL \(hubConfiguration.publicURL))")
            },
            logger: logger
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: app),
            .init(service: WebhookProcessor(hub: hub)),
            .init(service: SchedulerService(hub: hub, planner: SchedulePlanner(schedules: schedules), afterRun: { await alerts?.checkLogged() })),
        ]
        if let host = hubConfiguration.metricsHost, let port = hubConfiguration.metricsPort {
            // A second listener for Prometheus alone, typically on loopback; same token rule.
            services.append(.init(service: Application(
                router: hub.metricsRouter(),
                configuration: .init(address: .hostname(host, port: port), serverName: "lethe"),
                onServerRunning: { channel in
                    environment.output.err("lethe run: metrics on \(host):\(channel.localAddress?.port ?? port)")
                },
                logger: logger
            )))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger
        )
        // After SIGTERM, what still runs then is cancelled: every step it took is durable.
        groupConfiguration.maximumGracefulShutdownDuration = hubConfiguration.shutdownGrace
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        for shutdown in shutdowns { await shutdown() }
        environment.output.err("lethe run: stopped")
    }

    /// A `webhook:` whose `secret` is empty (an unset `${VAR:-}`) is off rather than unauthenticated.
    static func webhookEnabled(_ node: ConfigNode) -> Bool {
        guard let secret = node["secret"] else { return true }
        if case .scalar(let text) = secret.value { return !text.isEmpty }
        return true
    }

    /// The server's view of a connector's `webhook:` configuration.
    static func endpoint(_ configuration: WebhookConfiguration) -> WebhookEndpoint {
        WebhookEndpoint(
            verify: { method, uri, headers, body, now in
                let request = WebhookRequest(method: method, uri: uri, headers: WebhookHeaders(headers), body: body)
                switch configuration.authentication.verify(request, now: now) {
                case .accepted: return nil
                case .rejected(let rejection): return rejection.code
                }
            },
            events: { body in
                try configuration.events.events(from: body).map {
                    WebhookEventDraft(eventID: $0.eventID, recordID: $0.recordID, deleted: $0.kind == .deleted)
                }
            }
        )
    }
}
