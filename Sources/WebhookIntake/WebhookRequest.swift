public import Foundation

/// One webhook delivery as the HTTP server received it, before anything is trusted.
///
/// `uri` is the public URL the provider called: `LETHE_PUBLIC_URL` + the request path and query, exactly as
/// sent (signature schemes such as HubSpot's sign it). `body` is the raw body: never re-encode JSON before
/// verifying.
public struct WebhookRequest: Sendable {
    public var method: String
    public var uri: String
    public var headers: WebhookHeaders
    public var body: Data

    public init(method: String, uri: String, headers: WebhookHeaders, body: Data) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }
}

/// Request headers with case-insensitive names (RFC 9110). A repeated header answers its first value.
public struct WebhookHeaders: Sendable, ExpressibleByDictionaryLiteral {
    private var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { (name: $0.0, value: $0.1) }
    }

    /// The first value of the header `name`, compared without regard to ASCII case.
    public subscript(name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first { $0.name.lowercased() == wanted }?.value
    }

    public mutating func add(name: String, value: String) {
        fields.append((name: name, value: value))
    }
}
