/// Counters of one `RESTHTTPClient`, for notes and tests.
public struct HTTPStatistics: Sendable, Equatable {
    /// Attempts sent to the provider (every retry counts), token requests excluded.
    public var requests: Int = 0
    /// Attempts that were retries of an earlier one.
    public var retries: Int = 0
    /// Answers that meant "rate limited" (429 or a configured `rateLimit.limited` pair).
    public var rateLimited: Int = 0
    /// Requests sent to the OAuth2 token endpoint.
    public var tokenRequests: Int = 0

    public init(requests: Int = 0, retries: Int = 0, rateLimited: Int = 0, tokenRequests: Int = 0) {
        self.requests = requests
        self.retries = retries
        self.rateLimited = rateLimited
        self.tokenRequests = tokenRequests
    }
}
