import Crypto
public import Foundation
public import RetentionCore

/// Deterministic operation ids: the same (connector, record, rule, kind, cycle) always gives the same
/// id, so a decision taken twice queues once. The id is keyed by the installation's secret
/// (HMAC-SHA256 under a key of its own, derived from it): it stays in the permanent audit log after the
/// record is destroyed, and without the key nobody can test candidate record ids against it.
public struct OperationIdentifier: Sendable {
    /// The MAC with its key absorbed: each id copies it and feeds the identity alone (a sync makes an
    /// id for every decision, a million at a time). Never mutated in place: each use takes a copy.
    nonisolated(unsafe) private let keyed: HMAC<SHA256>

    /// From the installation's secret (the one that keys the references).
    public init(secret: Data) {
        let derived = HMAC<SHA256>.authenticationCode(for: Data("lethe operation ids".utf8), using: SymmetricKey(data: secret))
        keyed = HMAC<SHA256>(key: SymmetricKey(data: Data(derived)))
    }

    /// `round` counts how often the same decision was enforced before: a record restored after its
    /// destruction, or erased fields that hold values again, are a new round with an id of their own
    /// (round 0, the first, has none in its identity).
    public func make(connector: String, recordID: String, operation: PlannedOperation, round: Int = 0) -> String {
        var identity = Self.identity(connector: connector, recordID: recordID, operation: operation, round: round)
        var mac = keyed
        identity.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        return mac.finalize().withUnsafeBytes { Self.hexID($0.prefix(12)) }
    }

    /// `op-` and the bytes in lower-case hex, written at once.
    private static func hexID(_ bytes: UnsafeRawBufferPointer.SubSequence) -> String {
        String(unsafeUninitializedCapacity: 3 + 2 * bytes.count) { buffer in
            let digits: StaticString = "0123456789abcdef"
            buffer[0] = UInt8(ascii: "o")
            buffer[1] = UInt8(ascii: "p")
            buffer[2] = UInt8(ascii: "-")
            var position = 3
            for byte in bytes {
                buffer[position] = digits.utf8Start[Int(byte >> 4)]
                buffer[position + 1] = digits.utf8Start[Int(byte & 0x0F)]
                position += 2
            }
            return position
        }
    }

    /// The round `id` belongs to, among the first `limit` rounds of this decision; nil when none matches.
    public func round(of id: String, connector: String, recordID: String, operation: PlannedOperation, limit: Int = 64) -> Int? {
        (0..<limit).first { make(connector: connector, recordID: recordID, operation: operation, round: $0) == id }
    }

    /// The id earlier versions gave (an unkeyed SHA-256 of the same identity): the state's migration
    /// finds the round of an operation they queued with it.
    static func unkeyed(connector: String, recordID: String, operation: PlannedOperation, round: Int) -> String {
        let identity = identity(connector: connector, recordID: recordID, operation: operation, round: round)
        return "op-" + SHA256.hash(data: Data(identity.utf8)).prefix(12).hexString
    }

    private static func identity(connector: String, recordID: String, operation: PlannedOperation, round: Int) -> String {
        var identity = operation.identity(connector: connector, recordID: recordID)
        if round > 0 { identity += "\u{1F}round \(round)" }
        return identity
    }
}

/// What the webhook inbox keeps of a provider's event id: a keyed digest, enough to recognise a
/// replay and nothing more (some providers' event ids embed the record id).
package struct WebhookEventDigests: Sendable {
    private let key: Data

    package init(secret: Data) {
        key = Data(HMAC<SHA256>.authenticationCode(for: Data("lethe webhook events".utf8), using: SymmetricKey(data: secret)))
    }

    package func digest(connector: String, eventID: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(connector)\u{1F}\(eventID)".utf8), using: SymmetricKey(data: key))
        return "e-" + Data(mac).prefix(16).hexString
    }
}
