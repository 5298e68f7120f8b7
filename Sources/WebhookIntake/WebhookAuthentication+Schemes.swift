import Crypto
import Foundation
import RetentionCore

extension WebhookAuthentication {
    static func verifyHubSpotV3(_ request: WebhookRequest, secret: String, maxAge: Duration, now: Date)
        -> WebhookRejection?
    {
        guard let signature = header(request, "X-HubSpot-Signature-v3") else { return .missingSignature }
        let timestamp = header(request, "X-HubSpot-Request-Timestamp")
        if let rejection = checkTimestamp(timestamp, millisecondsPerUnit: 1, maxAge: maxAge, now: now) {
            return rejection
        }
        guard let provided = Data(base64Encoded: signature) else { return .badSignature }
        var message = Data(request.method.utf8)
        message.append(contentsOf: HubSpotURI.decodeForSignature(request.uri).utf8)
        message.append(request.body)
        message.append(contentsOf: (timestamp ?? "").utf8)
        let expected = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return ConstantTime.isEqual(Data(expected), provided) ? nil : .badSignature
    }

    /// HubSpot v1 and v2: a plain SHA-256 (not an HMAC) of secret + [method + uri +] body, hex-encoded, with the
    /// version named in `X-HubSpot-Signature-Version`. A delivery signed with another version is rejected, so a
    /// v2 configuration cannot be downgraded to v1.
    static func verifyHubSpotSHA256(_ request: WebhookRequest, secret: String, version: String) -> WebhookRejection? {
        guard let signature = header(request, "X-HubSpot-Signature") else { return .missingSignature }
        guard header(request, "X-HubSpot-Signature-Version")?.lowercased() == version else {
            return .unsupportedSignatureVersion
        }
        guard let provided = Hex.decode(signature) else { return .badSignature }
        var source = Data(secret.utf8)
        if version == "v2" {
            source.append(contentsOf: request.method.utf8)
            source.append(contentsOf: request.uri.utf8)
        }
        source.append(request.body)
        return ConstantTime.isEqual(Data(SHA256.hash(data: source)), provided) ? nil : .badSignature
    }

    static func verifyHMAC(_ request: WebhookRequest, options: HMACOptions, now: Date) -> WebhookRejection? {
        guard let value = header(request, options.header) else { return .missingSignature }
        var message = Data()
        if let timestampHeader = options.timestampHeader {
            let timestamp = header(request, timestampHeader)
            let unit: Int64 = options.timestampUnit == .seconds ? 1000 : 1
            if let rejection = checkTimestamp(timestamp, millisecondsPerUnit: unit, maxAge: options.maxAge, now: now) {
                return rejection
            }
            message.append(contentsOf: (timestamp ?? "").utf8)
            message.append(UInt8(ascii: "."))
        }
        message.append(request.body)
        guard value.hasPrefix(options.prefix) else { return .badSignature }
        let encoded = String(value.dropFirst(options.prefix.count))
        let provided: Data? =
            switch options.encoding {
            case .hex: Hex.decode(encoded)
            case .base64: Data(base64Encoded: encoded)
            }
        guard let provided else { return .badSignature }
        let expected = HMAC<SHA256>.authenticationCode(
            for: message, using: SymmetricKey(data: Data(options.secret.utf8)))
        return ConstantTime.isEqual(Data(expected), provided) ? nil : .badSignature
    }

    static func verifySharedSecret(_ request: WebhookRequest, header name: String, secret: String) -> WebhookRejection? {
        guard let value = header(request, name) else { return .missingCredentials }
        return ConstantTime.isEqualSecret(value, secret) ? nil : .badCredentials
    }

    static func verifyBasic(_ request: WebhookRequest, username: String, password: String) -> WebhookRejection? {
        guard let authorization = header(request, "Authorization") else { return .missingCredentials }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        else { return .badCredentials }
        let userMatches = ConstantTime.isEqualSecret(String(text[..<colon]), username)
        let passwordMatches = ConstantTime.isEqualSecret(String(text[text.index(after: colon)...]), password)
        // Both comparisons always run, and `&` on integers does not short-circuit.
        let matches = (userMatches ? 1 : 0) & (passwordMatches ? 1 : 0)
        return matches == 1 ? nil : .badCredentials
    }
}
