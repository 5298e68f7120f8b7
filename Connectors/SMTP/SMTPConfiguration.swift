import Foundation
import RetentionCore

/// Settings of an `smtp` connector.
struct SMTPConfiguration: Sendable {
    enum StartTLS: String, Sendable, CaseIterable {
        /// Upgrade with STARTTLS or fail (no message ever goes out in clear).
        case required
        /// Upgrade when the server offers STARTTLS, else send in clear.
        case optional
        /// Never upgrade.
        case off
    }

    /// `smtp://host:port` or `smtps://host:port` (TLS from the first byte), with `/heloName` added
    /// when set.
    var url: String
    var user: String?
    var password: String?
    var startTLS: StartTLS
    /// `PLAIN` or `LOGIN`; nil lets curl pick from what the server offers.
    var authMechanism: String?
    var timeout: Duration
    var ratePerMinute: Double?
    var caFile: String?
    var insecureSkipVerify: Bool
    /// The sender of notices that carry none.
    var from: String?

    var isImplicitTLS: Bool { url.lowercased().hasPrefix("smtps://") }

    static let spec = ConnectorSpec(
        type: "smtp",
        summary:
            "Sends each notice by SMTP through libcurl (STARTTLS or smtps, AUTH PLAIN/LOGIN, one kept-alive connection).",
        capabilities: [.notices],
        fields: [
            FieldSpec(
                "url", .string, required: true, "smtp://host:port (STARTTLS per `starttls`) or smtps://host:port"),
            FieldSpec("user", .string, "user name for AUTH (with `password`)"),
            FieldSpec("password", .string, secret: true, "password for AUTH (with `user`)"),
            FieldSpec(
                "starttls", .choice(StartTLS.allCases.map(\.rawValue)), default: "required",
                "for smtp:// URLs: upgrade with STARTTLS or fail (required), when offered (optional), never (off)"),
            FieldSpec("auth", .choice(["PLAIN", "LOGIN"]), "AUTH mechanism to use (default: the server's best)"),
            FieldSpec("timeout", .number, default: "30", "seconds allowed to connect, and to send one message"),
            FieldSpec("ratePerMinute", .number, "at most this many messages per minute (default: no limit)"),
            FieldSpec("heloName", .string, "host name sent in EHLO (default: curl's)"),
            FieldSpec("caFile", .string, "PEM bundle of trusted CAs (empty: the system default)"),
            FieldSpec(
                "insecureSkipVerify", .boolean, default: "false",
                "accept any server certificate (tests with self-signed certificates only)"),
            FieldSpec("from", .string, "sender of notices that carry no sender"),
        ]
    )

    init(settings: ConfigNode) throws(ConfigError) {
        try Self.spec.validate(settings)
        guard let urlNode = settings["url"] else { throw settings.error("config.missing", "required: url") }
        let url = try urlNode.string().trimmingCharacters(in: .whitespaces)
        let lowered = url.lowercased()
        guard lowered.hasPrefix("smtp://") || lowered.hasPrefix("smtps://"),
            let parsed = URLComponents(string: url), let host = parsed.host, !host.isEmpty,
            parsed.query == nil, parsed.fragment == nil, parsed.user == nil, parsed.password == nil,
            parsed.path.isEmpty || parsed.path == "/"
        else {
            throw urlNode.error(
                "config.url", "expected smtp://host[:port] or smtps://host[:port] without a path or credentials")
        }
        var base = url.hasSuffix("/") ? String(url.dropLast()) : url

        let heloName = try Self.optionalString(settings["heloName"])
        if let heloName {
            let allowed = heloName.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".")
            }
            guard allowed else { throw settings["heloName"]!.error("config.helo", "expected a host name") }
            base += "/\(heloName)"
        }
        self.url = base

        user = try Self.optionalString(settings["user"])
        password = try Self.optionalString(settings["password"])
        if (user == nil) != (password == nil) {
            let node = settings[user == nil ? "password" : "user"] ?? settings
            throw node.error("config.smtp_credentials", "set both user and password, or neither")
        }
        startTLS = try Self.optionalString(settings["starttls"]).flatMap(StartTLS.init(rawValue:)) ?? .required
        authMechanism = try Self.optionalString(settings["auth"])

        let seconds = try settings["timeout"].map { node throws(ConfigError) in try node.double() } ?? 30
        guard seconds > 0, seconds <= 3600 else {
            throw settings["timeout"]!.error("config.range", "the timeout must be between 0 and 3600 seconds")
        }
        timeout = .milliseconds(Int64(seconds * 1000))

        if let node = settings["ratePerMinute"], !node.isNull {
            let rate = try node.double()
            guard rate > 0 else { throw node.error("config.range", "the rate must be more than 0 per minute") }
            ratePerMinute = rate
        }
        caFile = try Self.optionalString(settings["caFile"])
        insecureSkipVerify =
            try settings["insecureSkipVerify"].map { node throws(ConfigError) in try node.bool() } ?? false
        from = try Self.optionalString(settings["from"])
    }

    /// The trimmed text of a setting; nil when absent, null or empty (`${SSL_CERT_FILE:-}` unset).
    private static func optionalString(_ node: ConfigNode?) throws(ConfigError) -> String? {
        guard let node, !node.isNull else { return nil }
        let text = try node.string().trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? nil : text
    }
}
