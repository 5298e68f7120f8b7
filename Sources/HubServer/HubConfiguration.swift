public import Foundation

/// The daemon's own settings, from the environment (docs/configuration.md):
/// `LETHE_HTTP_PORT` (8080), `LETHE_PUBLIC_URL` (`http://127.0.0.1:$LETHE_HTTP_PORT`), `LETHE_ADMIN_TOKEN`
/// (unset: `/api` refuses every call), `LETHE_HTTP_HOST` (127.0.0.1), `LETHE_WEBHOOK_MAX_BYTES` (1 MiB),
/// `LETHE_SHUTDOWN_SECONDS` (10: after SIGTERM, work still running then is cancelled; it is durable),
/// `LETHE_WEBHOOK_ATTEMPTS` (8: processing attempts of a webhook event before it is dead-lettered),
/// `LETHE_WEBHOOK_KEEP_DAYS` (7: how long a processed event's keyed digest is kept for replay detection),
/// `LETHE_METRICS_TOKEN` (unset: `/metrics` answers 404) and `LETHE_METRICS_ADDRESS` (`host:port` of a
/// second listener serving only `/metrics`, e.g. `127.0.0.1:9464`).
/// A set admin token or metrics token shorter than 32 bytes is refused.
public struct HubConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// The address the CRMs call (also behind a proxy): signed webhook URIs start with it.
    public var publicURL: String
    public var adminToken: String?
    public var webhookBodyLimit: Int
    /// How long a graceful shutdown may take before in-flight work is abandoned (it stays durable).
    public var shutdownGrace: Duration
    /// Processing attempts of a webhook event (5 s, 10 s, … 5 min apart) before it is dead-lettered.
    public var webhookAttempts: Int
    /// How long processed webhook events (a keyed digest of their id, no record id) are kept.
    public var webhookEventRetention: Duration
    /// The bearer token `/metrics` requires; nil: `/metrics` is not served.
    public var metricsToken: String?
    /// A second listener, serving `/metrics` only (typically on loopback).
    public var metricsHost: String?
    public var metricsPort: Int?
    /// Named operators from the config (`operators:`); `admin` (LETHE_ADMIN_TOKEN) is added by the hub.
    public var operators: [HubOperator] = []
    /// The four-eyes rule (`approval.twoPersonAbove`): a batch with more deletes than this needs two
    /// different signed-in operators; nil: one approval suffices.
    public var twoPersonAbove: Int?
    /// How long a sign-in session lasts (12 hours).
    public var sessionLifetime: Duration = .seconds(12 * 3600)
    /// Failed sign-ins answered within a minute before sign-in answers 429 for the rest of it.
    public var signInFailuresPerMinute = 20
    /// How long the answer to a failed sign-in is held back.
    public var signInFailureDelay: Duration = .milliseconds(500)

    /// The shortest admin, metrics or link secret accepted (bytes).
    public static let minimumSecretLength = 32

    public init(
        host: String = "127.0.0.1", port: Int = 8080, publicURL: String? = nil, adminToken: String? = nil,
        webhookBodyLimit: Int = 1 << 20, shutdownGrace: Duration = .seconds(10), webhookAttempts: Int = 8,
        webhookEventRetention: Duration = .seconds(7 * 86_400), metricsToken: String? = nil, metricsHost: String? = nil, metricsPort: Int? = nil
    ) {
        self.webhookAttempts = max(1, webhookAttempts)
        self.webhookEventRetention = webhookEventRetention
        self.metricsToken = metricsToken.flatMap { $0.isEmpty ? nil : $0 }
        self.metricsHost = metricsHost
        self.metricsPort = metricsPort
        self.host = host
        self.port = port
        self.publicURL = Self.trimmed(publicURL ?? "http://127.0.0.1:\(port)")
        self.adminToken = adminToken.flatMap { $0.isEmpty ? nil : $0 }
        self.webhookBodyLimit = webhookBodyLimit
        self.shutdownGrace = shutdownGrace
    }

    /// Reads the `LETHE_*` variables; a malformed number is an error naming the variable.
    public init(environment: [String: String]) throws(HubConfigurationError) {
        func number(_ name: String, default value: Int, range: ClosedRange<Int>) throws(HubConfigurationError) -> Int {
            guard let text = environment[name], !text.isEmpty else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw HubConfigurationError(message: "\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        let port = try number("LETHE_HTTP_PORT", default: 8080, range: 0...65535)
        let limit = try number("LETHE_WEBHOOK_MAX_BYTES", default: 1 << 20, range: 1...(64 << 20))
        let grace = try number("LETHE_SHUTDOWN_SECONDS", default: 10, range: 1...3600)
        let attempts = try number("LETHE_WEBHOOK_ATTEMPTS", default: 8, range: 1...100)
        let keepDays = try number("LETHE_WEBHOOK_KEEP_DAYS", default: 7, range: 1...3650)
        for name in ["LETHE_ADMIN_TOKEN", "LETHE_METRICS_TOKEN"] {
            if let secret = environment[name], !secret.isEmpty, secret.utf8.count < Self.minimumSecretLength {
                throw HubConfigurationError(
                    message: "\(name) is \(secret.utf8.count) bytes: a secret must be at least \(Self.minimumSecretLength) bytes (e.g. `openssl rand -base64 32`)")
            }
        }
        var metricsHost: String?
        var metricsPort: Int?
        if let address = environment["LETHE_METRICS_ADDRESS"], !address.isEmpty {
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port),
                colon != address.startIndex
            else { throw HubConfigurationError(message: "LETHE_METRICS_ADDRESS must be host:port, such as 127.0.0.1:9464") }
            metricsHost = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            metricsPort = port
        }
        let publicURL = environment["LETHE_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let publicURL, URL(string: publicURL)?.scheme == nil {
            throw HubConfigurationError(message: "LETHE_PUBLIC_URL must be an absolute URL such as https://lethe.example.com")
        }
        self.init(
            host: environment["LETHE_HTTP_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1", port: port,
            publicURL: publicURL, adminToken: environment["LETHE_ADMIN_TOKEN"], webhookBodyLimit: limit,
            shutdownGrace: .seconds(grace), webhookAttempts: attempts, webhookEventRetention: .seconds(keepDays * 86_400),
            metricsToken: environment["LETHE_METRICS_TOKEN"], metricsHost: metricsHost, metricsPort: metricsPort)
    }

    static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

public struct HubConfigurationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
