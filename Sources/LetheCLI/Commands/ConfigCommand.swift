import ArgumentParser
import Foundation
import RetentionStore
import LetheConfig
import RetentionCore
import Scheduling
import WebhookIntake

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check configuration files.",
        subcommands: [Validate.self]
    )

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the config and its policies; every error names file:line: key (exit 2 on errors).",
            discussion: """
                Also refuses a policy that writes a field its source cannot hold (config.unwritable_field: \
                a CSV without that column, a REST manifest without it in update.fields).
                """
        )
        @OptionGroup var global: GlobalOptions

        struct Report: Encodable {
            var ok: Bool
            var file: String
            var errors: [String]
            var connectors: [String]
            var policies: [String]
        }

        func run() async throws {
            let environment = CommandEnvironment.current
            var report = Report(ok: true, file: global.config, errors: [], connectors: [], policies: [])
            let file = URL(fileURLWithPath: global.config)
            if !FileManager.default.fileExists(atPath: file.path) {
                report.errors = ["\(global.config): the file does not exist"]
            } else {
                let loader = ConfigLoader(environment: environment.variables)
                report.errors = loader.diagnose(file: file, registry: BuiltinConnectors.registry).map(\.message)
                if report.errors.isEmpty {
                    report.errors = Self.checkConnectors(loader: loader, file: file, environment: environment).map(\.message)
                }
                if report.errors.isEmpty, let configuration = try? loader.load(file: file) {
                    report.connectors = configuration.connectors.map(\.name)
                    report.policies = configuration.policies.keys.sorted()
                }
            }
            report.ok = report.errors.isEmpty
            let output = environment.output
            if global.json {
                output.out(JSONOutput.line(report))
            } else if report.ok {
                output.out("\(global.config): OK (connectors: \(report.connectors.joined(separator: ", ")); policies: \(report.policies.joined(separator: ", ")))")
            } else {
                for error in report.errors { output.err(error) }
            }
            if !report.ok { throw ExitStatus.badUsage.exitCode }
        }

        /// What the settings name but cannot show: each connector's own check (a REST manifest).
        static func checkConnectors(loader: ConfigLoader, file: URL, environment: CommandEnvironment) -> [any LetheError] {
            guard let configuration = try? loader.load(file: file) else { return [] }
            var errors: [any LetheError] = []
            // The archive is checked (a key, or `encrypt: false`) when a policy archives, as it is then built.
            let archives = configuration.policies.values.contains { $0.action == .archiveThenDelete }
            for sink in [configuration.mail, archives ? configuration.archive : nil].compactMap({ $0 }) {
                guard let check = BuiltinConnectors.registry.factory(for: sink.type)?.check else { continue }
                let context = ConnectorContext(
                    name: "mail", clock: SystemClock(), log: { _, _, _ in }, stateDirectory: URL(fileURLWithPath: "/nonexistent"),
                    configDirectory: file.deletingLastPathComponent())
                do {
                    try check(sink.settings, context)
                } catch let error as any LetheError {
                    errors.append(error)
                } catch {}
            }
            for (index, connector) in configuration.connectors.enumerated() {
                do {
                    let zone = configuration.policies[connector.policy]?.zone ?? TimeZone(identifier: "Asia/Seoul")!
                    if let schedule = connector.schedule { _ = try ConnectorSchedule(config: schedule, defaultZone: zone) }
                    if let webhook = connector.webhook, RunCommand.webhookEnabled(webhook) { _ = try WebhookConfiguration(config: webhook) }
                } catch let error as any LetheError {
                    errors.append(error)
                } catch {}
                let context = ConnectorContext(
                    name: connector.name, clock: SystemClock(), log: { _, _, _ in },
                    stateDirectory: URL(fileURLWithPath: "/nonexistent"), configDirectory: file.deletingLastPathComponent(),
                    loadConfigFile: { url in try loader.loadTree(file: url) }
                )
                do {
                    try BuiltinConnectors.registry.factory(for: connector.type)?.check?(connector.settings, context)
                } catch let error as any LetheError {
                    errors.append(error)
                    continue
                } catch {
                    errors.append(GenericLetheError(code: "config.invalid", category: .config, message: "\(connector.name): \(type(of: error))"))
                    continue
                }
                if let policy = configuration.policies[connector.policy] {
                    errors += unwritableFields(connector: connector, index: index, policy: policy, context: context)
                }
            }
            return errors
        }

        /// Fields the connector's policy may write that its source cannot hold: each would end as a
        /// dead-lettered operation (`csv.unknown_field`, `rest.unmapped_field`), so it is refused here.
        static func unwritableFields(connector: ConnectorConfiguration, index: Int, policy: Policy, context: ConnectorContext) -> [any LetheError] {
            Workspace.unwritableFields(connector: connector, policy: policy, context: context).map { written in
                ConfigError(
                    code: "config.unwritable_field", location: connector.location, key: "connectors[\(index)].policy",
                    problem: "policy '\(policy.name)' writes '\(written.field)' (\(written.reason)), but connector '\(connector.name)' cannot write it"
                        + (connector.type == "csv" ? " (add the column to the file, or map it in settings.columns)" : " (add it to the manifest's update.fields)"))
            }
        }
    }
}
