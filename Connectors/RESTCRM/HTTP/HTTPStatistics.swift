/// Counters of one `RESTHTTPClient`, for notes and tests.
struct HTTPStatistics: Sendable, Equatable {
    /// Attempts sent to the provider (every retry counts), token requests excluded.
    var requests: Int = 0
    /// Attempts that were retries of an earlier one.
    var retries: Int = 0
    /// Answers that meant "rate limited" (429 or a configured `rateLimit.limited` pair).
    var rateLimited: Int = 0
    /// Requests sent to the OAuth2 token endpoint.
    var tokenRequests: Int = 0
    /// Times an attempt waited for the budget shared with other clients of the account.
    var sharedBudgetWaits: Int = 0

    init(requests: Int = 0, retries: Int = 0, rateLimited: Int = 0, tokenRequests: Int = 0) {
        self.requests = requests
        self.retries = retries
        self.rateLimited = rateLimited
        self.tokenRequests = tokenRequests
    }
}
