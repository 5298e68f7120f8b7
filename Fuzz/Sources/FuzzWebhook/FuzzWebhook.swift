// Webhook intake: a fuzzed delivery (method, URI, headers, body) checked by every signature scheme and read
// by every event format. Two oracles: the same delivery signed correctly by the target itself is accepted,
// and once its body changes by a byte it is rejected.
import Crypto
import Foundation
import FuzzSupport
import RetentionCore
import WebhookIntake

/// 2026-01-01T00:00:00Z: the fixed "now" of every check (the seeds' timestamps are this instant).
private let now = Date(timeIntervalSince1970: 1_767_225_600)
private let secret = "fuzz-webhook-secret"

private func scalar(_ text: String, _ key: String) -> ConfigNode {
    ConfigNode(value: .scalar(text), location: SourceLocation(file: "fuzz.yaml", line: 1), keyPath: "webhook.\(key)")
}

private func webhook(_ entries: [(String, String)], deleted: [String]? = nil) -> WebhookConfiguration {
    var mapping = entries.map { (key: $0.0, node: scalar($0.1, $0.0)) }
    if let deleted {
        let items = deleted.map { scalar($0, "deleted") }
        mapping.append((key: "deleted", node: ConfigNode(value: .sequence(items), location: nil, keyPath: "webhook.deleted")))
    }
    let node = ConfigNode(value: .mapping(mapping), location: SourceLocation(file: "fuzz.yaml", line: 1), keyPath: "webhook")
    do {
        return try WebhookConfiguration(config: node)
    } catch {
        fatalError("a fuzz webhook configuration is invalid: \(error.message)")
    }
}

private enum Signing: CaseIterable {
    case hubspotV3, hubspotV2, hubspotV1, hmacHex, hmacBase64Seconds, hmacHexMilliseconds, sharedSecret, basic
}

private let schemes: [(Signing, [(String, String)])] = [
    (.hubspotV3, [("scheme", "hubspot-v3"), ("secret", secret)]),
    (.hubspotV2, [("scheme", "hubspot-v2"), ("secret", secret)]),
    (.hubspotV1, [("scheme", "hubspot-v1"), ("secret", secret)]),
    (.hmacHex, [("scheme", "hmac-sha256"), ("secret", secret), ("header", "X-Signature"), ("prefix", "sha256=")]),
    (.hmacBase64Seconds, [
        ("scheme", "hmac-sha256"), ("secret", secret), ("header", "X-Signature"), ("encoding", "base64"),
        ("timestampHeader", "X-Timestamp"), ("maxAge", "5m"),
    ]),
    (.hmacHexMilliseconds, [
        ("scheme", "hmac-sha256"), ("secret", secret), ("header", "X-Signature"), ("timestampHeader", "X-Timestamp"),
        ("timestampUnit", "milliseconds"),
    ]),
    (.sharedSecret, [("scheme", "shared-secret"), ("secret", secret), ("header", "X-Token")]),
    (.basic, [("scheme", "basic"), ("username", "lethe"), ("password", secret)]),
]

private let formats: [[(String, String)]] = [
    [("format", "hubspot")],
    [("format", "hubspot"), ("objectType", "company")],
    [("format", "pipedrive")],
    [("format", "generic"), ("events", "data.events"), ("id", "object.id"), ("eventID", "id"), ("type", "type"), ("occurredAt", "at")],
    [("format", "generic"), ("id", "id"), ("occurredAt", "meta.time"), ("occurredAtUnit", "milliseconds")],
]

private let configurations: [(Signing, WebhookConfiguration)] = schemes.flatMap { signing, auth in
    formats.enumerated().map { index, format in
        (signing, webhook(auth + format, deleted: index == 3 ? ["deleted", "removed"] : nil))
    }
}

