/// The OAuth2 access token of one client: cached in memory, refreshed shortly before it expires,
/// and fetched at most once at a time however many requests need it.
///
/// A 401 means different things depending on the token it answered: a token that a newer one has
/// already replaced was simply sent too early (retry with the current one); a token that worked
/// for some request has expired (refresh); a token just issued by the endpoint that no request got
/// through with means the credentials themselves are refused.
actor OAuth2TokenSource {
    struct Token: Sendable {
        var value: String
        /// When to refresh before use; `nil` when the endpoint gave no lifetime.
        var refreshAt: ContinuousClock.Instant?
        /// Issued by the token endpoint (not the configured initial access token).
        var issued: Bool
        /// Some request was answered with something other than a 401 while sending it.
        var accepted = false
    }

    typealias Fetch = @Sendable () async throws -> (token: String, lifetime: Duration?)

    /// What a request does after a 401.
    enum Refusal: Equatable {
        /// Send again with `current()`: another request replaced the token, or this one just did.
        case retry
        /// A newly issued token was refused: the credentials are not good.
        case refused
    }

    private let fetch: Fetch
    private let clock = ContinuousClock()
    private var token: Token?
    private var refreshing: Task<Token, any Error>?

    init(initialToken: String?, fetch: @escaping Fetch) {
        self.fetch = fetch
        self.token = initialToken.map { Token(value: $0, refreshAt: nil, issued: false) }
    }

    /// The token to send now: the one being fetched if a refresh is under way, else the cached one
    /// unless it is about to expire or there is none.
    func current() async throws -> String {
        // Waiters may resume before the refreshing caller stores the new token: ask the task.
        if let refreshing { return try await refreshing.value.value }
        if let token, isFresh(token) { return token.value }
        return try await refresh(replacing: token?.value)
    }

    /// Notes that a request sent with `value` was not refused (any answer but a 401 or a 5xx).
    func accepted(_ value: String) {
        if token?.value == value { token?.accepted = true }
    }

    /// Decides what a request does after `sent` was answered 401, refreshing the token when it
    /// expired. Concurrent callers share one refresh; a caller whose token was already replaced
    /// (or is being replaced) waits for the new one and never asks for another.
    ///
    /// - Throws: what the token endpoint's fetch throws (`rest.auth_failed`).
    func afterRefusal(of sent: String) async throws -> Refusal {
        if let refreshing {
            _ = try await refreshing.value
            return .retry
        }
        guard let token, token.value == sent else { return .retry }
        if token.issued && !token.accepted { return .refused }
        _ = try await refresh(replacing: sent)
        return .retry
    }

    private func isFresh(_ token: Token) -> Bool {
        guard let refreshAt = token.refreshAt else { return true }
        return clock.now < refreshAt
    }

    /// A new token, unless another caller already replaced `stale` (then that one). Concurrent
    /// callers share one request to the token endpoint.
    func refresh(replacing stale: String?) async throws -> String {
        if let refreshing { return try await refreshing.value.value }
        if let token, token.value != stale, isFresh(token) { return token.value }
        let task = Task<Token, any Error> { [fetch] in
            let (value, lifetime) = try await fetch()
            guard let lifetime else { return Token(value: value, refreshAt: nil, issued: true) }
            let refreshAt = ContinuousClock.now + lifetime - min(.seconds(60), lifetime / 10)
            return Token(value: value, refreshAt: refreshAt, issued: true)
        }
        refreshing = task
        do {
            let fresh = try await task.value
            token = fresh
            refreshing = nil
            return fresh.value
        } catch {
            refreshing = nil
            throw error
        }
    }
}
