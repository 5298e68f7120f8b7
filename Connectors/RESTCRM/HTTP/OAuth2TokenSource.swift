/// The OAuth2 access token of one client: cached in memory, refreshed shortly before it expires,
/// and fetched at most once at a time however many requests need it.
actor OAuth2TokenSource {
    struct Token: Sendable {
        var value: String
        /// When to refresh before use; `nil` when the endpoint gave no lifetime.
        var refreshAt: ContinuousClock.Instant?
    }

    typealias Fetch = @Sendable () async throws -> (token: String, lifetime: Duration?)

    private let fetch: Fetch
    private let clock = ContinuousClock()
    private var token: Token?
    private var refreshing: Task<Token, any Error>?

    init(initialToken: String?, fetch: @escaping Fetch) {
        self.fetch = fetch
        self.token = initialToken.map { Token(value: $0, refreshAt: nil) }
    }

    /// The token to send now: the cached one unless it is about to expire or there is none.
    func current() async throws -> String {
        if let token, isFresh(token) { return token.value }
        return try await refresh(replacing: token?.value)
    }

    private func isFresh(_ token: Token) -> Bool {
        guard let refreshAt = token.refreshAt else { return true }
        return clock.now < refreshAt
    }

    /// A new token, unless another caller already replaced `stale` (then that one). Concurrent
    /// callers share one request to the token endpoint.
    func refresh(replacing stale: String?) async throws -> String {
        if let token, token.value != stale, isFresh(token) { return token.value }
        if let refreshing { return try await refreshing.value.value }
        let task = Task<Token, any Error> { [fetch] in
            let (value, lifetime) = try await fetch()
            guard let lifetime else { return Token(value: value, refreshAt: nil) }
            return Token(value: value, refreshAt: ContinuousClock.now + lifetime - min(.seconds(60), lifetime / 10))
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
