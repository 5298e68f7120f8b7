import Foundation
import RetentionCore

/// `rateLimit:` — the client-side budget, the concurrency bound and how the provider says "slow down".
///
/// ```yaml
/// rateLimit:
///   requests: 100            # at most this many request starts per `per` (optional, with per)
///   per: 10s
///   maxConcurrent: 4         # in-flight bound (default 4)
///   limited: [{status: 403, code: REQUEST_LIMIT_EXCEEDED}]   # besides 429, which always is
///   retries: 6               # attempts after the first (default 6)
///   backoff: {initial: 500ms, max: 30s, retryAfterMax: 120s}
///   headers: {remaining: X-RateLimit-Remaining, reset: X-RateLimit-Reset, resetUnit: s}
///   account: "hubspot-portal-123"   # the shared budget's key (default: host and credential fingerprint)
/// ```
struct HTTPRateLimit: Sendable, Equatable {
    /// A status, and optionally the provider error code that must come with it, meaning "rate limited".
    struct Limited: Sendable, Equatable {
        var status: Int
        var code: String?
    }

    /// Response headers telling the remaining budget and when it resets.
    struct BudgetHeaders: Sendable, Equatable {
        enum Unit: String, Sendable { case ms, s }
        var remaining: String?
        var reset: String?
        var resetUnit: Unit = .s
    }

    var requests: Int?
    var per: Duration = .seconds(1)
    var maxConcurrent: Int = 4
    var limited: [Limited] = []
    var retries: Int = 6
    var backoffInitial: Duration = .milliseconds(500)
    var backoffMax: Duration = .seconds(30)
    /// The longest wait a `Retry-After` or reset header can impose on one retry.
    var retryAfterMax: Duration = .seconds(120)
    var headers = BudgetHeaders()
    /// The key of the budget shared with every client of the same provider account (other connectors,
    /// processes, instances); nil (also when empty): derived from the base URL's host and the credentials.
    var account: String?

    init() {}

    init(config node: ConfigNode?) throws(ConfigError) {
        guard let node, !node.isNull else { return }
        try node.rejectUnknownKeys(allowed: ["requests", "per", "maxConcurrent", "limited", "retries", "backoff", "headers", "account"])
        if let child = node["account"], !child.isNull {
            let text = try child.string().trimmingCharacters(in: .whitespaces)
            guard text.count <= 200 else { throw child.error("config.range", "must be at most 200 characters") }
            account = text.isEmpty ? nil : text
        }
        if let child = node["requests"] {
            let value = try child.int()
            guard value > 0 else { throw child.error("config.range", "must be at least 1") }
            requests = value
            guard let perNode = node["per"] else { throw node.error("config.missing", "per is required with requests") }
            per = try perNode.positiveHTTPDuration()
        } else if let perNode = node["per"] {
            throw perNode.error("config.missing", "per needs requests")
        }
        if let child = node["maxConcurrent"] {
            maxConcurrent = try child.int()
            guard (1...256).contains(maxConcurrent) else { throw child.error("config.range", "must be between 1 and 256") }
        }
        if let child = node["retries"] {
            retries = try child.int()
            guard (0...100).contains(retries) else { throw child.error("config.range", "must be between 0 and 100") }
        }
        for item in try node["limited"]?.items() ?? [] {
            try item.rejectUnknownKeys(allowed: ["status", "code"])
            guard let statusNode = item["status"] else { throw item.error("config.missing", "status is required") }
            let status = try statusNode.int()
            guard (400...599).contains(status) else { throw statusNode.error("config.range", "must be a 4xx or 5xx status") }
            let code = try item["code"]?.string()
            limited.append(Limited(status: status, code: code?.isEmpty == true ? nil : code))
        }
        if let backoff = node["backoff"] {
            try backoff.rejectUnknownKeys(allowed: ["initial", "max", "retryAfterMax"])
            if let child = backoff["initial"] { backoffInitial = try child.positiveHTTPDuration() }
            if let child = backoff["max"] {
                backoffMax = try child.positiveHTTPDuration()
                guard backoffMax >= backoffInitial else { throw child.error("config.range", "must not be less than initial") }
            } else {
                backoffMax = max(backoffMax, backoffInitial)
            }
            if let child = backoff["retryAfterMax"] { retryAfterMax = try child.positiveHTTPDuration() }
        }
        if let headersNode = node["headers"] {
            try headersNode.rejectUnknownKeys(allowed: ["remaining", "reset", "resetUnit"])
            headers.remaining = try headersNode["remaining"]?.string()
            headers.reset = try headersNode["reset"]?.string()
            if let unitNode = headersNode["resetUnit"] {
                let text = try unitNode.string()
                guard let unit = BudgetHeaders.Unit(rawValue: text) else {
                    throw unitNode.error("config.choice", "expected ms or s, found '\(text.prefix(20))'")
                }
                headers.resetUnit = unit
            }
        }
    }

    /// Whether an answer means "rate limited": 429, or a configured status with its code (if any).
    func isLimited(status: Int, providerCode: String?) -> Bool {
        if status == 429 { return true }
        return limited.contains { $0.status == status && ($0.code == nil || $0.code == providerCode) }
    }
}
