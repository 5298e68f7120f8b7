import Foundation
import Testing
import WebhookIntake

/// Vectors: v1 and v2 are HubSpot's own documented examples
/// (https://developers.hubspot.com/docs/faq/v1-request-validation,
/// https://developers.hubspot.com/docs/faq/v2-request-validation, also
/// https://legacydocs.hubspot.com/docs/faq/v2-request-validation). HubSpot documents no v3 example hash, so the
/// v3 values were computed independently with Python's hmac module:
/// `base64.b64encode(hmac.new(secret, b"POST" + uri + body + ts, hashlib.sha256).digest())`, with the URI
/// already decoded by hand per HubSpot's table for the second vector.
struct HubSpotSignatureTests {
    static let timestamp: Int64 = 1_564_113_600_000
    static let v3 = WebhookAuthentication.hubspotV3(secret: hubspotDocSecret)
    static let v3Signature = "o+3fcm9oAMPJfXJMxvSQFgfqKHKK6kFKyy36SUlUbnU="

    static func v3Request(
        signature: String? = v3Signature, timestamp: String? = "1564113600000", body: String = hubspotDocBody,
        uri: String = "https://lethe.example.com/webhooks/hubspot"
    ) -> WebhookRequest {
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        if let signature { headers.append(("X-HubSpot-Signature-v3", signature)) }
        if let timestamp { headers.append(("X-HubSpot-Request-Timestamp", timestamp)) }
        return request(uri: uri, headers: headers, body: body)
    }

    @Test func v3AcceptsTheComputedVector() {
        #expect(Self.v3.verify(Self.v3Request(), now: date(ms: Self.timestamp + 60_000)) == .accepted)
    }

    @Test func v3HeaderNamesAreCaseInsensitive() {
        let lowered = request(
            headers: [("x-hubspot-signature-v3", Self.v3Signature), ("x-hubspot-request-timestamp", "1564113600000")],
            body: hubspotDocBody)
        #expect(Self.v3.verify(lowered, now: date(ms: Self.timestamp)) == .accepted)
    }

    @Test func v3DecodesOnlyTheDocumentedCharactersOfTheURI() {
        // Signed over .../hub:spot?email=a@b.example&q=a%20b%26c : %3A and %40 decoded, %20 and %26 kept.
        let encoded = Self.v3Request(
            signature: "+fuF89EjnMuaVjRnPkwrcXOiNp0X1J2Wi9Gybu8lcag=",
            uri: "https://lethe.example.com/webhooks/hub%3Aspot?email=a%40b.example&q=a%20b%26c")
        #expect(Self.v3.verify(encoded, now: date(ms: Self.timestamp)) == .accepted)
        var lowercaseHex = encoded
        lowercaseHex.uri = "https://lethe.example.com/webhooks/hub%3aspot?email=a%40b.example&q=a%20b%26c"
        #expect(Self.v3.verify(lowercaseHex, now: date(ms: Self.timestamp)) == .accepted)
        var overDecoded = encoded
        overDecoded.uri = "https://lethe.example.com/webhooks/hub%3Aspot?email=a%40b.example&q=a b&c"
        #expect(Self.v3.verify(overDecoded, now: date(ms: Self.timestamp)) == .rejected(.badSignature))
    }

    @Test func v3RejectsAWrongSecret() {
        let other = WebhookAuthentication.hubspotV3(secret: "zzzzzzzz-yyyy-yyyy-yyyy-yyyyyyyyyyyy")
        #expect(other.verify(Self.v3Request(), now: date(ms: Self.timestamp)) == .rejected(.badSignature))
    }

    @Test func v3RejectsAnAlteredBodyMethodOrURI() {
        let now = date(ms: Self.timestamp)
        let altered = Self.v3Request(body: hubspotDocBody.replacingOccurrences(of: "123", with: "124"))
        #expect(Self.v3.verify(altered, now: now) == .rejected(.badSignature))
        var put = Self.v3Request()
        put.method = "PUT"
        #expect(Self.v3.verify(put, now: now) == .rejected(.badSignature))
        let moved = Self.v3Request(uri: "https://lethe.example.com/webhooks/other")
        #expect(Self.v3.verify(moved, now: now) == .rejected(.badSignature))
    }

    @Test func v3RejectsATimestampChangedAfterSigning() {
        let shifted = Self.v3Request(timestamp: "1564113600001")
        #expect(Self.v3.verify(shifted, now: date(ms: Self.timestamp)) == .rejected(.badSignature))
    }

    @Test(arguments: [
        (Int64(300_000), WebhookVerdict.accepted),
        (Int64(300_001), .rejected(.staleTimestamp)),
        (Int64(-300_000), .accepted),
        (Int64(-300_001), .rejected(.futureTimestamp)),
    ])
    func v3ReplayWindowIsFiveMinutesEachWay(offset: Int64, verdict: WebhookVerdict) {
        #expect(Self.v3.verify(Self.v3Request(), now: date(ms: Self.timestamp + offset)) == verdict)
    }

