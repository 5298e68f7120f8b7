import Crypto
public import Foundation
public import RetentionCore

/// Deterministic operation ids: the same (connector, record, rule, kind, cycle) always gives the same
/// id, so a decision taken twice queues once. The id is keyed by the installation's secret
/// (HMAC-SHA256 under a key of its own, derived from it): it stays in the permanent audit log after the
/// record is destroyed, and without the key nobody can test candidate record ids against it.
public struct OperationIdentifier: Sendable {
    private let key: Data

    /// From the installation's secret (the one that keys the references).
    public init(secret: Data) {
        let derived = HMAC<SHA256>.authenticationCode(for: Data("lethe operation ids".utf8), using: SymmetricKey(data: secret))
        key = Data(derived)
    }

    /// `round` counts how often the same decision was enforced before: a record restored after its
    /// destruction, or erased fields that hold values again, are a new round with an id of their own
    /// (round 0, the first, has none in its identity).
    public func make(connector: String, recordID: String, operation: PlannedOperation, round: Int = 0) -> String {
        let identity = Self.identity(connector: connector, recordID: recordID, operation: operation, round: round)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(identity.utf8), using: SymmetricKey(data: key))
        return "op-" + Data(mac).prefix(12).hexString
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
