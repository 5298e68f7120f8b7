/// The outcome of checking a delivery's credentials.
public enum WebhookVerdict: Sendable, Hashable {
    case accepted
    case rejected(WebhookRejection)

    public var isAccepted: Bool { self == .accepted }
}

/// Why a delivery was rejected: a short, stable code for the JSON error body, logs and the
/// `lethe_webhook_deliveries_total{reason=…}` label. It never contains a secret, a header value or body content.
public struct WebhookRejection: Sendable, Hashable, CustomStringConvertible {
    public var code: String

    public init(code: String) { self.code = code }

    public var description: String { code }

    /// The signature header is absent or empty.
    public static let missingSignature = Self(code: "missing_signature")
    /// The signature does not match (also: undecodable, wrong length, wrong prefix).
    public static let badSignature = Self(code: "bad_signature")
    /// The timestamp header is absent or empty.
    public static let missingTimestamp = Self(code: "missing_timestamp")
    /// The timestamp header is not a whole number.
    public static let badTimestamp = Self(code: "bad_timestamp")
    /// The timestamp is older than the allowed age (a replay or a very late retry).
    public static let staleTimestamp = Self(code: "stale_timestamp")
    /// The timestamp is further in the future than the allowed age.
    public static let futureTimestamp = Self(code: "future_timestamp")
    /// HubSpot's `X-HubSpot-Signature-Version` is absent or names another version than the configured scheme.
    public static let unsupportedSignatureVersion = Self(code: "unsupported_signature_version")
    /// No credentials (`Authorization` or the shared-secret header) were sent.
    public static let missingCredentials = Self(code: "missing_credentials")
    /// The credentials do not match or cannot be read.
    public static let badCredentials = Self(code: "bad_credentials")
}
