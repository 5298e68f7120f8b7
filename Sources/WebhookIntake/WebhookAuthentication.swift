public import Foundation

/// How a connector's webhook deliveries prove they come from the CRM, decoded from the connector's `webhook:`
/// mapping (see `init(config:)` in `WebhookAuthentication+Config.swift` for the keys).
///
/// Contract: `verify` is pure (the clock is passed in), never throws, and answers a secret-free reason code.
/// Every comparison of a signature or secret runs in constant time (`ConstantTime`). The value's description
/// never shows a secret.
public struct WebhookAuthentication: Sendable {
    enum Scheme: Sendable {
        case hubspotV3(secret: String, maxAge: Duration)
        case hubspotV2(secret: String)
        case hubspotV1(secret: String)
        case hmacSHA256(HMACOptions)
        case sharedSecret(header: String, secret: String)
        case basic(username: String, password: String)
    }

    /// Options of the generic `hmac-sha256` scheme.
    public struct HMACOptions: Sendable {
        public enum Encoding: String, Sendable, CaseIterable { case hex, base64 }
        public enum TimestampUnit: String, Sendable, CaseIterable { case seconds, milliseconds }

        public var header: String
        public var encoding: Encoding
        /// Text before the encoded digest in the header value, such as `sha256=`.
        public var prefix: String
        /// When set, the signed payload is `<timestamp header value> + "." + body`, and the timestamp must be
        /// within `maxAge` of now; when nil, the signed payload is the body alone.
        public var timestampHeader: String?
        public var timestampUnit: TimestampUnit
        public var maxAge: Duration
        var secret: String

        public init(
            header: String, encoding: Encoding, prefix: String = "", timestampHeader: String? = nil,
            timestampUnit: TimestampUnit = .seconds, maxAge: Duration = .seconds(300), secret: String
        ) {
            self.header = header
            self.encoding = encoding
            self.prefix = prefix
            self.timestampHeader = timestampHeader
            self.timestampUnit = timestampUnit
            self.maxAge = maxAge
            self.secret = secret
        }
    }

    let scheme: Scheme

    init(scheme: Scheme) { self.scheme = scheme }

    /// The default replay window: HubSpot rejects v3 timestamps older than 5 minutes.
    public static let defaultMaxAge: Duration = .seconds(300)

    /// HubSpot v3: `X-HubSpot-Signature-v3` = base64(HMAC-SHA256(secret, method + uri + body + timestamp)).
    public static func hubspotV3(secret: String, maxAge: Duration = defaultMaxAge) -> Self {
        Self(scheme: .hubspotV3(secret: secret, maxAge: maxAge))
    }

    /// HubSpot v2: `X-HubSpot-Signature` = hex(SHA-256(secret + method + uri + body)), version header `v2`.
    public static func hubspotV2(secret: String) -> Self { Self(scheme: .hubspotV2(secret: secret)) }

    /// HubSpot v1: `X-HubSpot-Signature` = hex(SHA-256(secret + body)), version header `v1`.
    public static func hubspotV1(secret: String) -> Self { Self(scheme: .hubspotV1(secret: secret)) }

    public static func hmacSHA256(_ options: HMACOptions) -> Self { Self(scheme: .hmacSHA256(options)) }

    /// A header whose value must equal the secret.
    public static func sharedSecret(header: String, secret: String) -> Self {
        Self(scheme: .sharedSecret(header: header, secret: secret))
    }

    /// HTTP basic authentication (Pipedrive's webhook `http_auth_user` / `http_auth_password`).
    public static func basic(username: String, password: String) -> Self {
        Self(scheme: .basic(username: username, password: password))
    }

    /// The scheme as written in configuration (`hubspot-v3`, `basic`, …).
    public var schemeName: String {
        switch scheme {
        case .hubspotV3: "hubspot-v3"
        case .hubspotV2: "hubspot-v2"
        case .hubspotV1: "hubspot-v1"
        case .hmacSHA256: "hmac-sha256"
        case .sharedSecret: "shared-secret"
        case .basic: "basic"
        }
    }

    /// Checks the delivery's credentials against the configuration, at `now`.
    public func verify(_ request: WebhookRequest, now: Date) -> WebhookVerdict {
        let rejection: WebhookRejection? =
            switch scheme {
            case .hubspotV3(let secret, let maxAge): Self.verifyHubSpotV3(request, secret: secret, maxAge: maxAge, now: now)
            case .hubspotV2(let secret): Self.verifyHubSpotSHA256(request, secret: secret, version: "v2")
            case .hubspotV1(let secret): Self.verifyHubSpotSHA256(request, secret: secret, version: "v1")
            case .hmacSHA256(let options): Self.verifyHMAC(request, options: options, now: now)
            case .sharedSecret(let header, let secret): Self.verifySharedSecret(request, header: header, secret: secret)
            case .basic(let username, let password): Self.verifyBasic(request, username: username, password: password)
            }
        return rejection.map(WebhookVerdict.rejected) ?? .accepted
    }
}

extension WebhookAuthentication: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "WebhookAuthentication(\(schemeName), secrets redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["scheme": schemeName]) }
}

extension WebhookAuthentication {
    /// Trimmed header value, nil when absent or empty.
    static func header(_ request: WebhookRequest, _ name: String) -> String? {
        guard let value = request.headers[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            return nil
        }
        return value
    }

    /// Checks a whole-number timestamp against `now` ± `maxAge`.
    static func checkTimestamp(_ text: String?, millisecondsPerUnit: Int64, maxAge: Duration, now: Date)
        -> WebhookRejection?
    {
        guard let text else { return .missingTimestamp }
        guard let value = Int64(text), value >= 0 else { return .badTimestamp }
        let (stamp, overflow) = value.multipliedReportingOverflow(by: millisecondsPerUnit)
        guard !overflow else { return .futureTimestamp }
        let nowMilliseconds = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        let (seconds, attoseconds) = maxAge.components
        let window = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if nowMilliseconds - stamp > window { return .staleTimestamp }
        if stamp - nowMilliseconds > window { return .futureTimestamp }
        return nil
    }
}
