import ArgumentParser
import Foundation
import RetentionStore
import LetheConfig
import RetentionCore

struct ConnectorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectors",
        abstract: "The connector types this build knows and the connectors configured.",
        subcommands: [List.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List connector types with their settings, and configured connectors.")
        @OptionGroup var global: GlobalOptions

        struct TypeInfo: Encodable {
            var type: String
            var summary: String
            var capabilities: [String]
            var settings: [Setting]
        }

        struct Setting: Encodable {
            var name: String
            var required: Bool
            var secret: Bool
            var defaultValue: String?
            var summary: String
        }

        struct Configured: Encodable {
            var name: String
            var type: String
            var policy: String
        }

        func run() async throws {
            let environment = CommandEnvironment.current
            let types = BuiltinConnectors.registry.factories.map { factory in
                TypeInfo(
                    type: factory.type, summary: factory.spec.summary,
                    capabilities: factory.spec.capabilities.map(\.rawValue).sorted(),
                    settings: factory.spec.fields.map {
                        Setting(name: $0.name, required: $0.required, secret: $0.secret, defaultValue: $0.defaultValue, summary: $0.summary)
                    }
                )
            }
            var configured: [Configured] = []
            if FileManager.default.fileExists(atPath: global.config) {
                let workspace = try Workspace(options: global)
                configured = workspace.configuration.connectors.map { Configured(name: $0.name, type: $0.type, policy: $0.policy) }
            }
            let output = environment.output
            if global.json {
                output.out(JSONOutput.line(["types": AnyEncodable(types), "configured": AnyEncodable(configured)]))
                return
            }
            for info in types {
                output.out("\(info.type) [\(info.capabilities.joined(separator: ", "))]: \(info.summary)")
                for setting in info.settings {
                    let flags = [setting.required ? "required" : nil, setting.secret ? "secret" : nil, setting.defaultValue.map { "default \($0)" }]
                        .compactMap { $0 }.joined(separator: ", ")
                    output.out("    \(setting.name)\(flags.isEmpty ? "" : " (\(flags))"): \(setting.summary)")
                }
            }
            if !configured.isEmpty {
                output.out("configured in \(global.config):")
                for connector in configured { output.out("    \(connector.name): type \(connector.type), policy \(connector.policy)") }
            }
        }
    }
}

struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
