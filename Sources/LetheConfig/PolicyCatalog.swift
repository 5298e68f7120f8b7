public import Foundation
public import RetentionCore

/// The policy files beside a configuration that a policy comparison may name (the dashboard's what-if
/// page offers them): the files its `policies:` lists, every `*.yaml` or `*.yml` in the folders that
/// hold them, and in `policies/` beside the configuration file. Each is named by its path as written
/// relative to the configuration's folder (`policies/kr-marketing-5y.yaml`); only a name the catalog
/// lists can be loaded, so no other path on the machine is ever read.
public struct PolicyCatalog: Sendable {
    /// The configuration file; relative names start at its folder.
    public let configuration: URL
    /// The paths `policies:` lists, as written.
    public let listed: [String]
    public let loader: ConfigLoader

    /// Reads the `policies:` list of `configuration` (loaded already, so it is known to be valid).
    public init(configuration: LetheConfiguration, loader: ConfigLoader) throws(ConfigError) {
        let tree = try loader.loadTree(file: configuration.file)
        var listed: [String] = []
        for item in try tree["policies"]?.items() ?? [] {
            listed.append(try item.string())
        }
        self.init(configuration: configuration.file, listed: listed, loader: loader)
    }

    public init(configuration: URL, listed: [String], loader: ConfigLoader) {
        self.configuration = configuration
        self.listed = listed
        self.loader = loader
    }

    /// A policy path of the configuration: absolute as written, else relative to the configuration's folder.
    static func resolve(_ path: String, configuration: URL) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : configuration.deletingLastPathComponent().appendingPathComponent(path)
    }

    /// The names of the files on offer now: the listed files first (in the configuration's order),
    /// then the others by name; each file once.
    public func names() -> [String] {
        var folders: [String] = []
        for path in listed {
            let folder = (path as NSString).deletingLastPathComponent
            if !folders.contains(folder) { folders.append(folder) }
        }
        if !folders.contains("policies") { folders.append("policies") }
        var found: [String] = []
        for folder in folders {
            let url = Self.resolve(folder.isEmpty ? "." : folder, configuration: configuration)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            for file in files where (file.hasSuffix(".yaml") || file.hasSuffix(".yml")) && !file.hasPrefix(".") {
                let name = folder.isEmpty ? file : "\(folder)/\(file)"
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: Self.resolve(name, configuration: configuration).path, isDirectory: &isFolder), !isFolder.boolValue
                else { continue }
                found.append(name)
            }
        }
        var seen: Set<String> = []
        var names: [String] = []
        for name in listed + found.sorted() {
            let key = Self.resolve(name, configuration: configuration).standardizedFileURL.resolvingSymlinksInPath().path
            guard !seen.contains(key), FileManager.default.fileExists(atPath: key) else { continue }
            seen.insert(key)
            names.append(name)
        }
        return names
    }

    /// Loads the policy in the file `name` (one of `names()`), checked like a policy of the configuration.
    public func load(_ name: String) throws(ConfigError) -> Policy {
        guard names().contains(name) else {
            throw ConfigError(code: "config.not_found", location: nil, key: "", problem: "no policy file \(name) is offered beside the configuration")
        }
        return try loader.loadPolicy(file: Self.resolve(name, configuration: configuration))
    }

    /// Loads a policy from pasted YAML `text`, errors naming it `pasted`. `${VAR}` takes its default
    /// (`${VAR:-default}`) and is otherwise unset: the process environment is never read for text
    /// that did not come from the configuration's own files.
    public static func parse(_ text: String) throws(ConfigError) -> Policy {
        try ConfigLoader(environment: [:]).loadPolicy(text: text, name: "pasted")
    }
}
