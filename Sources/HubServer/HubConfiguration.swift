public import Foundation

/// The daemon's own settings, from the environment (docs/configuration.md):
/// `LETHE_HTTP_PORT` (8080), `LETHE_PUBLIC_URL` (`http://127.0.0.1:$LETHE_HTTP_PORT`), `LETHE_ADMIN_TOKEN`
/// (unset: `/api` refuses every call), `LETHE_HTTP_HOST` (127.0.0.1), `LETHE_WEBHOOK_MAX_BYTES` (1 MiB),
/// `LETHE_SHUTDOWN_SECONDS` (10: after SIGTERM, work still running then is cancelled; it is durable),
/// `LETHE_WEBHOOK_ATTEMPTS` (8: processing attempts of a webhook event before it is dead-lettered).
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

    public init(
        host: String = "127.0.0.1", port: Int = 8080, publicURL: String? = nil, adminToken: String? = nil,
        webhookBodyLimit: Int = 1 << 20, shutdownGrace: Duration = .seconds(10), webhookAttempts: Int = 8
    ) {
        self.webhookAttempts = max(1, webhookAttempts)
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
        let publicURL = environment["LETHE_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let publicURL, URL(string: publicURL)?.scheme == nil {
            throw HubConfigurationError(message: "LETHE_PUBLIC_URL must be an absolute URL such as https://lethe.example.com")
        }
        self.init(
            host: environment["LETHE_HTTP_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1", port: port,
            publicURL: publicURL, adminToken: environment["LETHE_ADMIN_TOKEN"], webhookBodyLimit: limit,
            shutdownGrace: .seconds(grace), webhookAttempts: attempts)
    }

    static func trimmed(_ url: String) -> String {
        url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

public struct HubConfigurationError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
