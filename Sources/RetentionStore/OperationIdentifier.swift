import Crypto
import Foundation
public import RetentionCore

/// Deterministic operation ids: the same (connector, record, rule, kind, cycle) always gives the same
/// id, so a decision taken twice queues once. The id reveals nothing about the record.
public enum OperationIdentifier {
    /// `round` counts how often the same decision was enforced before: a record restored after its
    /// destruction, or erased fields that hold values again, are a new round with an id of their own
    /// (round 0, the first, keeps the id it always had).
    public static func make(connector: String, recordID: String, operation: PlannedOperation, round: Int = 0) -> String {
        var identity = operation.identity(connector: connector, recordID: recordID)
        if round > 0 { identity += "\u{1F}round \(round)" }
        let digest = identity.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return "op-" + digest.prefix(12).hexString
    }

    /// The round `id` belongs to, among the first `limit` rounds of this decision; nil when none matches.
    public static func round(of id: String, connector: String, recordID: String, operation: PlannedOperation, limit: Int = 64) -> Int? {
        (0..<limit).first { make(connector: connector, recordID: recordID, operation: operation, round: $0) == id }
    }
}
