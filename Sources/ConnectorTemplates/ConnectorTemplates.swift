/// The files and the registration lines of a new connector: pure functions of its name and kind,
/// used by the `new-connector` command plugin (Plugins/ConnectorScaffold), which only reads its
/// arguments and the package's files and writes what these return.
public enum ConnectorTemplates {
    /// The package manifest, relative to the package's folder.
    public static let packageFile = "Package.swift"
    /// The one list of connector factories.
    public static let registryFile = "Sources/LetheCLI/BuiltinConnectors.swift"

    /// Everything a scaffold changes, checked before anything is written: the name is valid, no
    /// connector, target, test folder or factory of that name exists, and every marker is present.
    ///
    /// - Parameter existingPaths: the entries of `Connectors/` and `Tests/`, as `Connectors/CSV`,
    ///   compared without regard to case (a case-insensitive disk could not hold both).
    public static func plan(
        name text: String, kind: ConnectorKind, packageText: String, registryText: String, existingPaths: Set<String>
    ) throws(ScaffoldError) -> ScaffoldPlan {
        let name = try ConnectorName(text, kind: kind)
        let files = files(for: name)
        let existing = Dictionary(existingPaths.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        for path in [name.folder, name.testFolder] + files.map(\.path) {
            if let found = existing[path.lowercased()] { throw exists(name, "\(found) already exists") }
        }
        if packageText.contains("\"\(name.target)\"") || packageText.contains("\"\(name.testTarget)\"") {
            throw exists(name, "\(packageFile) already names the target \(name.target)")
        }
        if registryText.contains("import \(name.target)\n") || registryText.contains(".\(name.factory),") {
            throw exists(name, "\(registryFile) already lists \(name.target) or .\(name.factory)")
        }
        var package = packageText
        for insertion in packageInsertions(for: name) { package = try insertion.apply(to: package, file: packageFile) }
        var registry = registryText
        for insertion in registryInsertions(for: name) { registry = try insertion.apply(to: registry, file: registryFile) }
        return ScaffoldPlan(
            name: name, files: files,
            edits: [GeneratedFile(path: packageFile, contents: package), GeneratedFile(path: registryFile, contents: registry)])
    }

    private static func exists(_ name: ConnectorName, _ detail: String) -> ScaffoldError {
        ScaffoldError(code: "scaffold.exists", message: "a connector named \(name.name) exists: \(detail); nothing was changed")
    }

    /// The new files: the connector's folder and its conformance test.
    public static func files(for name: ConnectorName) -> [GeneratedFile] {
        let role: [GeneratedFile] =
            switch name.kind {
            case .source: [sourceType(name), sourceFactory(name), sourceTest(name)]
            case .sink: [sinkType(name), sinkFactory(name), sinkTest(name)]
            }
        return role + [configuration(name), error(name), readme(name)]
    }

    /// The target, its test target and the CLI's dependency on it.
    public static func packageInsertions(for name: ConnectorName) -> [MarkerInsertion] {
        [
            MarkerInsertion(
                marker: "new-connector: targets",
                lines: [
                    #".target(name: "\#(name.target)", dependencies: ["RetentionCore"], path: "\#(name.folder)", exclude: ["README.md"], swiftSettings: swiftSettings),"#
                ]),
            MarkerInsertion(
                marker: "new-connector: tests",
                lines: [
                    #".testTarget(name: "\#(name.testTarget)", dependencies: ["\#(name.target)", "RetentionCore", "ConnectorConformance"], swiftSettings: swiftSettings),"#
                ]),
            MarkerInsertion(marker: "new-connector: cli dependencies", lines: [#""\#(name.target)","#]),
        ]
    }

    /// The import and the factory line in `BuiltinConnectors`.
    public static func registryInsertions(for name: ConnectorName) -> [MarkerInsertion] {
        [
            MarkerInsertion(marker: "new-connector: imports", lines: ["import \(name.target)"]),
            MarkerInsertion(marker: "new-connector: factories", lines: [".\(name.factory),"]),
        ]
    }
}

/// What one scaffold writes: new files, and the new texts of the files it edits.
public struct ScaffoldPlan: Sendable, Equatable {
    public var name: ConnectorName
    /// Files that must not exist yet.
    public var files: [GeneratedFile]
    /// `Package.swift` and `BuiltinConnectors.swift` with the new lines.
    public var edits: [GeneratedFile]
}
