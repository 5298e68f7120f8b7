import RetentionCore

/// A failure of the REST CRM connector.
///
/// Messages name the step, the method and path (never the query string), the status and the
/// provider's error code, or the size or kind of what was found; never a response body, a token,
/// an API key, a password, a record id or a field value.
struct RESTCRMConnectorError: ConnectorFailure, Equatable {
    var code: String
    var message: String
    var isTransient: Bool
    /// The provider asked to wait this long (`Retry-After` or a rate-limit reset header).
    var retryAfter: Duration?
    /// The target is already gone; set by callers that interpret 404/410 or a provider code.
    var isAlreadyGone: Bool

    init(code: String, message: String, isTransient: Bool, retryAfter: Duration? = nil, isAlreadyGone: Bool = false) {
        self.code = code
        self.message = message
        self.isTransient = isTransient
        self.retryAfter = retryAfter
        self.isAlreadyGone = isAlreadyGone
    }

    /// A response body that cannot be read as the manifest describes: malformed or truncated JSON,
    /// or no record array where the manifest says. Transient, because truncated bodies happen.
    static func badBody(_ problem: String) -> RESTCRMConnectorError {
        RESTCRMConnectorError(code: "rest.bad_body", message: "unreadable list response: \(problem)", isTransient: true)
    }

    /// A 401, or a 401 that persisted after one token refresh. Permanent: the credentials are wrong.
    static func unauthorized(_ what: String, status: Int, providerCode: String?) -> RESTCRMConnectorError {
        let suffix = providerCode.map { " (\($0))" } ?? ""
        return RESTCRMConnectorError(
            code: "rest.unauthorized",
            message: "\(what) answered \(status)\(suffix): the credentials were refused",
            isTransient: false
        )
    }

    /// The token endpoint refused or failed. Transient only for a 5xx or a network failure.
    static func authFailed(_ problem: String, isTransient: Bool) -> RESTCRMConnectorError {
        RESTCRMConnectorError(code: "rest.auth_failed", message: "OAuth2 token request failed: \(problem)", isTransient: isTransient)
    }
}
