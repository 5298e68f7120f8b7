public import RetentionCore

/// A failure of the REST CRM connector.
///
/// Messages name the step, the manifest path and the size or kind of what was found, never a
/// response body, a token, a record id or a field value.
public struct RESTCRMConnectorError: ConnectorFailure, Equatable {
    public var code: String
    public var message: String
    public var isTransient: Bool

    public init(code: String, message: String, isTransient: Bool) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
    }

    /// A response body that cannot be read as the manifest describes: malformed or truncated JSON,
    /// or no record array where the manifest says. Transient, because truncated bodies happen.
    static func badBody(_ problem: String) -> RESTCRMConnectorError {
        RESTCRMConnectorError(code: "rest.bad_body", message: "unreadable list response: \(problem)", isTransient: true)
    }
}
