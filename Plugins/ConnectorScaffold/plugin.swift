import Foundation
import PackagePlugin

/// `swift package --allow-writing-to-package-directory new-connector --name Zoho [--kind source|sink]`
///
/// Reads the arguments and the package's files, asks `ConnectorTemplates` (compiled into this plugin
/// through the `ConnectorTemplates` link) what to write, and writes it. Every check happens before the
/// first write: a refused scaffold changes nothing.
@main
struct ConnectorScaffold: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        var extractor = ArgumentExtractor(arguments)
        let names = extractor.extractOption(named: "name")
        let kinds = extractor.extractOption(named: "kind")
        guard names.count == 1, kinds.count <= 1, extractor.remainingArguments.isEmpty else {
            throw ScaffoldError(
                code: "scaffold.usage",
                message: "usage: swift package --allow-writing-to-package-directory new-connector --name Zoho [--kind source|sink]")
        }
        let kind = try ConnectorKind(argument: kinds.first ?? ConnectorKind.source.rawValue)
        let root = context.package.directoryURL
        let plan = try ConnectorTemplates.plan(
            name: names[0], kind: kind,
            packageText: try read(root, ConnectorTemplates.packageFile),
            registryText: try read(root, ConnectorTemplates.registryFile),
            existingPaths: entries(root, ["Connectors", "Tests"]))

        for file in plan.files {
            let url = root.appendingPathComponent(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: url, options: .withoutOverwriting)
        }
        for edit in plan.edits {
            try Data(edit.contents.utf8).write(to: root.appendingPathComponent(edit.path), options: .atomic)
        }

        let name = plan.name
        print("Created \(name.folder)/ and \(name.testFolder)/; registered .\(name.factory) (type: \(name.configType)).")
        for file in plan.files { print("  \(file.path)") }
        print("Edited \(plan.edits.map(\.path).joined(separator: " and ")).")
        print("Next: swift build --build-tests && swift test --skip-build --filter \(name.testTarget)")
        print("  (each failing case names a conformance check the connector does not meet yet)")
    }

    private func read(_ root: URL, _ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// `Connectors/CSV`, `Tests/CSVConnectorTests`, …
    private func entries(_ root: URL, _ folders: [String]) throws -> Set<String> {
        var result: Set<String> = []
        for folder in folders {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)) ?? []
            for name in names { result.insert("\(folder)/\(name)") }
        }
        return result
    }
}
