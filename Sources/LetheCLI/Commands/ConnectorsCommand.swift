import ArgumentParser
import Foundation
import RetentionStore
import LetheConfig
import RetentionCore
import RESTCRMConnector

struct ConnectorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connectors",
        abstract: "The connector types this build knows and the connectors configured; test them read-only.",
        subcommands: [List.self, ConnectorsTestCommand.self]
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
            var manifest: String?
        }

        struct ManifestInfo: Encodable {
            var file: String
            var name: String?
            var summary: String?
            var error: String?
        }

        /// The REST manifests beside the config (`connectors/`, or `../connectors/` for config/examples).
        static func manifests(configFile: URL, environment: [String: String]) -> [ManifestInfo] {
            let folder = configFile.deletingLastPathComponent()
            let candidates = [folder.appendingPathComponent("connectors"), folder.deletingLastPathComponent().appendingPathComponent("connectors")]
            guard let directory = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else { return [] }
            let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
            let loader = ConfigLoader(environment: environment)
            return files.map { file in
                let url = directory.appendingPathComponent(file)
                let display = url.standardizedFileURL.path.replacingOccurrences(of: FileManager.default.currentDirectoryPath + "/", with: "")
                do {
                    let tree = try loader.loadTree(file: url)
                    return ManifestInfo(file: display, name: try tree["name"]?.string(), summary: try tree["summary"]?.string(), error: nil)
                } catch let error as any LetheError {
                    return ManifestInfo(file: display, name: nil, summary: nil, error: error.message)
                } catch {
                    return ManifestInfo(file: display, name: nil, summary: nil, error: "\(type(of: error))")
                }
            }
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
            var manifests: [ManifestInfo] = []
            if FileManager.default.fileExists(atPath: global.config) {
                let workspace = try Workspace(options: global)
                configured = workspace.configuration.connectors.map {
                    Configured(name: $0.name, type: $0.type, policy: $0.policy, manifest: $0.type == "rest" ? try? $0.settings["manifest"]?.string() : nil)
                }
                manifests = Self.manifests(configFile: URL(fileURLWithPath: global.config), environment: environment.variables)
            }
            let output = environment.output
            if global.json {
                output.out(JSONOutput.line(["types": AnyEncodable(types), "configured": AnyEncodable(configured), "manifests": AnyEncodable(manifests)]))
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
                for connector in configured {
                    let manifest = connector.manifest.map { ", manifest \($0)" } ?? ""
                    output.out("    \(connector.name): type \(connector.type), policy \(connector.policy)\(manifest)")
                }
            }
            if !manifests.isEmpty {
                output.out("REST manifests:")
                for manifest in manifests {
                    let description = manifest.error.map { "unreadable: \($0)" } ?? "\(manifest.name ?? "?"): \(manifest.summary ?? "")"
                    output.out("    \(manifest.file): \(description)")
                }
            }
        }
    }
}

struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
