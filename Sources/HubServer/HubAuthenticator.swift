import Crypto
public import Foundation
import RetentionCore

/// Checks credentials and signs sign-in sessions. Stateless: a session is a signed cookie
/// (`v1.<payload>.<mac>`, base64url; the payload is the operator's name, the expiry and a random
/// nonce), so every instance that shares the installation's secret accepts it and no session table
/// is kept. The MAC also covers the digest of the operator's current token: changing an operator's
/// token (or removing the operator) ends every session it signed in. Tokens are compared as SHA-256
/// digests, every credential every time, without an early exit.
public struct HubAuthenticator: Sendable {
    /// The credentials: the configured operators and `admin` when `LETHE_ADMIN_TOKEN` is set.
    public let operators: [HubOperator]
    private let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    /// How long a sign-in lasts.
    public let sessionLifetime: Duration
    /// The cookie is `Secure` (LETHE_PUBLIC_URL is https).
    public let secureCookie: Bool
    let limiter: SignInLimiter

    public static let cookieName = "lethe_session"

    /// `sessionKey`: 32 bytes derived from the installation's secret (`ConsentLinkSigner.derivedKey`).
    public init(configuration: HubConfiguration, sessionKey: Data) {
        var operators = configuration.operators.filter { $0.name != HubOperator.adminName }
        if let admin = configuration.adminToken {
            operators.insert(HubOperator(name: HubOperator.adminName, tokenDigest: Self.digest(admin)), at: 0)
        }
        self.operators = operators
        keyBytes = sessionKey
        sessionLifetime = configuration.sessionLifetime
        secureCookie = configuration.publicURL.lowercased().hasPrefix("https://")
        limiter = SignInLimiter(failuresPerMinute: configuration.signInFailuresPerMinute, delay: configuration.signInFailureDelay)
    }

    /// Nobody can sign in: no admin token and no operator.
    public var isDisabled: Bool { operators.isEmpty }

    static func digest(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    /// The operator whose token this is. Every credential is compared, in constant time.
    public func operatorName(token: String) -> String? {
        guard !token.isEmpty else { return nil }
        let given = Self.digest(token)
        var found: String?
        for candidate in operators where ConstantTime.isEqual(candidate.tokenDigest, given) && found == nil {
            found = candidate.name
        }
        return found
    }

    // MARK: Sessions

    /// A fresh session cookie value for `name`, valid from `now` for `sessionLifetime`.
    public func sessionToken(for name: String, now: Date) -> String? {
        guard let credential = operators.first(where: { $0.name == name }) else { return nil }
        var nonce = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = UInt8.random(in: 0...255, using: &generator) }
        let expires = Int64(now.timeIntervalSince1970) + sessionLifetime.components.seconds
        let payload = Data(["v1", name, String(expires), Hex.encode(nonce)].joined(separator: "\u{1F}").utf8)
        return "v1." + Self.base64url(payload) + "." + Self.base64url(mac(payload, credential: credential))
    }

    /// The operator and nonce of a session cookie whose signature holds for the operator's current
    /// token and which has not expired at `now`; nil otherwise.
    public func verifySession(_ token: String, now: Date) -> (name: String, nonce: String)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let payload = Self.decode(parts[1]), let given = Self.decode(parts[2]) else { return nil }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 4, fields[0] == "v1", let expires = Int64(fields[2]), fields[3].count == 32,
            let credential = operators.first(where: { $0.name == fields[1] }),
            ConstantTime.isEqual(mac(payload, credential: credential), given)
        else { return nil }
        guard Double(expires) > now.timeIntervalSince1970 else { return nil }
        return (fields[1], fields[3])
    }

    private func mac(_ payload: Data, credential: HubOperator) -> Data {
        var authenticated = HMAC<SHA256>(key: key)
        authenticated.update(data: payload)
        authenticated.update(data: Data([0x1F]))
        authenticated.update(data: Data(credential.tokenDigest))
        return Data(authenticated.finalize())
    }

    /// The CSRF token of a session: an HMAC of its nonce, so it needs no storage and differs per sign-in.
    public func csrfToken(nonce: String) -> String {
        Self.base64url(Data(HMAC<SHA256>.authenticationCode(for: Data("csrf\u{1F}\(nonce)".utf8), using: key)))
    }

    /// The `Set-Cookie` value that stores `token` (nil: removes the cookie).
    public func cookieHeader(_ token: String?) -> String {
        var parts = ["\(Self.cookieName)=\(token ?? "")", "Path=/", "HttpOnly", "SameSite=Strict"]
        parts.append(token == nil ? "Max-Age=0" : "Max-Age=\(sessionLifetime.components.seconds)")
        if secureCookie { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> Data? {
        guard !text.isEmpty, text.count < 4096, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// Failed sign-ins: each answer is delayed a little, and beyond `failuresPerMinute` in a minute
/// (across all clients: the daemon does not see client addresses behind a proxy) sign-in answers
/// 429 until the minute is over. Bearer tokens are not limited by it.
actor SignInLimiter {
    let failuresPerMinute: Int
    let delay: Duration
    private var failures: [Date] = []

    init(failuresPerMinute: Int, delay: Duration) {
        self.failuresPerMinute = failuresPerMinute
        self.delay = delay
    }

    /// Whether sign-in is open at `now`; when not, how many seconds until it is.
    func blocked(at now: Date) -> Int? {
        failures.removeAll { now.timeIntervalSince($0) >= 60 }
        guard failures.count >= failuresPerMinute, let oldest = failures.first else { return nil }
        return max(1, Int((60 - now.timeIntervalSince(oldest)).rounded(.up)))
    }

    func failed(at now: Date) async {
        failures.append(now)
        if delay > .zero { try? await Task.sleep(for: delay) }
    }
}