    @Test func v3MaxAgeIsConfigurable() {
        let strict = WebhookAuthentication.hubspotV3(secret: hubspotDocSecret, maxAge: .seconds(30))
        #expect(strict.verify(Self.v3Request(), now: date(ms: Self.timestamp + 31_000)) == .rejected(.staleTimestamp))
        #expect(strict.verify(Self.v3Request(), now: date(ms: Self.timestamp + 29_000)) == .accepted)
    }

    @Test func v3MissingOrBrokenHeaders() {
        let now = date(ms: Self.timestamp)
        #expect(Self.v3.verify(Self.v3Request(signature: nil), now: now) == .rejected(.missingSignature))
        #expect(Self.v3.verify(Self.v3Request(signature: "  "), now: now) == .rejected(.missingSignature))
        #expect(Self.v3.verify(Self.v3Request(timestamp: nil), now: now) == .rejected(.missingTimestamp))
        #expect(Self.v3.verify(Self.v3Request(timestamp: "soon"), now: now) == .rejected(.badTimestamp))
        #expect(Self.v3.verify(Self.v3Request(signature: "not base64!"), now: now) == .rejected(.badSignature))
        let truncated = String(Self.v3Signature.dropLast(4))
        #expect(Self.v3.verify(Self.v3Request(signature: truncated), now: now) == .rejected(.badSignature))
    }

    static func v2Request(method: String, uri: String, body: String, signature: String?, version: String? = "v2")
        -> WebhookRequest
    {
        var headers: [(String, String)] = []
        if let signature { headers.append(("X-HubSpot-Signature", signature)) }
        if let version { headers.append(("X-HubSpot-Signature-Version", version)) }
        return request(method: method, uri: uri, headers: headers, body: body)
    }

    @Test func v2AcceptsHubSpotsDocumentedExamples() {
        let v2 = WebhookAuthentication.hubspotV2(secret: hubspotDocSecret)
        let get = Self.v2Request(
            method: "GET", uri: "https://www.example.com/webhook_uri", body: "",
            signature: "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e")
        #expect(v2.verify(get, now: .distantFuture) == .accepted)
        let post = Self.v2Request(
            method: "POST", uri: "https://www.example.com/webhook_uri", body: #"{"example_field":"example_value"}"#,
            signature: "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900")
        #expect(v2.verify(post, now: .distantPast) == .accepted)
        var upper = post
        upper.headers = ["X-HubSpot-Signature": "9569219F8BA981FFA6F6F16AA0F48637D35D728C7E4D93D0D52EFAA512AF7900",
            "X-HubSpot-Signature-Version": "v2"]
        #expect(v2.verify(upper, now: .now) == .accepted)
    }

    @Test func v2RejectsTampering() {
        let v2 = WebhookAuthentication.hubspotV2(secret: hubspotDocSecret)
        let signature = "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        let uri = "https://www.example.com/webhook_uri"
        let altered = Self.v2Request(method: "POST", uri: uri, body: #"{"example_field":"other"}"#, signature: signature)
        #expect(v2.verify(altered, now: .now) == .rejected(.badSignature))
        let wrongSecret = WebhookAuthentication.hubspotV2(secret: "wrong")
        let good = Self.v2Request(method: "POST", uri: uri, body: #"{"example_field":"example_value"}"#, signature: signature)
        #expect(wrongSecret.verify(good, now: .now) == .rejected(.badSignature))
        let missing = Self.v2Request(method: "POST", uri: uri, body: "{}", signature: nil)
        #expect(v2.verify(missing, now: .now) == .rejected(.missingSignature))
        let noVersion = Self.v2Request(method: "POST", uri: uri, body: "{}", signature: signature, version: nil)
        #expect(v2.verify(noVersion, now: .now) == .rejected(.unsupportedSignatureVersion))
    }

    @Test func v1AcceptsHubSpotsDocumentedExampleAndV2RefusesIt() {
        let signature = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        let delivery = Self.v2Request(
            method: "POST", uri: "https://lethe.example.com/webhooks/hubspot", body: hubspotDocBody,
            signature: signature, version: "v1")
        #expect(WebhookAuthentication.hubspotV1(secret: hubspotDocSecret).verify(delivery, now: .now) == .accepted)
        #expect(
            WebhookAuthentication.hubspotV2(secret: hubspotDocSecret).verify(delivery, now: .now)
                == .rejected(.unsupportedSignatureVersion))
    }

    @Test func descriptionNeverShowsTheSecret() {
        let auth = WebhookAuthentication.hubspotV3(secret: "s3cr3t-value")
        #expect(!"\(auth)".contains("s3cr3t"))
        #expect(!String(reflecting: auth).contains("s3cr3t"))
        var dumped = ""
        dump(auth, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
    }
}
