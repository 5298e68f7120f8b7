import Foundation
import RetentionCore
import Testing
import WebhookIntake

/// HMAC values computed independently with Python:
/// `hmac.new(b"generic-secret", payload, hashlib.sha256)` → `.hexdigest()` or base64 of `.digest()`.
struct GenericSchemeTests {
    static let body = #"{"id":"42","type":"person.deleted"}"#
    static let hexOfBody = "ea8cdbf007dfec8699a30e86aa066e4201a55a047779d2fff95d8760bdaf84d8"
    /// Over `1700000000.` + body.
    static let base64OfTimestamped = "nAs80AdRbAX/9+XDNFVOABrmYXxNBTNEq01fpVPOYtU="
    /// Over `1700000000000.` + body.
    static let hexOfMillisecondTimestamped = "72c2222c31505775f5162e289399e1bd845258c8948a3ceb5e942ed4cdbc41f7"
    static let now = Date(timeIntervalSince1970: 1_700_000_010)

    @Test func hexOverTheBody() {
        let auth = WebhookAuthentication.hmacSHA256(.init(header: "X-Signature", encoding: .hex, secret: "generic-secret"))
        #expect(auth.verify(request(headers: [("x-signature", Self.hexOfBody)], body: Self.body), now: Self.now) == .accepted)
        #expect(
            auth.verify(request(headers: [("X-Signature", Self.hexOfBody)], body: Self.body + " "), now: Self.now)
                == .rejected(.badSignature))
        #expect(auth.verify(request(body: Self.body), now: Self.now) == .rejected(.missingSignature))
        #expect(
            auth.verify(request(headers: [("X-Signature", "zz" + Self.hexOfBody.dropFirst(2))], body: Self.body), now: Self.now)
                == .rejected(.badSignature))
    }

    @Test func prefixIsRequiredWhenConfigured() {
        let auth = WebhookAuthentication.hmacSHA256(
            .init(header: "X-Hub-Signature-256", encoding: .hex, prefix: "sha256=", secret: "generic-secret"))
        let good = request(headers: [("X-Hub-Signature-256", "sha256=" + Self.hexOfBody)], body: Self.body)
        #expect(auth.verify(good, now: Self.now) == .accepted)
        let bare = request(headers: [("X-Hub-Signature-256", Self.hexOfBody)], body: Self.body)
        #expect(auth.verify(bare, now: Self.now) == .rejected(.badSignature))
    }

    @Test func base64WithTimestampSignsTimestampDotBody() {
        let auth = WebhookAuthentication.hmacSHA256(
            .init(header: "X-Signature", encoding: .base64, timestampHeader: "X-Timestamp", secret: "generic-secret"))
        let headers = [("X-Signature", Self.base64OfTimestamped), ("X-Timestamp", "1700000000")]
        #expect(auth.verify(request(headers: headers, body: Self.body), now: Self.now) == .accepted)
        #expect(
            auth.verify(request(headers: headers, body: Self.body), now: Self.now.addingTimeInterval(301))
                == .rejected(.staleTimestamp))
        #expect(
            auth.verify(request(headers: headers, body: Self.body), now: Self.now.addingTimeInterval(-400))
                == .rejected(.futureTimestamp))
        #expect(
            auth.verify(request(headers: [headers[0]], body: Self.body), now: Self.now) == .rejected(.missingTimestamp))
        let replayedWithNewStamp = [("X-Signature", Self.base64OfTimestamped), ("X-Timestamp", "1700000005")]
        #expect(auth.verify(request(headers: replayedWithNewStamp, body: Self.body), now: Self.now) == .rejected(.badSignature))
    }

    @Test func millisecondTimestamps() {
        let auth = WebhookAuthentication.hmacSHA256(
            .init(
                header: "X-Signature", encoding: .hex, timestampHeader: "X-Timestamp", timestampUnit: .milliseconds,
                maxAge: .seconds(60), secret: "generic-secret"))
        let headers = [("X-Signature", Self.hexOfMillisecondTimestamped), ("X-Timestamp", "1700000000000")]
        #expect(auth.verify(request(headers: headers, body: Self.body), now: Self.now) == .accepted)
        #expect(
            auth.verify(request(headers: headers, body: Self.body), now: Self.now.addingTimeInterval(60))
                == .rejected(.staleTimestamp))
    }

    @Test func sharedSecret() {
        let auth = WebhookAuthentication.sharedSecret(header: "X-Webhook-Token", secret: "t0ken")
        #expect(auth.verify(request(headers: [("x-webhook-token", "t0ken")], body: "{}"), now: .now) == .accepted)
        #expect(
            auth.verify(request(headers: [("X-Webhook-Token", "t0ke")], body: "{}"), now: .now) == .rejected(.badCredentials))
        #expect(
            auth.verify(request(headers: [("X-Webhook-Token", "t0ken!")], body: "{}"), now: .now)
                == .rejected(.badCredentials))
        #expect(auth.verify(request(body: "{}"), now: .now) == .rejected(.missingCredentials))
    }

    @Test func basic() {
        let auth = WebhookAuthentication.basic(username: "lethe", password: "pa:ss")
        // base64("lethe:pa:ss"): a colon in the password belongs to the password.
        #expect(auth.verify(request(headers: [("Authorization", "Basic bGV0aGU6cGE6c3M=")], body: "{}"), now: .now) == .accepted)
        #expect(auth.verify(request(headers: [("authorization", "basic bGV0aGU6cGE6c3M=")], body: "{}"), now: .now) == .accepted)
        let wrongPassword = "Basic " + Data("lethe:pass".utf8).base64EncodedString()
        #expect(auth.verify(request(headers: [("Authorization", wrongPassword)], body: "{}"), now: .now) == .rejected(.badCredentials))
        let wrongUser = "Basic " + Data("admin:pa:ss".utf8).base64EncodedString()
        #expect(auth.verify(request(headers: [("Authorization", wrongUser)], body: "{}"), now: .now) == .rejected(.badCredentials))
        #expect(auth.verify(request(headers: [("Authorization", "Bearer abc")], body: "{}"), now: .now) == .rejected(.badCredentials))
        #expect(auth.verify(request(headers: [("Authorization", "Basic %%%")], body: "{}"), now: .now) == .rejected(.badCredentials))
        let noColon = "Basic " + Data("lethe".utf8).base64EncodedString()
        #expect(auth.verify(request(headers: [("Authorization", noColon)], body: "{}"), now: .now) == .rejected(.badCredentials))
        #expect(auth.verify(request(body: "{}"), now: .now) == .rejected(.missingCredentials))
    }

    @Test func rejectionCodesAreStable() {
        let codes = [
            WebhookRejection.missingSignature, .badSignature, .missingTimestamp, .badTimestamp, .staleTimestamp,
            .futureTimestamp, .unsupportedSignatureVersion, .missingCredentials, .badCredentials,
        ].map(\.code)
        #expect(codes == [
            "missing_signature", "bad_signature", "missing_timestamp", "bad_timestamp", "stale_timestamp",
            "future_timestamp", "unsupported_signature_version", "missing_credentials", "bad_credentials",
        ])
    }
}

