import Foundation
import RetentionCore
import AsyncHTTPClient
import NIOCore
import NIOSSL

/// The HTTP client of one REST CRM: adds auth and default headers, keeps the client-side budget (and
/// asks the budget shared with other clients of the account) and the concurrency bound, and retries
/// what is worth retrying. Safe to use from many tasks at once.
///
/// Contract:
/// - Retried internally, with exponential backoff and full jitter (`rateLimit.backoff`), at most
///   `rateLimit.retries` times: rate-limit answers (429 and `rateLimit.limited` pairs), 5xx, 408,
///   connection errors and timeouts, and — when `expectJSON` — 2xx bodies that are not valid JSON.
///   `Retry-After` (seconds or an HTTP date) and a reset header replace the backoff, capped by
///   `rateLimit.backoff.retryAfterMax`, and pause every request of this client.
/// - A 401 with OAuth2 (and the credentials to refresh) retries with a valid token: the current one
///   when another request already replaced the token it sent, a new one (one refresh at a time for
///   the whole client) when the token had expired. A 401 to a newly issued token that no request got
///   through with, a 401 without OAuth2 refresh, or a fifth 401 for one request throws `rest.unauthorized`.
/// - Every other answer (2xx, 3xx — redirects are not followed — 403, 404, 410, other 4xx) is returned.
/// - Messages and log lines carry method, path (without query), status and provider code; never a
///   token, key, password, client secret, query string or body.
/// - Transport timing uses the real clocks, not `ConnectorContext.clock` (which `--as-of` may fix).
/// - `shutdown()` must be called before the client is released.
final class RESTHTTPClient: Sendable {
    let configuration: HTTPConfiguration
    let client: HTTPClient
    let log: LogFunction
    let gate: RequestGate
    let tokens: OAuth2TokenSource?
    /// OAuth2 with the credentials to ask for a new token (not just an initial access token).
    let canRefreshToken: Bool
    let maxBodyBytes: Int
    let counters = HTTPLocked(HTTPStatistics())
    /// When the Salesforce usage warning was last logged.
    let usageWarning = HTTPLocked<ContinuousClock.Instant?>(nil)
    /// The budget shared with every client of the same account (see `RESTHTTPClient+SharedBudget`).
    let sharedBudget: SharedBudgetUse?

