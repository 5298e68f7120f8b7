import Foundation
import RetentionCore

extension RESTHTTPClient {
    /// The provider's error code in an error body, from the manifest's `errors.code` paths tried in
    /// order (at most 100 characters); `nil` when the body is not JSON or no path matches.
    func errorCode(in body: Data) -> String? {
        guard !configuration.errorCodePaths.isEmpty, !body.isEmpty, let document = try? JSONValue.parse(body) else { return nil }
        for path in configuration.errorCodePaths {
            if let text = path.evaluate(document)?.text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
                return String(text.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.prefix(100).map(Character.init))
            }
        }
        return nil
    }

    /// The error for an answer the caller did not expect: code `rest.http_<status>`, message
    /// `<METHOD> <path> answered <status> (<provider code>)`, transient for 5xx, 408, 429, the
    /// configured rate-limit pairs (with `retryAfter` when the answer tells one) and a provider code
    /// listed in `errors.transient` (not retried within the request: the operation is retried later). Never sets
    /// `isAlreadyGone`: what "gone" means is the manifest's to say.
    func failure(for request: HTTPRequestSpec, result: HTTPResult) -> RESTCRMConnectorError {
        let providerCode = errorCode(in: result.body)
        let limited = configuration.rateLimit.isLimited(status: result.status, providerCode: providerCode)
        let passing = providerCode.map(configuration.transientCodes.contains) ?? false
        let transient = result.status >= 500 || result.status == 408 || limited || passing
        let suffix = providerCode.map { " (\($0))" } ?? ""
        return RESTCRMConnectorError(
            code: "rest.http_\(result.status)",
            message: "\(request.summary) answered \(result.status)\(suffix)",
            isTransient: transient,
            retryAfter: transient ? (retryAfter(in: result) ?? (limited ? resetWait(in: result) : nil)) : nil
        )
    }

    /// Sorts an answer: returned, retried, or a 401.
    func classify(_ result: HTTPResult, request: HTTPRequestSpec, expectJSON: Bool) async -> Decision {
        await observeBudget(result)
        let status = result.status
        if (200..<300).contains(status) {
            if expectJSON, request.method.uppercased() != "HEAD", !Self.isAcceptableJSON(result) {
                return .retry(wait: nil, failure: RESTCRMConnectorError(
                    code: "rest.bad_body",
                    message: "\(request.summary) answered \(status) with a body that is not valid JSON "
                        + "(\(result.body.count) bytes; truncated or malformed)",
                    isTransient: true
                ))
            }
            return .done(result)
        }
        guard status >= 400 else { return .done(result) }
        let providerCode = errorCode(in: result.body)
        if configuration.rateLimit.isLimited(status: status, providerCode: providerCode) {
            counters.withLock { $0.rateLimited += 1 }
            let wait = (retryAfter(in: result) ?? resetWait(in: result)).map { min($0, configuration.rateLimit.retryAfterMax) }
            if let wait { await gate.pause(until: .now + wait) }
            log(.notice, "\(request.summary) was rate limited (\(status))", wait.map { ["wait": HTTPTime.text($0)] } ?? [:])
            return .retry(wait: wait, failure: failure(for: request, result: result))
        }
        if status == 401 { return .unauthorized(result, providerCode: providerCode) }
        if status >= 500 || status == 408 {
            return .retry(wait: retryAfter(in: result), failure: failure(for: request, result: result))
        }
        return .done(result)
    }

    /// A 2xx body that parses as JSON; an empty body only with 204/205 or `Content-Length: 0`.
    static func isAcceptableJSON(_ result: HTTPResult) -> Bool {
        if result.body.isEmpty {
            return result.status == 204 || result.status == 205 || result.header("Content-Length") == "0"
        }
        return (try? JSONSerialization.jsonObject(with: result.body, options: [.fragmentsAllowed])) != nil
    }

    /// `Retry-After` as seconds or an HTTP date (measured against the answer's `Date` header when
    /// present, so clock skew does not count).
    func retryAfter(in result: HTTPResult) -> Duration? {
        guard let text = result.header("Retry-After")?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite { return HTTPTime.duration(seconds: seconds) }
        guard let date = Self.httpDate(text) else { return nil }
        let now = result.header("Date").flatMap(Self.httpDate) ?? Date()
        return HTTPTime.duration(seconds: date.timeIntervalSince(now))
    }

    /// The configured reset header: a wait in `resetUnit`, or an epoch time when it is that large.
    func resetWait(in result: HTTPResult) -> Duration? {
        let headers = configuration.rateLimit.headers
        guard let name = headers.reset, let text = result.header(name), let value = Double(text.trimmingCharacters(in: .whitespaces)),
            value.isFinite, value >= 0
        else { return nil }
        var seconds = headers.resetUnit == .ms ? value / 1000 : value
        if seconds > 1_000_000_000 {
            let now = result.header("Date").flatMap(Self.httpDate) ?? Date()
            seconds -= now.timeIntervalSince1970
        }
        return HTTPTime.duration(seconds: seconds)
    }

    /// Pauses the client when the provider says the budget is spent, and warns when Salesforce's
    /// daily API allowance is nearly used up (at most every 10 minutes).
    func observeBudget(_ result: HTTPResult) async {
        let limits = configuration.rateLimit
        if let name = limits.headers.remaining, let text = result.header(name), let remaining = Double(text), remaining <= 0,
            let wait = resetWait(in: result)
        {
            await gate.pause(until: .now + min(wait, limits.retryAfterMax))
        }
        if let info = result.header("Sforce-Limit-Info"), let usage = Self.salesforceUsage(info), usage.limit > 0,
            usage.used * 10 > usage.limit * 9
        {
            let now = ContinuousClock.now
            let due = usageWarning.withLock { last -> Bool in
                if let last, now - last < .seconds(600) { return false }
                last = now
                return true
            }
            if due {
                let percent = usage.used * 100 / usage.limit
                log(.warning, "Salesforce API usage at \(percent)% of the allowance", ["used": "\(usage.used)", "limit": "\(usage.limit)"])
            }
        }
    }

    /// `api-usage=used/limit` in `Sforce-Limit-Info`.
    static func salesforceUsage(_ info: String) -> (used: Int, limit: Int)? {
        for part in info.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "api-usage" else { continue }
            let numbers = pair[1].split(separator: "/").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            if numbers.count == 2 { return (numbers[0], numbers[1]) }
        }
        return nil
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }
}