struct ConstantTimeTests {
    @Test(arguments: [
        ([UInt8](), [UInt8](), true),
        ([1, 2, 3], [1, 2, 3], true),
        ([1, 2, 3], [1, 2, 4], false),
        ([0, 2, 3], [1, 2, 3], false),
        ([1, 2, 3], [1, 2], false),
        ([1, 2], [1, 2, 0], false),
        ([], [0], false),
        ([0xFF], [0x7F], false),
    ] as [([UInt8], [UInt8], Bool)])
    func bytes(a: [UInt8], b: [UInt8], equal: Bool) {
        #expect(ConstantTime.isEqual(a, b) == equal)
        #expect(ConstantTime.isEqual(b, a) == equal)
    }

    @Test func lengthsDifferingByAMultipleOf256AreStillUnequal() {
        #expect(!ConstantTime.isEqual([UInt8](repeating: 0, count: 256), [UInt8]()))
        #expect(!ConstantTime.isEqual([UInt8](repeating: 7, count: 1), [UInt8](repeating: 7, count: 257)))
    }

    @Test func secrets() {
        #expect(ConstantTime.isEqualSecret("abc", "abc"))
        #expect(!ConstantTime.isEqualSecret("abc", "abd"))
        #expect(!ConstantTime.isEqualSecret("abc", "abcd"))
        #expect(ConstantTime.isEqualSecret("", ""))
    }
}