    /// - Parameters:
    ///   - sharedBudget: asked before each attempt when `rateLimit.requests` is set, besides this
    ///     client's own budget.
    ///   - budgetClock: the wall clock the shared budget is kept in (not `--as-of`'s).
    ///   - budgetSleep: how a wait for the shared budget is slept (tests record it instead).
    /// - Throws: `ConfigError` (naming `tls.caFile`) when the CA bundle cannot be loaded.
    init(
        configuration: HTTPConfiguration, log: @escaping LogFunction, maxBodyBytes: Int = 64 << 20,
        sharedBudget: (any SharedRateBudget)? = nil, budgetClock: any LetheClock = SystemClock(),
        budgetSleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) throws {
        self.configuration = configuration
        if let sharedBudget, let requests = configuration.rateLimit.requests {
            self.sharedBudget = SharedBudgetUse(
                budget: sharedBudget, account: configuration.sharedBudgetAccount, requests: requests, per: configuration.rateLimit.per,
                clock: budgetClock, sleep: budgetSleep)
        } else {
            self.sharedBudget = nil
        }
        self.log = log
        self.maxBodyBytes = maxBodyBytes
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.tls.caFile {
            tls.additionalTrustRoots = [.certificates(try Self.loadCertificates(caFile, settings: configuration.tls))]
        }
        if configuration.tls.insecureSkipVerify {
            tls.certificateVerification = .none
            log(.warning, "TLS certificate verification is off (tls.insecureSkipVerify); use this only against a sandbox", [:])
        }
        var clientConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: Self.timeAmount(configuration.connectTimeout), read: Self.timeAmount(configuration.timeout))
        )
        clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, configuration.rateLimit.maxConcurrent)
        // A refused or failed connection surfaces at once, so that `send`'s backoff and budget apply.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let limits = configuration.rateLimit
        gate = RequestGate(maxConcurrent: limits.maxConcurrent, requests: limits.requests, per: limits.per)
        if case .oauth2(let settings) = configuration.auth {
            let fetch = Self.tokenFetcher(settings: settings, configuration: configuration, client: client, counters: counters)
            tokens = OAuth2TokenSource(initialToken: settings.accessToken, fetch: fetch)
            canRefreshToken = settings.canRefresh
        } else {
            tokens = nil
            canRefreshToken = false
        }
    }

    var statistics: HTTPStatistics { counters.withLock { $0 } }

    /// Shuts down the underlying HTTP client; requests after this fail.
    func shutdown() async throws {
        try await client.shutdown()
    }

    /// Sends a request and returns its final answer; see the type's contract for what is retried.
    ///
    /// - Throws: `RESTCRMConnectorError` — transient (with `retryAfter` when known) when retries
    ///   are exhausted; `rest.unauthorized` on a 401 that a valid token did not fix (see above);
    ///   `rest.auth_failed` when the token endpoint refuses; `rest.bad_url`, `rest.tls`,
    ///   `rest.body_too_large` (permanent). `CancellationError` when the task is cancelled: promptly,
    ///   also while it waits for a concurrency slot, for the budget window, for a provider's pause
    ///   or for a retry's backoff.
    func send(_ request: HTTPRequestSpec, expectJSON: Bool = true) async throws -> HTTPResult {
        let url = try url(for: request)
        let limits = configuration.rateLimit
        var retries = 0
        var refusals = 0
        while true {
            try Task.checkCancellation()
            var sentToken: String?
            let decision: Decision
            do {
                // The token is read once a slot is free, so that it is as recent as can be when sent.
                let (token, result) = try await gate.run { () async throws -> (String?, HTTPResult) in
                    try await self.waitForSharedBudget()
                    let token = try await self.tokens?.current()
                    let result = try await self.attempt(request, url: url, token: token)
                    if let token, result.status != 401, result.status < 500 { await self.tokens?.accepted(token) }
                    return (token, result)
                }
                sentToken = token
                decision = await classify(result, request: request, expectJSON: expectJSON)
            } catch let failure as RESTCRMConnectorError {
                if Task.isCancelled { throw CancellationError() }
                guard failure.isTransient else { throw failure }
                decision = .retry(wait: failure.retryAfter, failure: failure)
            } catch {
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                decision = try transportDecision(error, request: request)
            }
            switch decision {
            case .done(let result):
                return result
            case .unauthorized(let result, let providerCode):
                refusals += 1
                guard let tokens, let sentToken, canRefreshToken, refusals <= Self.maxRefusals,
                    try await tokens.afterRefusal(of: sentToken) == .retry
                else {
                    throw RESTCRMConnectorError.unauthorized(request.summary, status: result.status, providerCode: providerCode)
                }
                log(.info, "\(request.summary) answered 401: retrying with a current OAuth2 token", [:])
            case .retry(let wait, let failure):
                guard retries < limits.retries else {
                    var exhausted = failure
                    exhausted.message += " (gave up after \(retries + 1) attempts)"
                    throw exhausted
                }
                retries += 1
                counters.withLock { $0.retries += 1 }
                let delay = wait.map { min($0, limits.retryAfterMax) } ?? backoff(retry: retries)
                log(.debug, "retry in \(HTTPTime.text(delay)): \(failure.message)", ["retry": "\(retries)/\(limits.retries)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    /// The 401s one request may see before its credentials count as refused: each one means the
    /// token had expired or had been replaced meanwhile.
    static let maxRefusals = 4

    /// What to do after one attempt.
    enum Decision {
        case done(HTTPResult)
        case unauthorized(HTTPResult, providerCode: String?)
        case retry(wait: Duration?, failure: RESTCRMConnectorError)
    }

    /// Full jitter: a random wait between zero and `initial · 2^(retry-1)`, capped at `max`.
    func backoff(retry: Int) -> Duration {
        let limits = configuration.rateLimit
        let ceiling = min(
            HTTPTime.seconds(limits.backoffMax),
            HTTPTime.seconds(limits.backoffInitial) * pow(2, Double(min(retry - 1, 40)))
        )
        return HTTPTime.duration(seconds: Double.random(in: 0...ceiling))
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(Int64(min(HTTPTime.seconds(duration), 1e9) * 1e9))
    }

    private static func loadCertificates(_ path: String, settings: HTTPTLSSettings) throws(ConfigError) -> [NIOSSLCertificate] {
        func failure(_ problem: String) -> ConfigError {
            ConfigError(code: "config.tls_ca", location: settings.caFileLocation, key: settings.caFileKey, problem: problem)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw failure("CA file not found: \(path)")
        }
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw failure("not a PEM certificate bundle: \(path)")
        }
        guard !certificates.isEmpty else { throw failure("no certificate in \(path)") }
        return certificates
    }
}
