import Foundation
public import RetentionCore

extension WebhookAuthentication {
    enum SchemeName: String, CaseIterable {
        case hubspotV3 = "hubspot-v3", hubspotV2 = "hubspot-v2", hubspotV1 = "hubspot-v1"
        case hmacSHA256 = "hmac-sha256", sharedSecret = "shared-secret", basic

        var keys: Set<String> {
            switch self {
            case .hubspotV3: ["scheme", "secret", "maxAge"]
            case .hubspotV2, .hubspotV1: ["scheme", "secret"]
            case .hmacSHA256:
                ["scheme", "secret", "header", "encoding", "prefix", "timestampHeader", "timestampUnit", "maxAge"]
            case .sharedSecret: ["scheme", "secret", "header"]
            case .basic: ["scheme", "username", "password"]
            }
        }
    }

    /// The keys of every scheme.
    public static let keys: Set<String> = SchemeName.allCases.reduce(into: []) { $0.formUnion($1.keys) }

    /// Decodes the authentication part of a connector's `webhook:` mapping.
    ///
    /// - `scheme` (required): `hubspot-v3`, `hubspot-v2`, `hubspot-v1`, `hmac-sha256`, `shared-secret`, `basic`.
    /// - `secret` (all but `basic`): the signing secret or shared value, normally `${SOME_ENV}`; must not be empty.
    /// - `maxAge` (`hubspot-v3`; `hmac-sha256` with `timestampHeader`): the replay window, default 5 minutes,
    ///   written as whole seconds (`300`) or `30s`, `5m`, `1h`. Timestamps older, or further in the future, are
    ///   rejected.
    /// - `hmac-sha256`: `header` (required), `encoding` (`hex` default, or `base64`), `prefix` (e.g. `sha256=`),
    ///   `timestampHeader`, `timestampUnit` (`seconds` default, or `milliseconds`). Without `timestampHeader` the
    ///   HMAC covers the raw body; with it, `<timestamp>.<body>` (the header's value, a dot, the raw body).
    /// - `shared-secret`: `header` (required) whose value must equal `secret`.
    /// - `basic`: `username` and `password` (HTTP basic, as Pipedrive sends them).
    ///
    /// A key another scheme uses is rejected (`config.unused_key`), as is a key no scheme or format knows
    /// (`config.unknown_key`). Errors name file, line and key, never a secret's value.
    public init(config: ConfigNode) throws(ConfigError) {
        try config.rejectUnknownKeys(allowed: WebhookConfiguration.keys)
        let known = SchemeName.allCases.map(\.rawValue).joined(separator: ", ")
        let name = try config.required("scheme", "a signature scheme is required (one of: \(known))")
            .choice(SchemeName.self)
        try config.rejectKeys(of: Self.keys, except: name.keys, what: "scheme \(name.rawValue)")
        switch name {
        case .hubspotV3:
            self = .hubspotV3(secret: try Self.secret(config, "secret"), maxAge: try Self.maxAge(config))
        case .hubspotV2:
            self = .hubspotV2(secret: try Self.secret(config, "secret"))
        case .hubspotV1:
            self = .hubspotV1(secret: try Self.secret(config, "secret"))
        case .hmacSHA256:
            let timestampHeader = try config["timestampHeader"].map { node throws(ConfigError) in try node.string() }
            if timestampHeader == nil {
                for key in ["timestampUnit", "maxAge"] {
                    if let node = config[key] {
                        throw node.error("config.unused_key", "needs timestampHeader")
                    }
                }
            }
            self = .hmacSHA256(
                HMACOptions(
                    header: try config.required("header", "the signature header is required").string(),
                    encoding: try config["encoding"]?.choice(HMACOptions.Encoding.self) ?? .hex,
                    prefix: try config["prefix"]?.string() ?? "",
                    timestampHeader: timestampHeader,
                    timestampUnit: try config["timestampUnit"]?.choice(HMACOptions.TimestampUnit.self) ?? .seconds,
                    maxAge: try Self.maxAge(config),
                    secret: try Self.secret(config, "secret")))
        case .sharedSecret:
            self = .sharedSecret(
                header: try config.required("header", "the header carrying the secret is required").string(),
                secret: try Self.secret(config, "secret"))
        case .basic:
            self = .basic(username: try Self.secret(config, "username"), password: try Self.secret(config, "password"))
        }
    }

    /// A required, non-empty secret. Its value never appears in an error.
    static func secret(_ config: ConfigNode, _ key: String) throws(ConfigError) -> String {
        let node = try config.required(key, "a value is required (usually ${SOME_ENVIRONMENT_VARIABLE})")
        let value = try node.string()
        guard !value.isEmpty else {
            throw node.error("config.empty_secret", "must not be empty (is its environment variable set?)")
        }
        return value
    }

    /// `maxAge`: whole seconds, or a number with `s`, `m` or `h`; 1 second to 1 day.
    static func maxAge(_ config: ConfigNode) throws(ConfigError) -> Duration {
        guard let node = config["maxAge"] else { return defaultMaxAge }
        let text = try node.string().trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, seconds: Int)] = [("h", 3600), ("m", 60), ("s", 1), ("", 1)]
        for unit in units where text.hasSuffix(unit.suffix) {
            guard let number = Int(text.dropLast(unit.suffix.count)) else { break }
            let seconds = number.multipliedReportingOverflow(by: unit.seconds)
            guard !seconds.overflow, (1...86_400).contains(seconds.partialValue) else {
                throw node.error("config.invalid", "must be between 1 second and 1 day")
            }
            return .seconds(seconds.partialValue)
        }
        throw node.error("config.invalid", "expected seconds or a duration such as 30s, 5m or 1h, found '\(text.prefix(40))'")
    }
}
