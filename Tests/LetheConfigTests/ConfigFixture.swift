import Foundation
import LetheConfig
import RetentionCore

/// A temporary folder holding config files for one test; removed by `remove()`.
struct ConfigFixture {
    let directory: URL

    init(_ files: [String: String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lethe-config-\(UUID().uuidString)")
        for (name, text) in files {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
    }

    func url(_ name: String = "lethe.yaml") -> URL {
        directory.appendingPathComponent(name)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Loads `lethe.yaml` (or `file`) and returns the thrown `ConfigError`, or nil when it loaded.
    func loadError(environment: [String: String] = [:], file: URL? = nil) -> ConfigError? {
        do {
            _ = try ConfigLoader(environment: environment).load(file: file ?? url())
            return nil
        } catch {
            return error
        }
    }

    /// A one-rule policy file named `test`.
    static let testPolicy = """
        policy:
          name: test
          rules:
            - purpose: payment
              period: 5y
        """

    /// A valid main file using `testPolicy` and one connector of type `fake`.
    static let minimalConfig = """
        version: 1
        policies:
          - policies/test.yaml
        connectors:
          - name: contacts
            type: fake
            policy: test
            settings:
              path: data.csv
        """

    /// A fixture with `testPolicy` and the given main file.
    static func withPolicy(_ config: String) throws -> ConfigFixture {
        try ConfigFixture(["lethe.yaml": config, "policies/test.yaml": testPolicy])
    }
}

/// Loads a YAML text as a tree through a temporary file.
func tree(_ yaml: String, environment: [String: String] = [:]) throws -> ConfigNode {
    let fixture = try ConfigFixture(["tree.yaml": yaml])
    defer { fixture.remove() }
    return try ConfigLoader(environment: environment).loadTree(file: fixture.url("tree.yaml"))
}

extension ConfigNode {
    /// The scalar text, or a description of what else the node is (for `#expect` comparisons).
    var debugText: String {
        switch value {
        case .scalar(let text): "scalar:\(text)"
        case .unresolved(let variable): "unresolved:\(variable)"
        case .null: "null"
        case .mapping: "mapping"
        case .sequence: "sequence"
        }
    }
}
