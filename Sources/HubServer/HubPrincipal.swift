/// Who is asking, as `Hub.authenticate(_:)` found it.
public enum HubPrincipal: Sendable, Equatable {
    /// How a signed-in operator proved who they are.
    public enum Method: Sendable, Equatable {
        /// `Authorization: Bearer <token>` (scripts, monitoring): no CSRF token needed.
        case bearer
        /// The `lethe_session` cookie of a sign-in; its nonce keys the CSRF token every form carries.
        case session(nonce: String)
    }

    /// A configured operator (or `admin`, the holder of `LETHE_ADMIN_TOKEN`).
    case signedIn(name: String, method: Method)
    /// No credential, or one that is wrong, expired or revoked: answer 401 or the sign-in page,
    /// with no data on it.
    case anonymous
    /// No admin token and no operator is configured: the admin surface is off (403).
    case disabled

    /// The operator's name when signed in.
    public var operatorName: String? {
        if case .signedIn(let name, _) = self { return name }
        return nil
    }

    /// Signed in with `LETHE_ADMIN_TOKEN` rather than an operator's own token.
    public var isAdmin: Bool { operatorName == HubOperator.adminName }
}