@_cdecl("FuzzWebhook_main")
public func fuzzWebhookMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzWebhook)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebhook(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let (signing, configuration) = input.pick(configurations)
    let delivery = Delivery(input.rest())
    let request = delivery.request()

    _ = configuration.authentication.verify(request, now: now)
    if let events = try? configuration.events.events(from: request.body) {
        for event in events {
            expect(!event.eventID.isEmpty, "an event has an id")
            expect(!event.recordID.isEmpty, "an event names a record")
        }
    }
    if let text = request.headers["X-Path"], let path = JSONPath(text), let json = try? JSONValue.parse(request.body) {
        _ = path.evaluate(json)
    }

    guard let signed = sign(delivery, signing) else { return 0 }
    let verdict = configuration.authentication.verify(signed, now: now)
    expect(verdict == .accepted, "a delivery signed for \(signing) is accepted, got \(verdict)")
    guard signing != .sharedSecret, signing != .basic else { return 0 }
    var tampered = signed
    tampered.body.append(UInt8(ascii: " "))
    expect(!configuration.authentication.verify(tampered, now: now).isAccepted, "a changed body is rejected (\(signing))")
    return 0
}

/// A fuzzed delivery: `METHOD URI` on the first line, `Name: value` header lines up to an empty line, then
/// the raw body.
private struct Delivery {
    var method = "POST"
    var uri = "https://lethe.example.com/webhooks/crm"
    var headers: [(name: String, value: String)] = []
    var body = Data()

    init(_ bytes: [UInt8]) {
        var head = bytes[...]
        if let blank = bytes.indices.first(where: { bytes[$0] == 0x0A && $0 + 1 < bytes.count && bytes[$0 + 1] == 0x0A }) {
            head = bytes[..<blank]
            body = Data(bytes[(blank + 2)...])
        }
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let requestLine = lines.first.map { $0.split(separator: " ", maxSplits: 1) } ?? []
        if let first = requestLine.first { method = String(first) }
        if requestLine.count > 1 { uri = String(requestLine[1]) }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            // As an HTTP server hands them over: without the spaces after the colon.
            let value = line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((name: String(line[..<colon]), value: String(value)))
        }
    }

    /// The request, with `first` before the fuzzed headers (a repeated header answers its first value).
    func request(first: [(name: String, value: String)] = []) -> WebhookRequest {
        WebhookRequest(method: method, uri: uri, headers: WebhookHeaders(first + headers), body: body)
    }
}

/// The delivery with the headers `signing` needs, computed here (not by WebhookIntake), placed first so
/// that they win over the fuzzed ones. Nil when the target cannot sign it independently (a HubSpot v3 URI
/// with percent escapes, which HubSpot partly decodes before signing).
private func sign(_ request: Delivery, _ signing: Signing) -> WebhookRequest? {
    let key = SymmetricKey(data: Data(secret.utf8))
    func hmac(_ message: Data) -> Data { Data(HMAC<SHA256>.authenticationCode(for: message, using: key)) }
    func hex(_ data: some Sequence<UInt8>) -> String { data.map { String(format: "%02x", $0) }.joined() }
    let milliseconds = "1767225600000"
    let seconds = "1767225600"
    let first: [(name: String, value: String)]
    switch signing {
    case .hubspotV3:
        guard !request.uri.contains("%") else { return nil }
        let message = Data((request.method + request.uri).utf8) + request.body + Data(milliseconds.utf8)
        first = [
            ("X-HubSpot-Signature-v3", hmac(message).base64EncodedString()),
            ("X-HubSpot-Request-Timestamp", milliseconds),
        ]
    case .hubspotV2, .hubspotV1:
        var source = Data(secret.utf8)
        if signing == .hubspotV2 { source += Data((request.method + request.uri).utf8) }
        source += request.body
        first = [
            ("X-HubSpot-Signature", hex(SHA256.hash(data: source))),
            ("X-HubSpot-Signature-Version", signing == .hubspotV2 ? "v2" : "v1"),
        ]
    case .hmacHex:
        first = [("X-Signature", "sha256=" + hex(hmac(request.body)))]
    case .hmacBase64Seconds:
        first = [
            ("X-Signature", hmac(Data((seconds + ".").utf8) + request.body).base64EncodedString()),
            ("X-Timestamp", seconds),
        ]
    case .hmacHexMilliseconds:
        first = [("X-Signature", hex(hmac(Data((milliseconds + ".").utf8) + request.body))), ("X-Timestamp", milliseconds)]
    case .sharedSecret:
        first = [("X-Token", secret)]
    case .basic:
        first = [("Authorization", "Basic " + Data("lethe:\(secret)".utf8).base64EncodedString())]
    }
    return request.request(first: first)
}
