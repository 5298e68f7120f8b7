import Crypto
import Foundation

extension HTTPConfiguration {
    /// The key of the request budget shared with every client of the same provider account:
    /// `rateLimit.account` when set, else the base URL's host (and port) with a fingerprint of the
    /// credentials (`api.hubapi.com#3f2a…`), so that two connectors with the same token share one
    /// budget. The fingerprint is a prefix of a SHA-256 digest; the credentials themselves are never
    /// part of the key.
    var sharedBudgetAccount: String {
        if let account = rateLimit.account { return account }
        let components = URLComponents(string: baseURL)
        var host = components?.host?.lowercased() ?? baseURL
        if let port = components?.port { host += ":\(port)" }
        guard let credential = auth.budgetCredential else { return host }
        var material = Data("lethe.rate-budget\u{1F}\(host)\u{1F}".utf8)
        material.append(Data(credential.utf8))
        let digest = SHA256.hash(data: material).map { String(format: "%02x", $0) }.joined()
        return "\(host)#\(digest.prefix(16))"
    }
}

extension HTTPAuth {
    /// What identifies the provider account or app the limit is counted for: the token, the key, the
    /// user, or the OAuth2 client (the refresh token or the initial token without one).
    var budgetCredential: String? {
        switch self {
        case .none: nil
        case .bearer(let token): "bearer\u{1F}\(token)"
        case .apiKeyHeader(let name, let value), .apiKeyQuery(let name, let value): "api-key\u{1F}\(name)\u{1F}\(value)"
        case .basic(let username, let password): "basic\u{1F}\(username)\u{1F}\(password)"
        case .oauth2(let settings):
            if let client = settings.clientID { "oauth2\u{1F}\(settings.tokenURL)\u{1F}\(client)" }
            else { "oauth2\u{1F}\(settings.refreshToken ?? settings.accessToken ?? "")" }
        }
    }
}
