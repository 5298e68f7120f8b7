import Foundation
import RetentionCore

/// `auth:` — how requests prove who they are. Every value here is a secret except names, the
/// grant, the token URL and the scope: none of them reaches a message or a log line.
///
/// ```yaml
/// auth: {type: bearer, token: "${HUBSPOT_TOKEN}"}
/// auth: {type: api-key, in: query, name: api_token, value: "${PIPEDRIVE_TOKEN}"}
/// auth: {type: basic, username: ..., password: ...}
/// auth: {type: oauth2, grant: refresh-token, tokenURL: https://login.salesforce.com/services/oauth2/token,
///        clientID: ..., clientSecret: ..., refreshToken: ..., scope: ..., accessToken: ""}
/// ```
enum HTTPAuth: Sendable, Equatable {
    case none
    case bearer(token: String)
    case apiKeyHeader(name: String, value: String)
    case apiKeyQuery(name: String, value: String)
    case basic(username: String, password: String)
    case oauth2(OAuth2Settings)

    struct OAuth2Settings: Sendable, Equatable {
        enum Grant: String, Sendable {
            case clientCredentials = "client-credentials"
            case refreshToken = "refresh-token"
        }

        var grant: Grant
        /// Absolute, or a path relative to `baseURL`.
        var tokenURL: String
        var clientID: String?
        var clientSecret: String?
        var refreshToken: String?
        var scope: String?
        /// A token to use before the first refresh; `nil` fetches one before the first request.
        var accessToken: String?

        /// Whether a new token can be requested: the grant's credentials are all present.
        var canRefresh: Bool {
            switch grant {
            case .refreshToken: clientID != nil && refreshToken != nil
            case .clientCredentials: clientID != nil && clientSecret != nil
            }
        }
    }

    static let types = ["none", "bearer", "api-key", "basic", "oauth2"]

    init(config node: ConfigNode?) throws(ConfigError) {
        guard let node, !node.isNull else {
            self = .none
            return
        }
        let type = try node["type"]?.string() ?? "none"
        switch type {
        case "none":
            try node.rejectUnknownKeys(allowed: ["type"])
            self = .none
        case "bearer":
            try node.rejectUnknownKeys(allowed: ["type", "token"])
            self = .bearer(token: try Self.required(node, "token"))
        case "api-key":
            try node.rejectUnknownKeys(allowed: ["type", "in", "name", "value"])
            let name = try Self.required(node, "name")
            let value = try Self.required(node, "value")
            switch try node["in"]?.string() ?? "header" {
            case "header": self = .apiKeyHeader(name: name, value: value)
            case "query": self = .apiKeyQuery(name: name, value: value)
            case let other: throw node["in"]!.error("config.choice", "expected header or query, found '\(other.prefix(20))'")
            }
        case "basic":
            try node.rejectUnknownKeys(allowed: ["type", "username", "password"])
            self = .basic(username: try Self.required(node, "username"), password: try node["password"]?.string() ?? "")
        case "oauth2":
            try node.rejectUnknownKeys(allowed: [
                "type", "grant", "tokenURL", "clientID", "clientSecret", "refreshToken", "scope", "accessToken",
            ])
            self = .oauth2(try Self.oauth2(node))
        default:
            throw (node["type"] ?? node).error(
                "config.choice", "expected one of \(Self.types.joined(separator: ", ")), found '\(type.prefix(20))'"
            )
        }
    }

    private static func oauth2(_ node: ConfigNode) throws(ConfigError) -> OAuth2Settings {
        let grantText = try required(node, "grant")
        guard let grant = OAuth2Settings.Grant(rawValue: grantText) else {
            throw node["grant"]!.error("config.choice", "expected client-credentials or refresh-token, found '\(grantText.prefix(30))'")
        }
        let tokenURL = try required(node, "tokenURL")
        guard tokenURL.hasPrefix("/") || HTTPConfiguration.isHTTPURL(tokenURL) else {
            throw node["tokenURL"]!.error("config.url", "expected an http(s) URL or a path starting with /")
        }
        let settings = OAuth2Settings(
            grant: grant,
            tokenURL: tokenURL,
            clientID: try optional(node, "clientID"),
            clientSecret: try optional(node, "clientSecret"),
            refreshToken: try optional(node, "refreshToken"),
            scope: try optional(node, "scope"),
            accessToken: try optional(node, "accessToken")
        )
        // Either the grant's credentials, or at least an access token (used until it expires).
        if !settings.canRefresh, settings.accessToken == nil {
            let needed = grant == .refreshToken ? "clientID and refreshToken" : "clientID and clientSecret"
            throw node.error("config.missing", "\(needed) are required for grant \(grant.rawValue), unless an accessToken is given")
        }
        return settings
    }

    /// A non-empty value; the message never shows it.
    private static func required(_ node: ConfigNode, _ key: String) throws(ConfigError) -> String {
        guard let child = node[key] else { throw node.error("config.missing", "\(key) is required") }
        let text = try child.string()
        guard !text.isEmpty else { throw child.error("config.missing", "must not be empty") }
        return text
    }

    /// A value where an empty string means unset.
    private static func optional(_ node: ConfigNode, _ key: String) throws(ConfigError) -> String? {
        guard let child = node[key], !child.isNull else { return nil }
        let text = try child.string()
        return text.isEmpty ? nil : text
    }

    /// The type as written in config, for logs.
    var typeName: String {
        switch self {
        case .none: "none"
        case .bearer: "bearer"
        case .apiKeyHeader, .apiKeyQuery: "api-key"
        case .basic: "basic"
        case .oauth2: "oauth2"
        }
    }
}
