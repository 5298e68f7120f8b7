import Foundation
import RetentionCore

/// How to reach a provider, decoded from a manifest's connection keys: `baseURL`, `headers`,
/// `timeout`, `connectTimeout`, `tls`, `auth`, `rateLimit`, `errors`. Other keys of the manifest root
/// are left to the manifest; unknown keys inside these sections are errors.
struct HTTPConfiguration: Sendable {
    /// `scheme://host[:port][/prefix]`, without a trailing slash.
    var baseURL: String
    /// Sent with every request; a request's own header of the same name wins.
    var headers: [(name: String, value: String)]
    /// The deadline of one attempt, body included (default 30s).
    var timeout: Duration
    var connectTimeout: Duration
    var tls: HTTPTLSSettings
    var auth: HTTPAuth
    var rateLimit: HTTPRateLimit
    /// Where an error body keeps the provider's error code, tried in order.
    var errorCodePaths: [JSONPath]
    /// `errors.transient`: provider codes of a passing condition (Salesforce `UNABLE_TO_LOCK_ROW`). A
    /// request answered with one, a batch item or a job row refused with one, is a transient failure.
    var transientCodes: Set<String>

    /// The keys of the manifest root this type reads.
    static let keys: Set<String> = ["baseURL", "headers", "timeout", "connectTimeout", "tls", "auth", "rateLimit", "errors"]

    init(config manifest: ConfigNode) throws(ConfigError) {
        guard let baseNode = manifest["baseURL"] else { throw manifest.error("config.missing", "baseURL is required") }
        var base = try baseNode.string().trimmingCharacters(in: .whitespaces)
        guard Self.isHTTPURL(base), !base.contains("?"), !base.contains("#") else {
            throw baseNode.error("config.url", "expected an http:// or https:// URL without a query")
        }
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        headers = []
        for (name, node) in try manifest["headers"]?.entries() ?? [] {
            headers.append((name, try node.string()))
        }
        timeout = try manifest["timeout"]?.positiveHTTPDuration() ?? .seconds(30)
        connectTimeout = try manifest["connectTimeout"]?.positiveHTTPDuration() ?? .seconds(10)
        tls = try HTTPTLSSettings(config: manifest["tls"])
        auth = try HTTPAuth(config: manifest["auth"])
        rateLimit = try HTTPRateLimit(config: manifest["rateLimit"])
        errorCodePaths = []
        transientCodes = []
        if let errors = manifest["errors"] {
            try errors.rejectUnknownKeys(allowed: ["code", "transient"])
            transientCodes = Set(try errors["transient"]?.items().map { item throws(ConfigError) in try item.string() } ?? [])
            if let codeNode = errors["code"] {
                let nodes: [ConfigNode]
                if case .sequence(let items) = codeNode.value { nodes = items } else { nodes = [codeNode] }
                for node in nodes {
                    let text = try node.string()
                    guard let path = JSONPath(text) else {
                        throw node.error("config.path", "not a JSON path: '\(text.prefix(60))'")
                    }
                    errorCodePaths.append(path)
                }
            }
        }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
            let host = lower.dropFirst(scheme.count).prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            return !host.isEmpty && !host.contains(" ")
        }
        return false
    }
}

/// `tls:` — an extra CA bundle and, for sandboxes only, no verification.
struct HTTPTLSSettings: Sendable, Equatable {
    /// A PEM bundle added to the system trust roots.
    var caFile: String?
    var insecureSkipVerify = false
    /// Where `caFile` was written, for the error when it cannot be loaded.
    var caFileLocation: SourceLocation?
    var caFileKey = "tls.caFile"

    init(config node: ConfigNode?) throws(ConfigError) {
        guard let node, !node.isNull else { return }
        try node.rejectUnknownKeys(allowed: ["caFile", "insecureSkipVerify"])
        if let child = node["caFile"], !child.isNull {
            let path = try child.string().trimmingCharacters(in: .whitespaces)
            caFile = path.isEmpty ? nil : path
            caFileLocation = child.location
            caFileKey = child.keyPath
        }
        insecureSkipVerify = try node["insecureSkipVerify"]?.bool() ?? false
    }
}
