import Crypto
public import RetentionCore
public import Foundation

/// What a consent link asks for: an extension notice's `extend` / `decline`, a re-confirmation's
/// `keep` / `withdraw`.
public enum ConsentAction: String, Sendable, Codable, CaseIterable {
    case extend, decline, keep, withdraw

    /// The links a notice of this kind carries.
    public static func actions(for kind: NoticeKind) -> [ConsentAction] {
        switch kind {
        case .extension: [.extend, .decline]
        case .reconfirm: [.keep, .withdraw]
        case .result: []
        }
    }
}

/// The content of a signed consent link: which record (by pseudonymous reference), which rule and
/// cycle (the expiry the notice was about), which action, and until when the link is valid (the
/// expiry). No personal data: a link that leaks reveals nothing about the person.
public struct ConsentToken: Sendable, Equatable {
    public var connector: String
    public var reference: String
    public var rule: String
    public var cycle: Date
    public var action: ConsentAction
    public var validUntil: Date

    public init(connector: String, reference: String, rule: String, cycle: Date, action: ConsentAction, validUntil: Date) {
        self.connector = connector
        self.reference = reference
        self.rule = rule
        self.cycle = cycle
        self.action = action
        self.validUntil = validUntil
    }
}

/// Signs and checks consent links: `base64url(payload).base64url(HMAC-SHA256(key, payload))`.
public struct ConsentLinkSigner: Sendable {
    public enum Failure: String, Error, Sendable {
        /// Not a token, or the signature does not match (edited, or another key).
        case tampered
        /// Past its validity (the expiry passed).
        case expired
    }

    private let secret: Data
    private var key: SymmetricKey { SymmetricKey(data: secret) }
    /// The base of links (`LETHE_PUBLIC_URL`): links are `<base>/consent/<token>`.
    public let baseURL: String

    public init(secret: Data, baseURL: String) {
        self.secret = secret
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// A key for another purpose derived from the same installation secret (HKDF-SHA256, `purpose` as
    /// the info), so that a value signed for one purpose never verifies for another: the daemon's
    /// sign-in sessions use `lethe session v1`. Every instance with the same secret derives the same key.
    public func derivedKey(purpose: String) -> Data {
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: self.key, info: Data(purpose.utf8), outputByteCount: 32)
        return key.withUnsafeBytes { Data($0) }
    }

    public func token(_ content: ConsentToken) -> String {
        let payload = [
            "v1", content.connector, content.reference, content.rule, String(Int64(content.cycle.timeIntervalSince1970)),
            content.action.rawValue, String(Int64(content.validUntil.timeIntervalSince1970)),
        ].joined(separator: "\u{1F}")
        let data = Data(payload.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: data, using: key)
        return Self.base64url(data) + "." + Self.base64url(Data(mac))
    }

    public func link(_ content: ConsentToken) -> String {
        "\(baseURL)/consent/\(token(content))"
    }

    /// The token's content when its signature holds and it is still valid at `now`.
    public func verify(_ token: String, now: Date) throws(Failure) -> ConsentToken {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Self.decode(parts[0]), let mac = Self.decode(parts[1]),
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key)
        else { throw .tampered }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 7, fields[0] == "v1", let cycle = Int64(fields[4]), let action = ConsentAction(rawValue: fields[5]),
            let until = Int64(fields[6])
        else { throw .tampered }
        let content = ConsentToken(
            connector: fields[1], reference: fields[2], rule: fields[3], cycle: Date(timeIntervalSince1970: TimeInterval(cycle)),
            action: action, validUntil: Date(timeIntervalSince1970: TimeInterval(until)))
        guard now < content.validUntil else { throw .expired }
        return content
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> Data? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
